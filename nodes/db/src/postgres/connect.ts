/**
 * Connections to PostgreSQL: one pg.Pool per credential revision, shared by every node of every flow through the
 * runtime's pooled resources, and every socket opened through the outbound guard (the name is resolved and checked,
 * the socket goes to the checked address; TLS still verifies the name).
 */
import net from 'node:net';
import type pg from 'pg';
import { OutboundRefusedError, PooledResource, type NodeCredential, type OutboundServices, type RuntimeServices } from '@flowcrew/sdk';
import { loadPg, pgSync } from '../shared/libs.ts';

export interface PostgresFields extends Record<string, unknown> {
  host: string;
  port?: number;
  database: string;
  user: string;
  password?: string;
  ssl?: 'disable' | 'require' | 'verify-full';
  /** PEM certificate(s) of the CA that signed the server's certificate (verify-full). */
  ca?: string;
  applicationName?: string;
  maxConnections?: number;
  /** Server-side limit per statement, ms (0: none). */
  statementTimeoutMs?: number;
}

/** How to name the server in messages: never the password. */
export function describeServer(fields: PostgresFields): string {
  return `${fields.user}@${fields.host}:${fields.port ?? 5432}/${fields.database}`;
}

/**
 * A socket factory for pg: `connect(port, host)` first checks `host` with the outbound guard, then connects to the
 * address the guard returned (no second DNS lookup an attacker could answer differently).
 */
export function guardedStream(outbound: OutboundServices): () => net.Socket {
  return () => {
    const socket = new net.Socket();
    const connect = socket.connect.bind(socket) as (port: number, host: string) => net.Socket;
    (socket as unknown as { connect: (port: number, host: string) => net.Socket }).connect = (port, host) => {
      outbound.check(host, port).then(
        (target) => {
          const address = target.addresses[0];
          if (!address) socket.destroy(new OutboundRefusedError(`${host} resolved to no allowed address`));
          else connect(port, address.address);
        },
        (error: unknown) => socket.destroy(error as Error),
      );
      return socket;
    };
    return socket;
  };
}

export function clientConfig(fields: PostgresFields, outbound: OutboundServices): pg.ClientConfig {
  const ssl = fields.ssl ?? 'verify-full';
  return {
    host: fields.host,
    port: fields.port ?? 5432,
    database: fields.database,
    user: fields.user,
    password: fields.password ?? '',
    ssl: ssl === 'disable' ? false : ssl === 'require' ? { rejectUnauthorized: false } : { rejectUnauthorized: true, ...(fields.ca ? { ca: fields.ca } : {}) },
    application_name: fields.applicationName ?? 'flowcrew-db',
    connectionTimeoutMillis: 10_000,
    ...(fields.statementTimeoutMs ? { statement_timeout: fields.statementTimeoutMs } : {}),
    stream: guardedStream(outbound) as unknown as pg.ClientConfig['stream'],
  };
}

export async function openPool(fields: PostgresFields, services: Pick<RuntimeServices, 'outbound'>, log?: { warn(message: string): void }): Promise<pg.Pool> {
  const pg = await loadPg();
  const pool = new pg.Pool({ ...clientConfig(fields, services.outbound), max: fields.maxConnections ?? 10, idleTimeoutMillis: 30_000 });
  // An idle connection dropped by the server emits here; without a listener it would crash the runtime.
  pool.on('error', (error) => log?.warn(`PostgreSQL ${describeServer(fields)}: idle connection lost: ${error.message}`));
  return pool;
}

/** Connection-level errors: the same statement may work on another try. */
const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', '40001', '40P01', '55P03', '57P01', '57P02', '57P03', '53300']);

/** A failed database operation, naming the server and what was being done; SQL errors are not retried. */
export class PostgresError extends Error {
  readonly retryable: boolean;
  readonly code: string | undefined;

  constructor(server: string, operation: string, cause: unknown) {
    const e = cause as pg.DatabaseError & { code?: string; errors?: Error[] };
    const said = e?.message || e?.errors?.map((x) => x.message).join('; ') || String(cause);
    const extras = [e?.detail, e?.hint && `hint: ${e.hint}`, e?.position && `at character ${e.position}`, e?.code && /^[0-9A-Z]{5}$/.test(e.code) && `SQLSTATE ${e.code}`].filter(Boolean);
    super(`PostgreSQL ${server}: ${operation} failed: ${said}${extras.length ? ` (${extras.join('; ')})` : ''}`);
    this.name = 'PostgresError';
    this.code = e?.code;
    this.retryable = cause instanceof OutboundRefusedError ? false : e?.code !== undefined ? RETRYABLE_CODES.has(e.code) || e.code.startsWith('08') : /timeout|terminated|Connection terminated/i.test(said);
  }
}

