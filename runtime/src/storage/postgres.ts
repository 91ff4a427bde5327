/** PostgreSQL storage: a pg Pool; each write batch is one transaction on one pooled client. */
import pg from 'pg';
import type { MessageLimits } from './types.ts';
import { SqlStorage, type Row, type SqlDriver, type SqlParam, type SqlStatement, type StatementResult } from './sql-storage.ts';
import { PreparedStatements, prepareModeFromEnv, quoteLiteral, type BatchText, type PrepareMode } from './pg-prepared.ts';
import { SessionSetup, toastCompressionFromEnv, type ToastCompression } from './pg-session.ts';
import { PipelinedBatch, singleCommand, type PipelineStep } from './pg-pipeline.ts';

export interface PostgresOptions {
  connectionString: string;
  /** Schema to use (created if missing) instead of the role's default search_path; tests use one per run. */
  schema?: string;
  /** Max pooled connections (reads run in parallel; writes use one at a time). */
  poolSize?: number;
  /** How long to wait for a new connection; default 10 s. */
  connectTimeoutMs?: number;
  /** Limits on stored messages (see SqlStorageOptions). */
  limits?: MessageLimits;
  /**
   * Recurring statements PREPAREd per connection (pg-prepared.ts); default from FLOWCREW_PG_PREPARE: `off` for a
   * pooler that does not keep prepared statements per client (PgBouncer transaction pooling before 1.21).
   */
  prepare?: PrepareMode;
  /** lz4 for long values where the server has it (pg-session.ts); default from FLOWCREW_PG_COMPRESSION. */
  compression?: ToastCompression;
}

/** application_name of a runtime's connections. */
export const RUNTIME_APPLICATION_NAME = 'flowcrew';

const INT8_OID = 20;
const CONVERSION_CACHE_SIZE = 1000;

/** BIGINT columns hold epoch ms and counters, all below 2^53: return them as numbers, not strings. */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** A text-format column's parser, as pg's own results use (the `types` above). */
const textParser = (oid: number) => types.getTypeParser(oid, 'text') as (value: string) => unknown;

