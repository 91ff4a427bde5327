/**
 * Connections through ODBC (the `odbc` package over unixODBC): any database with an ODBC driver registered in
 * odbcinst.ini. One pool per credential revision, shared by every node. The driver opens its own sockets, so the
 * host is checked by the outbound guard first and the driver is given the checked address (Server=), not the name.
 */
import type odbc from 'odbc';
import { OutboundRefusedError, PooledResource, type NodeCredential, type RuntimeServices } from '@flowcrew/sdk';
import { checkedAddress } from '../shared/guarded-socket.ts';

export interface OdbcFields extends Record<string, unknown> {
  /** The driver's name in odbcinst.ini, e.g. "PostgreSQL Unicode" or "MariaDB Unicode". */
  driver: string;
  host: string;
  port: number;
  database?: string;
  user?: string;
  password?: string;
  /** More connection string attributes for the driver (SSLMode, Option...). */
  attributes?: Record<string, string>;
  maxConnections?: number;
  loginTimeoutSeconds?: number;
}

/**
 * The odbc package, loaded when first used: it is an optional dependency (its native build needs unixODBC's
 * headers), so the pack's other nodes load without it.
 */
export async function loadOdbc(): Promise<typeof odbc> {
  try {
    return ((await import('odbc')) as unknown as { default: typeof odbc }).default;
  } catch (error) {
    throw new Error(`the odbc package is not available (${(error as Error).message}): install unixODBC's headers (apt install unixodbc-dev, or scripts/services odbc), then npm rebuild odbc`);
  }
}

export function describeServer(fields: OdbcFields): string {
  return `${fields.user ? `${fields.user}@` : ''}${fields.host}:${fields.port}${fields.database ? `/${fields.database}` : ''} (${fields.driver})`;
}

/** A connection string value: braced when it holds ; { } or spaces at the ends, with } doubled (ODBC's quoting). */
function value(v: string): string {
  return /[;{}]|^\s|\s$/.test(v) ? `{${v.replace(/}/g, '}}')}}` : v;
}

export async function connectionString(fields: OdbcFields, services: Pick<RuntimeServices, 'outbound'>): Promise<string> {
  const address = await checkedAddress(services.outbound, fields.host, fields.port);
  const parts: Record<string, string | undefined> = { Driver: fields.driver, Server: address, Port: String(fields.port), Database: fields.database, Uid: fields.user, Pwd: fields.password, ...fields.attributes };
  for (const key of Object.keys(parts)) if (!/^[A-Za-z][\w ]*$/.test(key)) throw new Error(`connection attribute "${key}" is not a valid name`);
  return Object.entries(parts)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${value(v!)}`)
    .join(';');
}

/** A failed ODBC operation, naming the server, the operation and what the driver/server said (with SQLSTATE). */
/**
 * What the driver said, on one line with the SQLSTATE. Drivers write multi-line messages and add generic ones
 * ("Error while executing the query"): the server's words are kept, the generic lines dropped.
 */
export function driverSaid(cause: unknown): string {
  const e = cause as { message?: string; odbcErrors?: Array<{ message: string; state: string; code: number }> };
  const first = e?.odbcErrors?.[0];
  if (!first) return e?.message || String(cause);
  return `${first.message.split('\n').map((l) => l.trim()).filter((l) => l && !/^Error while executing the query/.test(l)).join(' ').replace(/;$/, '')} (SQLSTATE ${first.state})`;
}

export class OdbcError extends Error {
  readonly retryable: boolean;
  readonly state: string | undefined;
  constructor(server: string, operation: string, cause: unknown) {
    const e = cause as { odbcErrors?: Array<{ state: string }> };
    super(`ODBC ${server}: ${operation} failed: ${driverSaid(cause)}`);
    this.name = 'OdbcError';
    this.state = e?.odbcErrors?.[0]?.state;
    // SQLSTATE class 08: connection exceptions (and HYT00/HYT01 timeouts) may work on another try.
    this.retryable = !(cause instanceof OutboundRefusedError) && (this.state?.startsWith('08') || this.state === 'HYT00' || this.state === 'HYT01' || false);
  }
}

export function poolHandle(services: RuntimeServices, credential: NodeCredential): PooledResource<odbc.Pool> {
  return new PooledResource<odbc.Pool>(
    services.resources,
    'db:odbc:pool',
    async () => {
      const fields = credential.fields as OdbcFields;
      const odbc = await loadOdbc();
      const pool = await odbc.pool({ connectionString: await connectionString(fields, services), initialSize: 1, incrementSize: 1, maxSize: fields.maxConnections ?? 5, shrink: true, loginTimeout: fields.loginTimeoutSeconds ?? 10, connectionTimeout: 0 });
      countFailedAttempts(pool);
      return pool;
    },
    (pool) => closePool(pool, (credential.fields as OdbcFields).loginTimeoutSeconds ?? 10),
    { credential, idleMs: 10_000 },
  );
}

/** The parts of odbc's Pool (lib/Pool.js, 2.x) that closing it completely needs; not in its typings. */
interface PoolInternals {
  freeConnections: Array<{ nativeClose(callback: (error: unknown) => void): void }>;
  connectionsBeingCreatedCount: number;
  connectionEmitter: NodeJS.EventEmitter;
}

/**
 * odbc's pool counts a connection being opened until it opens, and never takes a failed one off the count: after the
 * database refused one (down, restarting), the pool believed a connection was still coming, grew less than the work
 * asked, and closing it waited for that connection until the login timeout. Each attempt ends in exactly one
 * 'connected' or 'connectionError' event, so the count is lowered on the error here.
 */
export function countFailedAttempts(pool: odbc.Pool): void {
  const internals = pool as unknown as PoolInternals;
  internals.connectionEmitter.on('connectionError', () => {
    internals.connectionsBeingCreatedCount = Math.max(0, internals.connectionsBeingCreatedCount - 1);
  });
}

/**
 * Closes a pool and every connection it gets afterwards. odbc's Pool.close() closes only the idle connections: one
 * still being opened when it is called (the pool grows one at a time, behind the work that asked for it) lands in the
 * closed pool's free list and stays open on the server until the process ends; seen under load in CI.
 */
export async function closePool(pool: odbc.Pool, loginTimeoutSeconds: number): Promise<void> {
  const internals = pool as unknown as PoolInternals;
  const closing: Array<Promise<void>> = [];
  const closeArrivals = () => {
    for (const connection of internals.freeConnections.splice(0)) closing.push(new Promise((resolve) => connection.nativeClose(() => resolve())));
  };
  // Registered after the pool's own listener, which puts a new or returned connection in the free list.
  internals.connectionEmitter.on('connected', closeArrivals);
  await pool.close();
  // Bounded by the login timeout: an attempt still hanging ends by then.
  const until = Date.now() + loginTimeoutSeconds * 1000 + 1000;
  while (internals.connectionsBeingCreatedCount > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
  closeArrivals();
  await Promise.all(closing);
}

/** Values the ODBC driver returns that JSON cannot carry: BIGINT as a number when exact, else as a string. */
export function plainRow(row: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(row)) {
    if (typeof v === 'bigint') row[k] = v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  }
  return row;
}