/** The pool a node uses: the credential's, re-opened after the credential changes. */
export function poolHandle(services: RuntimeServices, credential: NodeCredential, log?: { warn(message: string): void }): PooledResource<pg.Pool> {
  return new PooledResource<pg.Pool>(
    services.resources,
    'db:postgres:pool',
    async () => openPool(credential.fields as PostgresFields, services, log),
    (pool) => pool.end(),
    {
      credential,
      // Nodes created per tool call come and go: keep the pool a while for the next call (undeploy closes it at once).
      idleMs: 10_000,
      // Idle connections the server dropped are replaced by pg itself; a pool that cannot run SELECT 1 is replaced.
      check: async (pool) => {
        if (pool.idleCount > 0) await pool.query('SELECT 1');
      },
    },
  );
}

/**
 * Run `fn` on a connection of the pool. When `signal` aborts (the run was cancelled or timed out), the connection
 * is destroyed, which ends the statement on the server too, and is not returned to the pool.
 */
export async function withClient<R>(pool: pg.Pool, signal: AbortSignal, fn: (client: pg.PoolClient) => Promise<R>): Promise<R> {
  if (signal.aborted) throw signal.reason as Error;
  const client = await pool.connect();
  // Destroying the socket on abort makes the client emit 'error' besides failing the statement; heard here, not fatal.
  const onError = () => undefined;
  client.on('error', onError);
  let broken: Error | undefined;
  let onAbort!: () => void;
  // Settles on abort even if the driver never calls back for the statement it was running: the client is released.
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      broken = (signal.reason as Error) ?? new Error('aborted');
      // The server does not notice a closed socket while a statement runs: ask it to cancel the statement too.
      cancelStatement(pool, client);
      (client as unknown as { connection?: { stream?: net.Socket } }).connection?.stream?.destroy();
      reject(broken);
    };
  });
  signal.addEventListener('abort', onAbort, { once: true });
  const work = fn(client);
  work.catch(() => undefined); // after an abort nobody waits for it any more
  try {
    return await Promise.race([work, aborted]);
  } catch (error) {
    // A connection left unusable (a lost socket, a protocol error) must not go back to the pool.
    const state = client as unknown as { _queryable?: boolean; _ending?: boolean };
    if (!broken && (state._queryable === false || state._ending)) broken = error as Error;
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
    // A broken client may still report its end: keep hearing it (an unheard 'error' would crash the runtime).
    if (!broken) client.off('error', onError);
    client.release(broken ?? false);
  }
}

/**
 * Send PostgreSQL's cancel request for the statement `client` is running: a short connection of its own (through the
 * outbound guard, like every connection) carrying the backend's id and secret key. Best effort.
 */
function cancelStatement(pool: pg.Pool, client: pg.PoolClient): void {
  const { processID, secretKey } = client as unknown as { processID?: number; secretKey?: number };
  if (processID === undefined || secretKey === undefined) return;
  const options = (pool as unknown as { options: pg.ClientConfig }).options;
  const connection = (new (pgSync().Client)(options) as unknown as { connection: CancelConnection }).connection;
  const done = setTimeout(() => connection.stream.destroy(), 5000);
  done.unref();
  connection.on('error', () => undefined);
  connection.once('connect', () => connection.cancel(processID, secretKey));
  connection.stream.once('close', () => clearTimeout(done));
  connection.connect(options.port ?? 5432, options.host ?? 'localhost');
}

interface CancelConnection {
  stream: net.Socket;
  on(event: 'error', listener: (error: Error) => void): void;
  once(event: 'connect', listener: () => void): void;
  connect(port: number, host: string): void;
  cancel(processID: number, secretKey: number): void;
}

/** A table name from props ('items', 'sales.items', 'Mixed Case') as a quoted SQL identifier. */
export function quoteTable(table: string): string {
  const parts = table.split('.');
  if (parts.length > 2 || parts.some((p) => p.length === 0)) throw new Error(`table "${table}" must be "name" or "schema.name"`);
  return parts.map((p) => pgSync().escapeIdentifier(p)).join('.');
}

export const quoteIdent = (name: string): string => pgSync().escapeIdentifier(name);