export class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  readonly pool: pg.Pool;
  private readonly converted = new Map<string, string>();
  readonly prepared: PreparedStatements;
  readonly session: SessionSetup;

  constructor(private readonly options: PostgresOptions) {
    this.prepared = new PreparedStatements(options.prepare ?? prepareModeFromEnv(), (sql) => this.convert(sql), inlineParams);
    if (options.schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(options.schema)) {
      throw new Error(`Invalid PostgreSQL schema name "${options.schema}": use lower-case letters, digits and _.`);
    }
    // Each new connection's session settings, awaited by the pool before it hands the connection out (pg-session.ts;
    // a query issued from the pool's 'connect' event instead races the caller's first query, which pg deprecates).
    this.session = new SessionSetup(options.compression ?? toastCompressionFromEnv());
    this.pool = new pg.Pool({
      onConnect: (client) => this.session.onConnect(client),
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      // Fail instead of hanging forever when the server cannot be reached (pg's default is no timeout).
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      // How `flowcrew restore` (and a DBA reading pg_stat_activity) tells a running runtime's connections apart.
      application_name: RUNTIME_APPLICATION_NAME,
      types,
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    // An idle client can lose its connection (server restart); without a listener that would crash the process.
    // The pool drops the client and the next query opens a fresh connection.
    this.pool.on('error', (error) => {
      console.warn(`[flowcrew] PostgreSQL connection lost (${redact(options.connectionString)}): ${error.message}`);
    });
  }

  /** Checks the server is reachable (clear error otherwise) and creates the schema if one was given. */
  async connect(): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw new Error(`Cannot connect to PostgreSQL at ${redact(this.options.connectionString)}: ${describe(error)}`, {
        cause: error,
      });
    }
    try {
      if (this.options.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.options.schema}`);
    } finally {
      client.release();
    }
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async all(sql: string, params?: readonly SqlParam[]): Promise<Row[]> {
    // Reads stay unnamed: a queued run makes almost none (~0.01 per run in bench/queue.ts), so naming them
    // (parsed once per connection) was not worth pg's unbounded per-connection statement list (session 14).
    const result = await this.pool.query(this.convert(sql), params as unknown[] | undefined);
    return result.rows as Row[];
  }

  async get(sql: string, params?: readonly SqlParam[]): Promise<Row | undefined> {
    return (await this.all(sql, params))[0];
  }

  async writeBatch(statements: readonly SqlStatement[]): Promise<StatementResult[]> {
    if (statements.length === 0) return [];
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      try {
        return await this.runBatch(client, statements, false);
      } catch (error) {
        if (!lostPreparedStatement(error)) throw error;
        // The connection lost its prepared statements (DISCARD ALL by a pooler) or a table changed under one (a
        // migration by another process): the transaction rolled back, so the batch goes again inlined, and this
        // connection's statements are forgotten (and deallocated) to be prepared afresh.
        this.prepared.forget(client);
        await client.query('DEALLOCATE ALL').catch((lost: Error) => Promise.reject(Object.assign(lost, { brokenConnection: lost })));
        return await this.runBatch(client, statements, true);
      }
    } catch (error) {
      broken = (error as { brokenConnection?: Error }).brokenConnection;
      throw error;
    } finally {
      client.release(broken);
    }
  }

  private async runBatch(client: pg.PoolClient, statements: readonly SqlStatement[], inlineOnly: boolean): Promise<StatementResult[]> {
    // A statement with a client-side check (e.g. "this completion found its invocation still pending") must be able
    // to roll the batch back after its result is read: the transaction stays open for COMMIT. Without checks, the
    // COMMIT goes in the same message: ONE round trip for the whole write instead of three (BEGIN, batch, COMMIT).
    // Every process waits on these round trips in turn (a queued run crosses the main's and a worker's commits).
    const checked = statements.some((s) => s.check);
    // Recurring statements are prepared on this connection first (own round trips, once per connection), then run
    // by Bind of their values (pg-prepared.ts): no planning, and no literal to lex, per transaction.
    let texts: BatchText[];
    try {
      texts = inlineOnly ? statements.map((s) => ({ text: inlineParams(s.sql, s.params), prepared: false })) : await this.prepared.texts(client, statements);
    } catch (error) {
      // A PREPARE that failed without a server error code lost the connection: do not return it to the pool.
      if (typeof (error as { code?: unknown }).code !== 'string') Object.assign(error as object, { brokenConnection: error });
      throw error;
    }
    // With a statement prepared: the extended protocol, pipelined (pg-pipeline.ts), still ONE write and one round
    // trip; a text not prepared is parsed unnamed, unless it holds several commands (then all go inlined, below).
    const pipelined = texts.some((t) => t.prepared) && texts.every((t) => t.prepared || singleCommand(t.text));
    try {
      let results: StatementResult[];
      if (pipelined) {
        const steps: PipelineStep[] = [{ text: 'BEGIN' }];
        for (const t of texts) steps.push(t.prepared ? { statement: t.statement!, values: t.values! } : { text: t.text });
        if (!checked) steps.push({ text: 'COMMIT' });
        const answer = await PipelinedBatch.run(client as unknown as { query(batch: PipelinedBatch): unknown }, steps, textParser);
        results = answer.slice(1, 1 + statements.length).map((r) => ({ changes: r.rowCount, rows: r.rows }));
      } else {
        // The whole batch in ONE simple-query message: it takes several statements (and answers with one result
        // each) but no bind parameters, so values are inlined as literals by pg's own escaping. A
        // statement-per-round-trip batch costs a network round trip for each of ~13 statements per run.
        const inlined = texts.map((t, i) => (t.prepared ? inlineParams(statements[i]!.sql, statements[i]!.params) : t.text));
        const text = ['BEGIN', ...inlined, ...(checked ? [] : ['COMMIT'])].join(';\n');
        const answer = (await client.query(text)) as unknown as pg.QueryResult[];
        results = answer.slice(1, 1 + statements.length).map((r) => ({ changes: r.rowCount ?? 0, rows: r.rows as Row[] }));
      }
      if (checked) {
        statements.forEach((statement, i) => statement.check?.(results[i]!));
        await client.query('COMMIT');
      }
      return results;
    } catch (error) {
      try {
        // A failed statement leaves the message's transaction aborted (a failed COMMIT: none left; harmless).
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // connection unusable: destroy it rather than return it to the pool
        Object.assign(error as object, { brokenConnection: rollbackError as Error });
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** `?` → `$1, $2, ...` (outside quotes), cached per SQL text since the same statements recur constantly. */
  convert(sql: string): string {
    let out = this.converted.get(sql);
    if (out === undefined) {
      out = toNumberedPlaceholders(sql);
      if (this.converted.size >= CONVERSION_CACHE_SIZE) this.converted.clear();
      this.converted.set(sql, out);
    }
    return out;
  }
}

/**
 * Replace each `?` placeholder outside quotes with `replacement(index)`. Copies the text between placeholders as
 * slices: a concatenation per character made a string per character of every statement (the worker's and main's
 * largest source of garbage: issue 10, session 13).
 */
function replacePlaceholders(sql: string, replacement: (index: number) => string): string {
  let n = 0;
  let out = '';
  let from = 0;
  let quote = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql.charCodeAt(i);
    if (quote !== 0) {
      if (c === quote) quote = 0; // a doubled quote ('') just closes and reopens: same result
    } else if (c === 39 || c === 34) {
      quote = c; // ' or "
    } else if (c === 63) {
      out += sql.slice(from, i) + replacement(n++); // ?
      from = i + 1;
    }
  }
  return out + sql.slice(from);
}

export function toNumberedPlaceholders(sql: string): string {
  return replacePlaceholders(sql, (i) => `$${i + 1}`);
}

/** `?` → SQL literals: NULL, numbers as written, strings quoted as pg.escapeLiteral does (quoteLiteral). */
export function inlineParams(sql: string, params: readonly SqlParam[] = []): string {
  return replacePlaceholders(sql, (i) => {
    if (i >= params.length) throw new Error(`statement has more placeholders than parameters: ${sql}`);
    const value = params[i];
    if (value === null || value === undefined) return 'NULL';
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new Error(`cannot store the number ${value}`);
      return String(value);
    }
    return quoteLiteral(String(value));
  });
}

/** The URL without its password, for error messages and logs. */
export function redact(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(unparseable connection string)';
  }
}

/** "prepared statement does not exist" (26000) or "cached plan must not change result type" (0A000). */
function lostPreparedStatement(error: unknown): boolean {
  const e = error as { code?: string; message?: string; brokenConnection?: Error };
  if (e.brokenConnection) return false;
  return e.code === '26000' || (e.code === '0A000' && /cached plan must not change result type/.test(e.message ?? ''));
}

function describe(error: unknown): string {
  const e = error as { message?: string; code?: string; errors?: Array<{ message?: string }> };
  // Node's AggregateError (IPv4 + IPv6 both refused) has an empty message: show the inner ones.
  const message = e.message || e.errors?.map((x) => x.message).join('; ') || String(error);
  return e.code ? `${message} (${e.code})` : message;
}

/** A PostgreSQL-backed Storage, reachable and with its schema created (not migrated: call `migrate()`). */
export async function createPostgresStorage(options: PostgresOptions): Promise<SqlStorage> {
  const driver = new PostgresDriver(options);
  try {
    await driver.connect();
  } catch (error) {
    await driver.close().catch(() => {});
    throw error;
  }
  return new SqlStorage(driver, { flush: 'eager', limits: options.limits });
}
