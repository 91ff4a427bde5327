/**
 * Connections to RabbitMQ: one AMQP connection per credential revision, shared by every node of every flow through
 * the runtime's pooled resources (each node opens its own channels on it), and opened through the outbound guard.
 */
import type { ChannelModel } from 'amqplib';
import { PooledResource, type NodeCredential, type RuntimeServices } from '@flowcrew/sdk';
import { BrokerError } from '../shared/errors.ts';
import { loadAmqp } from '../shared/libs.ts';
import { guardedAddress, tlsOptions, type TlsMode } from '../shared/net.ts';

export interface RabbitFields extends Record<string, unknown> {
  host: string;
  port?: number;
  vhost?: string;
  user: string;
  password?: string;
  tls?: TlsMode;
  ca?: string;
  heartbeatSeconds?: number;
}

/** How to name the server in messages: never the password. */
export function describeRabbit(fields: RabbitFields): string {
  return `${fields.user}@${fields.host}:${fields.port ?? (fields.tls && fields.tls !== 'off' ? 5671 : 5672)}${fields.vhost && fields.vhost !== '/' ? `/${fields.vhost}` : ''}`;
}

export const rabbitError = (fields: RabbitFields, operation: string, cause: unknown) => new BrokerError('RabbitMQ', describeRabbit(fields), operation, cause);

/** A connection and whether it is still usable (set by its 'close' event: a broker restart, a forced close). */
export interface RabbitConnection {
  model: ChannelModel;
  closed: boolean;
  /** Why it closed, when the broker said. */
  closeError?: Error;
}

export async function openRabbit(fields: RabbitFields, services: Pick<RuntimeServices, 'outbound'>, log?: { warn(message: string): void }): Promise<RabbitConnection> {
  const secure = fields.tls !== undefined && fields.tls !== 'off';
  const port = fields.port ?? (secure ? 5671 : 5672);
  try {
    const { address, servername } = await guardedAddress(services.outbound, fields.host, port);
    const model = await (await loadAmqp()).connect(
      {
        protocol: secure ? 'amqps' : 'amqp',
        hostname: address,
        port,
        username: fields.user,
        password: fields.password ?? '',
        vhost: fields.vhost ?? '/',
        heartbeat: fields.heartbeatSeconds ?? 30,
      },
      { timeout: 10_000, clientProperties: { connection_name: 'flowcrew' }, ...tlsOptions(fields.tls, servername, fields.ca) },
    );
    const connection: RabbitConnection = { model, closed: false };
    // Without listeners an 'error' would crash the runtime; holders see `closed` and open a new one.
    model.on('error', (error: Error) => {
      connection.closeError = error;
    });
    model.on('close', (error?: Error) => {
      connection.closed = true;
      if (error) {
        connection.closeError = error;
        log?.warn(`RabbitMQ ${describeRabbit(fields)}: connection closed: ${error.message}`);
      }
    });
    return connection;
  } catch (error) {
    throw rabbitError(fields, 'connect', error);
  }
}

export async function closeRabbit(connection: RabbitConnection): Promise<void> {
  if (connection.closed) return;
  await connection.model.close().catch(() => undefined);
}

/** The connection a node uses: the credential's, re-opened after the credential changes or the connection drops. */
export function rabbitHandle(services: RuntimeServices, credential: NodeCredential, log?: { warn(message: string): void }): PooledResource<RabbitConnection> {
  return new PooledResource<RabbitConnection>(services.resources, 'mq:rabbitmq:connection', async () => openRabbit(credential.fields as RabbitFields, services, log), closeRabbit, {
    credential,
    // Nodes created per tool call come and go: keep the connection a while for the next call (undeploy closes it at once).
    idleMs: 10_000,
    checkIntervalMs: 5_000,
    check: (connection) => !connection.closed,
  });
}

/** The current open connection of `handle`, replacing one that closed since. */
export async function liveConnection(handle: PooledResource<RabbitConnection>): Promise<RabbitConnection> {
  let lease = await handle.current();
  if (lease.value.closed) {
    handle.discard();
    lease = await handle.current();
  }
  return lease.value;
}
