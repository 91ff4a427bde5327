/**
 * Connections to MySQL and MariaDB (mysql2): one pool per credential revision, shared by every node of every flow
 * through the runtime's pooled resources; every socket opened through the outbound guard.
 */
import type mysql from 'mysql2/promise';
import type { Pool, PoolConnection } from 'mysql2/promise';
import { OutboundRefusedError, PooledResource, type NodeCredential, type RuntimeServices } from '@flowcrew/sdk';
import { guardedSocket } from '../shared/guarded-socket.ts';
import { loadMysql, mysqlSync } from '../shared/libs.ts';

export interface MysqlFields extends Record<string, unknown> {
  host: string;
  port?: number;
  database?: string;
  user: string;
  password?: string;
  ssl?: 'disable' | 'require' | 'verify-full';
  ca?: string;
  maxConnections?: number;
  connectTimeoutMs?: number;
}

export const DEFAULT_PORT = 3306;

/** How to name the server in messages: never the password. */
export function describeServer(fields: MysqlFields): string {
  return `${fields.user}@${fields.host}:${fields.port ?? DEFAULT_PORT}${fields.database ? `/${fields.database}` : ''}`;
}

export function connectionOptions(fields: MysqlFields, services: Pick<RuntimeServices, 'outbound'>): mysql.ConnectionOptions {
  const ssl = fields.ssl ?? 'verify-full';
  const port = fields.port ?? DEFAULT_PORT;
  const connectTimeout = fields.connectTimeoutMs ?? 10_000;
  return {
    host: fields.host,
    port,
    user: fields.user,
    password: fields.password ?? '',
    ...(fields.database ? { database: fields.database } : {}),
    ssl: ssl === 'disable' ? undefined : ssl === 'require' ? { rejectUnauthorized: false } : { rejectUnauthorized: true, ...(fields.ca ? { ca: fields.ca } : {}) },
    connectTimeout,
    // Exact values: BIGINT and DECIMAL as strings rather than rounded JS numbers; dates as the server sends them.
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    // Prepared statements are cached per connection; the server allows ~16k in all, so keep each connection's few.
    maxPreparedStatements: 256,
    stream: () => guardedSocket(services.outbound, fields.host, port, connectTimeout),
  } as mysql.ConnectionOptions;
}

export async function openPool(fields: MysqlFields, services: Pick<RuntimeServices, 'outbound'>): Promise<Pool> {
  return (await loadMysql()).createPool({ ...connectionOptions(fields, services), connectionLimit: fields.maxConnections ?? 10, maxIdle: 2, idleTimeout: 30_000, enableKeepAlive: true });
}

/** Connection-level failures: the same statement may work on another try. Server errors (SQL) are not retried. */
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'PROTOCOL_CONNECTION_LOST', 'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN']);

/** A failed MySQL/MariaDB operation, naming the server, what was being done and what the server said. */
export class MysqlError extends Error {
  readonly retryable: boolean;
  readonly code: string | undefined;

  constructor(server: string, operation: string, cause: unknown) {
    const e = cause as { message?: string; code?: string; errno?: number; sqlState?: string; errors?: Error[] };
    const said = e?.message || e?.errors?.map((x) => x.message).join('; ') || e?.code || String(cause);
    const extras = [e?.code && !said.includes(e.code) && e.code, e?.sqlState && `SQLSTATE ${e.sqlState}`].filter(Boolean);
    super(`MySQL ${server}: ${operation} failed: ${said}${extras.length ? ` (${extras.join('; ')})` : ''}`);
    this.name = 'MysqlError';
    this.code = e?.code;
    this.retryable = cause instanceof OutboundRefusedError ? false : e?.code !== undefined ? RETRYABLE.has(e.code) : /timed out|closed/i.test(said);
  }
}

/** The pool a node uses: the credential's, opened again after the credential changes. */
export function poolHandle(services: RuntimeServices, credential: NodeCredential): PooledResource<Pool> {
  return new PooledResource<Pool>(services.resources, 'db:mysql:pool', async () => openPool(credential.fields as MysqlFields, services), (pool) => pool.end(), {
    credential,
    idleMs: 10_000,
    check: async (pool) => {
      await pool.query('SELECT 1');
    },
  });
}

/**
 * Run `fn` on a connection of the pool. When `signal` aborts, the server is told to stop the statement (KILL QUERY
 * on a short connection of its own) and the connection is destroyed instead of going back to the pool.
 */
export async function withConnection<R>(pool: Pool, fields: MysqlFields, services: Pick<RuntimeServices, 'outbound'>, signal: AbortSignal, fn: (conn: PoolConnection) => Promise<R>): Promise<R> {
  if (signal.aborted) throw signal.reason as Error;
  const conn = await pool.getConnection();
  let broken = false;
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      broken = true;
      void killQuery(fields, services, conn.threadId);
      conn.destroy();
      reject((signal.reason as Error) ?? new Error('aborted'));
    };
  });
  signal.addEventListener('abort', onAbort, { once: true });
  const work = fn(conn);
  work.catch(() => undefined); // after an abort nobody waits for it
  try {
    return await Promise.race([work, aborted]);
  } catch (error) {
    // A lost connection must not go back to the pool.
    if ((error as { fatal?: boolean }).fatal) broken = true;
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
    // A result read only in part (maxRows, first) leaves rows on the wire: that connection cannot be reused.
    if (broken || (conn as unknown as { unfinishedResult?: boolean }).unfinishedResult) conn.destroy();
    else conn.release();
  }
}

/** Stop the statement a connection runs: the server does not notice a closed socket until it writes. Best effort. */
async function killQuery(fields: MysqlFields, services: Pick<RuntimeServices, 'outbound'>, threadId: number): Promise<void> {
  let killer: mysql.Connection | undefined;
  try {
    killer = await (await loadMysql()).createConnection({ ...connectionOptions(fields, services), connectTimeout: 5000 });
    await killer.query(`KILL QUERY ${Number(threadId)}`);
  } catch {
    /* the statement ends when the server next writes to the closed socket */
  } finally {
    await killer?.end().catch(() => killer?.destroy());
  }
}

/** A table name from props ('items' or 'db.items') as a quoted identifier. */
export function quoteTable(table: string): string {
  const parts = table.split('.');
  if (parts.length > 2 || parts.some((p) => p.length === 0)) throw new Error(`table "${table}" must be "name" or "database.name"`);
  return parts.map((p) => mysqlSync().escapeId(p)).join('.');
}

export const quoteIdent = (name: string): string => mysqlSync().escapeId(name);
