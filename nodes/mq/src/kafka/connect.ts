/**
 * Kafka clients (@platformatic/kafka): producers shared per credential revision through the runtime's pooled
 * resources; each consume trigger has its own consumer (its own group membership). The bootstrap brokers are checked
 * by the outbound guard and dialled at the checked address. Limitation: the brokers the cluster advertises in its
 * metadata (where the client then connects) are not re-checked by the guard; the client library offers no socket hook.
 */
import type { Producer, ProducerOptions } from '@platformatic/kafka';
import { OutboundRefusedError, PooledResource, type NodeCredential, type RuntimeServices } from '@flowcrew/sdk';
import { BrokerError } from '../shared/errors.ts';
import { loadKafka } from '../shared/libs.ts';
import { guardedAddress, tlsOptions, type TlsMode } from '../shared/net.ts';

export interface KafkaFields extends Record<string, unknown> {
  /** host:port, one or more. */
  brokers: string[];
  saslMechanism?: 'none' | 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  user?: string;
  password?: string;
  tls?: TlsMode;
  ca?: string;
  clientId?: string;
}

export function describeKafka(fields: KafkaFields): string {
  return `${fields.user && fields.saslMechanism && fields.saslMechanism !== 'none' ? `${fields.user}@` : ''}${fields.brokers.join(',')}`;
}

export const kafkaError = (fields: KafkaFields, operation: string, cause: unknown) => new BrokerError('Kafka', describeKafka(fields), operation, cause);

/** Options every client of the credential shares: checked bootstrap addresses, SASL, TLS, time-outs. */
export async function clientOptions(fields: KafkaFields, services: Pick<RuntimeServices, 'outbound'>) {
  const brokers: string[] = [];
  let servername = '';
  for (const broker of fields.brokers) {
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(broker.trim());
    if (!m) throw new Error(`broker "${broker}" must be host:port`);
    const { address } = await guardedAddress(services.outbound, m[1]!, Number(m[2]));
    servername ||= m[1]!;
    brokers.push(address.includes(':') ? `[${address}]:${m[2]}` : `${address}:${m[2]}`);
  }
  const tls = tlsOptions(fields.tls, servername, fields.ca);
  return {
    clientId: fields.clientId || 'flowcrew',
    bootstrapBrokers: brokers,
    connectTimeout: 10_000,
    requestTimeout: 30_000,
    retries: 3,
    ...(tls ? { tls, tlsServerName: servername } : {}),
    ...(fields.saslMechanism && fields.saslMechanism !== 'none' ? { sasl: { mechanism: fields.saslMechanism, username: fields.user ?? '', password: fields.password ?? '' } } : {}),
  };
}

/**
 * The brokers the cluster advertises (its metadata) are where a client connects after the bootstrap brokers, on
 * sockets the library opens itself (no hook to route them through the guard): each is checked by the outbound guard
 * before the client is used, and a refused one refuses the client. Checked when a client opens: a broker that joins
 * the cluster later is connected to unchecked until the next open (a credential edit, a redeploy, a restart).
 */
export async function checkAdvertisedBrokers(brokers: Iterable<{ host: string; port: number }>, services: Pick<RuntimeServices, 'outbound'>): Promise<void> {
  for (const broker of brokers) {
    try {
      await services.outbound.check(broker.host, broker.port);
    } catch (error) {
      throw new OutboundRefusedError(`the cluster advertises broker ${broker.host}:${broker.port}, which the outbound guard refuses (${(error as Error).message}); allow it, or correct the brokers' advertised.listeners`);
    }
  }
}

/** A client whose cluster's advertised brokers passed the guard (see checkAdvertisedBrokers); closed when refused. */
export async function checkedClient<C extends { metadata(options: { topics: string[] }): Promise<{ brokers: Map<number, { host: string; port: number }> }>; close(force?: boolean): Promise<void> }>(client: C, services: Pick<RuntimeServices, 'outbound'>): Promise<C> {
  try {
    await checkAdvertisedBrokers((await client.metadata({ topics: [] })).brokers.values(), services);
    return client;
  } catch (error) {
    await client.close(true).catch(() => undefined);
    throw error;
  }
}

export async function openProducer(fields: KafkaFields, services: Pick<RuntimeServices, 'outbound'>): Promise<Producer> {
  try {
    // acks -1: a send resolves once every in-sync replica has the records.
    return await checkedClient(new (await loadKafka()).Producer({ ...(await clientOptions(fields, services)), acks: -1 } as ProducerOptions<Buffer, Buffer, Buffer, Buffer>), services);
  } catch (error) {
    throw kafkaError(fields, 'connect', error);
  }
}

export function producerHandle(services: RuntimeServices, credential: NodeCredential): PooledResource<Producer> {
  return new PooledResource<Producer>(services.resources, 'mq:kafka:producer', () => openProducer(credential.fields as KafkaFields, services), (p) => p.close(true), {
    credential,
    idleMs: 10_000,
  });
}
