/**
 * Batch insert and upsert on MySQL/MariaDB: rows (an array, or a JSON Lines blob for sets too large to hold) written
 * as multi-row `INSERT ... VALUES (?, ?), (?, ?)` prepared statements of `batchSize` rows; upsert adds
 * `ON DUPLICATE KEY UPDATE`. One statement is all-or-nothing on InnoDB, so a failed batch wrote none of its rows.
 *
 * atomic (default): every batch in one transaction: a failure writes nothing. Otherwise each batch commits on its
 * own: a failure leaves the earlier batches written, and the error says exactly which rows were and were not.
 */
import type { ExecuteValues, PoolConnection, ResultSetHeader } from 'mysql2/promise';
import { NodeInputError } from '@flowcrew/sdk';
import { jsonEncoded } from '../shared/params.ts';
import { quoteIdent, quoteTable } from './connect.ts';
import { BatchError } from '../shared/sql-node.ts';

export interface BatchOptions {
  table: string;
  mode: 'insert' | 'upsert';
  /** Columns to write; default: the keys of the first batch's rows. */
  columns?: string[];
  /** Upsert: columns updated when a row's unique key exists (default: every written column not in a unique key). */
  updateColumns?: string[];
  batchSize: number;
  atomic: boolean;
  /** Table layouts seen, kept by the node between messages; looked up again when a column seems missing. */
  tableCache?: Map<string, TableInfo>;
}

export interface BatchResult {
  table: string;
  operation: 'insert' | 'upsert';
  /** Rows of the batches that succeeded. */
  rowsWritten: number;
  rowsSent: number;
  batches: number;
  /** As the server counts it: an upsert counts 1 per inserted row, 2 per updated row, 0 per unchanged row. */
  affectedRows: number;
}

export interface TableInfo {
  columns: Set<string>;
  /** Columns in a PRIMARY KEY or UNIQUE index: an upsert does not update them by default. */
  unique: Set<string>;
}

export { BatchError } from '../shared/sql-node.ts';

/** MySQL's limit of placeholders in one prepared statement. */
const MAX_PLACEHOLDERS = 65_535;

async function tableInfo(conn: PoolConnection, table: string): Promise<TableInfo> {
  const [schema, name] = table.includes('.') ? table.split('.') : [null, table];
  const [columns] = await conn.execute<Array<{ name: string } & import('mysql2').RowDataPacket>>(
    'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ? ORDER BY ordinal_position',
    [schema, name],
  );
  if (columns.length === 0) throw new NodeInputError(`table ${table} does not exist (or has no columns this user may see)`);
  const [unique] = await conn.execute<Array<{ name: string } & import('mysql2').RowDataPacket>>(
    'SELECT DISTINCT column_name AS name FROM information_schema.statistics WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ? AND non_unique = 0',
    [schema, name],
  );
  return { columns: new Set(columns.map((c) => c.name)), unique: new Set(unique.map((c) => c.name)) };
}

function statement(options: BatchOptions, columns: string[], rows: number, info: TableInfo): string {
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  let sql = `INSERT INTO ${quoteTable(options.table)} (${columns.map(quoteIdent).join(', ')}) VALUES ${Array.from({ length: rows }, () => tuple).join(', ')}`;
  if (options.mode === 'upsert') {
    const update = options.updateColumns ?? columns.filter((c) => !info.unique.has(c));
    // Nothing to update: a no-op assignment keeps the existing row (INSERT IGNORE would also hide other errors).
    const set = update.length ? update.map((c) => `${quoteIdent(c)} = VALUES(${quoteIdent(c)})`) : [`${quoteIdent(columns[0]!)} = ${quoteIdent(columns[0]!)}`];
    sql += ` ON DUPLICATE KEY UPDATE ${set.join(', ')}`;
  }
  return sql;
}

/** Split batches so that no statement exceeds the server's placeholder limit. */
async function* capped(source: AsyncIterable<unknown[]>, rowsPerStatement: () => number): AsyncIterable<unknown[]> {
  for await (const batch of source) {
    const size = rowsPerStatement();
    for (let i = 0; i < batch.length; i += size) yield batch.slice(i, i + size);
  }
}

export async function writeBatches(conn: PoolConnection, options: BatchOptions, source: AsyncIterable<unknown[]>, signal: AbortSignal): Promise<BatchResult> {
  const result: BatchResult = { table: options.table, operation: options.mode, rowsWritten: 0, rowsSent: 0, batches: 0, affectedRows: 0 };
  let columns: string[] | undefined;
  let info: TableInfo | undefined;
  let open = false;
  const perStatement = () => (columns ? Math.max(1, Math.min(options.batchSize, Math.floor(MAX_PLACEHOLDERS / columns.length))) : options.batchSize);
  try {
    for await (const batch of capped(source, perStatement)) {
      if (signal.aborted) throw signal.reason as Error;
      if (batch.length === 0) continue;
      batch.forEach((row, i) => {
        if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new NodeInputError(`row ${result.rowsSent + i} is not an object (a row is { column: value })`);
      });
      if (!columns) {
        columns = options.columns?.length ? options.columns : [...new Set(batch.flatMap((row) => Object.keys(row as object)))];
        const named = [...columns, ...(options.updateColumns ?? [])];
        info = options.tableCache?.get(options.table);
        if (!info || named.some((c) => !info!.columns.has(c))) {
          info = await tableInfo(conn, options.table);
          options.tableCache?.set(options.table, info);
        }
        const unknown = named.filter((c) => !info!.columns.has(c));
        if (unknown.length) throw new NodeInputError(`table ${options.table} has no column ${[...new Set(unknown)].map((c) => `"${c}"`).join(', ')} (it has ${[...info.columns].join(', ')})`);
        if (options.atomic) {
          await conn.query('START TRANSACTION');
          open = true;
        }
      }
      const values = batch.flatMap((row) => columns!.map((c) => jsonEncoded((row as Record<string, unknown>)[c] ?? null, true)));
      const first = result.rowsSent;
      try {
        const [done] = await conn.execute<ResultSetHeader>(statement(options, columns, batch.length, info!), values as ExecuteValues[]);
        result.affectedRows += done.affectedRows;
        result.rowsWritten += batch.length;
        result.rowsSent += batch.length;
        result.batches++;
      } catch (error) {
        const which = `batch ${result.batches + 1} (rows ${first}–${first + batch.length - 1}) failed: ${(error as Error).message}`;
        const fate = options.atomic
          ? `nothing was written: the transaction of all ${result.batches + 1} batch(es) so far was rolled back`
          : first === 0
            ? 'nothing was written'
            : `rows 0–${first - 1} (${result.batches} batch(es)) were written and stay; rows from ${first} on were not written`;
        throw new BatchError(`${which}; ${fate}`, options.atomic ? 0 : result.rowsWritten, result.batches + 1);
      }
    }
    if (open) {
      await conn.query('COMMIT');
      open = false;
    }
    return result;
  } finally {
    if (open) await conn.query('ROLLBACK').catch(() => undefined);
  }
}
