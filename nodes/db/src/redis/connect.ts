/**
 * Connections to Redis (ioredis): one client per credential revision for commands (Redis pipelines every command on
 * one connection, so a pool of one is shared by every node of every flow), and dedicated connections for what
 * blocks a connection (stream consumers). The host is checked by the outbound guard and the client connects to the
 * checked address; TLS still verifies the name.
 */
import type { Redis, RedisOptions } from 'ioredis';
import { OutboundRefusedError, PooledResource, type NodeCredential, type RuntimeServices } from '@flowcrew/sdk';
import { checkedAddress } from '../shared/guarded-socket.ts';
import { loadIoredis } from '../shared/libs.ts';

export interface RedisFields extends Record<string, unknown> {
  host: string;
  port?: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: 'disable' | 'require' | 'verify-full';
  ca?: string;
  /** CLIENT SETNAME of every connection (seen in CLIENT LIST). */
  connectionName?: string;
  commandTimeoutMs?: number;
}

export const DEFAULT_PORT = 6379;

export function describeServer(fields: RedisFields): string {
  return `${fields.username ? `${fields.username}@` : ''}${fields.host}:${fields.port ?? DEFAULT_PORT}/${fields.db ?? 0}`;
}

/**
 * Open a client and wait until it is ready. `blocking`: a connection for blocking reads (no command timeout, no
 * offline queue). A failed first connect rejects (instead of retrying forever in the background).
 */
export async function openClient(fields: RedisFields, services: Pick<RuntimeServices, 'outbound'>, options: { blocking?: boolean; name?: string } = {}): Promise<Redis> {
  const port = fields.port ?? DEFAULT_PORT;
  const address = await checkedAddress(services.outbound, fields.host, port);
  const tls = fields.tls ?? 'disable';
  const redisOptions: RedisOptions = {
    host: address,
    port,
    username: fields.username || undefined,
    password: fields.password || undefined,
    db: fields.db ?? 0,
    connectionName: options.name ?? fields.connectionName ?? 'flowcrew-db',
    connectTimeout: 10_000,
    commandTimeout: options.blocking ? undefined : (fields.commandTimeoutMs ?? 30_000),
    maxRetriesPerRequest: options.blocking ? 0 : 2,
    lazyConnect: true,
    // Reconnect with backoff after a drop; commands issued meanwhile wait (bounded by maxRetriesPerRequest).
    retryStrategy: (times) => Math.min(times * 200, 5000),
    ...(tls === 'disable' ? {} : { tls: { servername: fields.host, rejectUnauthorized: tls === 'verify-full', ...(fields.ca ? { ca: fields.ca } : {}) } }),
  };
  const client = new (await loadIoredis())(redisOptions);
  // An 'error' without a listener would crash the runtime; later connection errors surface on the commands.
  let cause: Error | undefined;
  client.on('error', (error: Error) => (cause ??= error));
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    // connect() only says "Connection is closed."; the event said why (ECONNREFUSED, WRONGPASS...).
    throw cause ?? error;
  }
  return client;
}

/** A failed Redis operation, naming the server, what was being done and what Redis said. */
export class RedisError extends Error {
  readonly retryable: boolean;
  constructor(server: string, operation: string, cause: unknown) {
    const e = cause as { message?: string; code?: string };
    const said = e?.message || String(cause);
    super(`Redis ${server}: ${operation} failed: ${said}`);
    this.name = 'RedisError';
    // A reply error (WRONGTYPE, NOAUTH, a syntax error) fails the same way again; a lost connection may not.
    this.retryable = !(cause instanceof OutboundRefusedError) && e?.constructor?.name !== 'ReplyError' && !/^(WRONGPASS|NOAUTH|WRONGTYPE|ERR|NOPERM)/.test(said);
  }
}

/** The shared command client of a credential. */
export function clientHandle(services: RuntimeServices, credential: NodeCredential): PooledResource<Redis> {
  return new PooledResource<Redis>(services.resources, 'db:redis:client', async () => openClient(credential.fields as RedisFields, services), (client) => void client.quit().catch(() => client.disconnect()), {
    credential,
    idleMs: 10_000,
    check: async (client) => {
      await client.ping();
    },
  });
}
