/**
 * Connections to NATS: one per credential revision, shared by every node of every flow through the runtime's pooled
 * resources (NATS multiplexes publishers, requests and JetStream consumers on one connection). The server's address
 * is checked by the outbound guard; the cluster addresses a server advertises are ignored (they were not checked).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { PooledResource, type NodeCredential, type RuntimeServices } from '@flowcrew/sdk';
import { BrokerError } from '../shared/errors.ts';
import { loadNats } from '../shared/libs.ts';
import { guardedAddress, tlsOptions, type TlsMode } from '../shared/net.ts';

export interface NatsFields extends Record<string, unknown> {
  host: string;
  port?: number;
  user?: string;
  password?: string;
  token?: string;
  tls?: TlsMode;
  ca?: string;
}

export function describeNats(fields: NatsFields): string {
  return `${fields.user ? `${fields.user}@` : ''}${fields.host}:${fields.port ?? 4222}`;
}

export const natsError = (fields: NatsFields, operation: string, cause: unknown) => new BrokerError('NATS', describeNats(fields), operation, cause);

export interface NatsHandle {
  nc: NatsConnection;
  closed: boolean;
}

export async function openNats(fields: NatsFields, services: Pick<RuntimeServices, 'outbound'>, log?: { warn(message: string): void }): Promise<NatsHandle> {
  const port = fields.port ?? 4222;
  try {
    const { address, servername } = await guardedAddress(services.outbound, fields.host, port);
    const tls = tlsOptions(fields.tls, servername, fields.ca);
    const nc = await (await loadNats()).connect({
      servers: address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`,
      ...(fields.user ? { user: fields.user, pass: fields.password ?? '' } : {}),
      ...(fields.token ? { token: fields.token } : {}),
      ...(tls ? { tls } : {}),
      name: 'flowcrew',
      timeout: 10_000,
      ignoreClusterUpdates: true,
      maxReconnectAttempts: 10,
    });
    const handle: NatsHandle = { nc, closed: false };
    void nc.closed().then((error) => {
      handle.closed = true;
      if (error) log?.warn(`NATS ${describeNats(fields)}: connection closed: ${error.message}`);
    });
    return handle;
  } catch (error) {
    throw natsError(fields, 'connect', error);
  }
}

export async function closeNats(handle: NatsHandle): Promise<void> {
  if (!handle.closed) await handle.nc.close().catch(() => undefined);
}

export function natsHandle(services: RuntimeServices, credential: NodeCredential, log?: { warn(message: string): void }): PooledResource<NatsHandle> {
  return new PooledResource<NatsHandle>(services.resources, 'mq:nats:connection', () => openNats(credential.fields as NatsFields, services, log), closeNats, {
    credential,
    idleMs: 10_000,
    checkIntervalMs: 5_000,
    check: (h) => !h.closed,
  });
}

export async function liveNats(handle: PooledResource<NatsHandle>): Promise<NatsHandle> {
  let lease = await handle.current();
  if (lease.value.closed) {
    handle.discard();
    lease = await handle.current();
  }
  return lease.value;
}
