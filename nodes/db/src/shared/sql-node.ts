/**
 * The node core the SQL databases share (PostgreSQL, MySQL/MariaDB): one statement (optionally read-only), rows in
 * batches (insert/upsert), or a transaction of statements, on a pooled connection of the node's credential; failures
 * named with the server and the operation. A database plugs in its driver through `SqlDriver`.
 */
import { getProperty, NodeInputError, type BlobServices, type FlowMessage, type InputContext, type NodeCredential, type NodeInit, type NodeInstance, type PooledResource } from '@flowcrew/sdk';
import type { Param } from './params.ts';
import { rowSource } from './rows.ts';

export interface SqlProps {
  operation: 'query' | 'insert' | 'upsert' | 'transaction';
  sql?: string;
  params?: Param[];
  output: string;
  maxRows: number;
  pageSize: number;
  readOnly: boolean;
  table?: string;
  rowsFrom: string;
  batchSize: number;
  atomic: boolean;
  statements?: Array<{ sql: string; params?: Param[] }>;
}

/** A batch failed: what was written before it and what was not. Not retried: the same rows would fail again. */
export class BatchError extends Error {
  readonly retryable = false;
  constructor(
    message: string,
    readonly written: number,
    readonly failedBatch: number,
  ) {
    super(message);
    this.name = 'BatchError';
  }
}

export interface SqlDriver<P extends SqlProps, Pool, Conn, Fields extends Record<string, unknown>> {
  /** 'PostgreSQL', 'MySQL': how errors name the database. */
  label: string;
  describeServer(fields: Fields): string;
  pool(init: NodeInit<P>, credential: NodeCredential<Fields>): PooledResource<Pool>;
  /** Run `fn` on one connection of the pool; abort ends the statement on the server. */
  withConnection<R>(pool: Pool, fields: Fields, init: NodeInit<P>, signal: AbortSignal, fn: (conn: Conn) => Promise<R>): Promise<R>;
  execute(conn: Conn, sql: string): Promise<unknown>;
  begin: { readWrite: string; readOnly: string };
  paramValues(params: readonly Param[] | undefined, msg: FlowMessage, where?: string): unknown[];
  runStatement(conn: Conn, options: { sql: string; values: unknown[]; output: P['output']; maxRows: number; pageSize: number }, msg: FlowMessage, ctx: InputContext, blobs: BlobServices): Promise<FlowMessage | null>;
  /** One statement of a transaction, at most `limit` rows, as the transaction's result lists it. */
  transactionStep(conn: Conn, sql: string, values: unknown[], limit: number): Promise<{ more: boolean; result: Record<string, unknown> }>;
  /** Write the rows in batches; `tableCache` holds what the driver learnt about tables (per credential revision). */
  writeBatches(conn: Conn, p: P, tableCache: Map<string, unknown>, source: AsyncIterable<unknown[]>, signal: AbortSignal): Promise<unknown>;
  error(server: string, operation: string, cause: unknown): Error;
}

export function sqlNodeInstance<P extends SqlProps, Pool, Conn, Fields extends Record<string, unknown>>(driver: SqlDriver<P, Pool, Conn, Fields>, init: NodeInit<P>, p: P, credentialType: string): NodeInstance {
  const credential = init.credential as NodeCredential<Fields> | undefined;
  if (!credential) throw new Error(`needs a ${credentialType} credential`);
  const pool = driver.pool(init, credential);
  const blobs = init.services.blobs;
  // What the driver learnt about tables, per credential revision (another revision may be another database).
  let tableCache = new Map<string, unknown>();
  let cachedRevision = credential.revision;
  const what =
    p.operation === 'query' ? (p.output === 'rows' || p.output === 'first' ? 'query' : `paged query (${p.output})`) : p.operation === 'transaction' ? `transaction of ${p.statements?.length} statements` : `${p.operation} into ${p.table}`;
  return {
    async onInput(msg: FlowMessage, ctx: InputContext) {
      const fields = credential.fields;
      const server = driver.describeServer(fields);
      try {
        return await pool.use((value) =>
          driver.withConnection(value, fields, init, ctx.signal, async (conn) => {
            switch (p.operation) {
              case 'insert':
              case 'upsert': {
                const source = rowSource(getProperty(msg, p.rowsFrom), blobs, p.batchSize, `msg.${p.rowsFrom}`);
                if (cachedRevision !== credential.revision) {
                  tableCache = new Map();
                  cachedRevision = credential.revision;
                }
                return { ...msg, payload: await driver.writeBatches(conn, p, tableCache, source, ctx.signal) };
              }
              case 'transaction':
                return { ...msg, payload: await transaction(driver, conn, p, msg) };
              default: {
                const options = { sql: p.sql!, values: driver.paramValues(p.params, msg), output: p.output, maxRows: p.maxRows, pageSize: p.pageSize };
                if (!p.readOnly) return driver.runStatement(conn, options, msg, ctx, blobs);
                return inTransaction(driver, conn, driver.begin.readOnly, () => driver.runStatement(conn, options, msg, ctx, blobs));
              }
            }
          }),
        );
      } catch (error) {
        if (error instanceof NodeInputError || error instanceof BatchError) throw new NodeInputError(`${driver.label} ${server}: ${what}: ${error.message}`);
        throw driver.error(server, what, error);
      }
    },
    close() {
      pool.release();
    },
  };
}

async function inTransaction<R, Conn>(driver: { execute(conn: Conn, sql: string): Promise<unknown> }, conn: Conn, begin: string, fn: () => Promise<R>): Promise<R> {
  await driver.execute(conn, begin);
  try {
    const result = await fn();
    await driver.execute(conn, 'COMMIT');
    return result;
  } catch (error) {
    await driver.execute(conn, 'ROLLBACK').catch(() => undefined);
    throw error;
  }
}

async function transaction<P extends SqlProps, Conn>(driver: Pick<SqlDriver<P, unknown, Conn, Record<string, unknown>>, 'execute' | 'begin' | 'paramValues' | 'transactionStep'>, conn: Conn, p: P, msg: FlowMessage): Promise<unknown[]> {
  const statements = p.statements!.map((s, i) => ({ sql: s.sql, values: driver.paramValues(s.params, msg, `/statements/${i}/params`) }));
  return inTransaction(driver, conn, p.readOnly ? driver.begin.readOnly : driver.begin.readWrite, async () => {
    const results = [];
    for (const [i, s] of statements.entries()) {
      try {
        const step = await driver.transactionStep(conn, s.sql, s.values, p.maxRows);
        if (step.more) throw new NodeInputError(`returned more than ${p.maxRows} rows (maxRows)`);
        results.push(step.result);
      } catch (error) {
        // Keep the driver's error (its code, SQLSTATE, detail) and say which statement; the transaction is rolled back.
        const e = error as Error;
        e.message = `statement ${i + 1} of ${statements.length} failed, the transaction was rolled back: ${e.message}`;
        throw e;
      }
    }
    return results;
  });
}
