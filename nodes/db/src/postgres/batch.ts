/**
 * Batch insert and upsert: rows (an array in the message, or a JSON Lines blob for sets too large to hold) written
 * in batches of `batchSize`, each batch one statement with one parameter (the batch as JSON, turned into rows of the
 * table's own type by json_populate_recordset, so values are typed by the table and nothing is concatenated).
 *
 * atomic (default): every batch in one transaction: a failure writes nothing. Otherwise each batch commits on its
 * own: a failure leaves the earlier batches written, and the error says exactly which rows were and were not.
 */
import type pg from 'pg';
import { NodeInputError } from '@flowcrew/sdk';

export { rowSource } from '../shared/rows.ts';
import { quoteIdent, quoteTable } from './connect.ts';
import { BatchError } from '../shared/sql-node.ts';

export interface BatchOptions {
  table: string;
  mode: 'insert' | 'upsert';
  /** Columns to write; default: the keys of the first batch's rows. */
  columns?: string[];
  /** Upsert: the unique key that decides insert or update. */
  conflictColumns?: string[];
  /** Upsert: columns updated on conflict (default: every written column not in the key); empty: DO NOTHING. */
  updateColumns?: string[];
  batchSize: number;
  atomic: boolean;
  /**
   * Column names per table, kept by the node between messages (one catalog query per table, not per message);
   * looked up again when a column seems missing (the table may have changed).
   */
  columnCache?: Map<string, Set<string>>;
}

export interface BatchResult {
  table: string;
  operation: 'insert' | 'upsert';
  /** Rows the statements reported as written (an upsert's DO NOTHING skips count as not written). */
  rowsWritten: number;
  rowsSent: number;
  batches: number;
}

export { BatchError } from '../shared/sql-node.ts';

/** Column names of a table, from the catalog (the table name travels as a parameter). */
async function tableColumns(client: pg.PoolClient, table: string): Promise<Set<string>> {
  const { rows } = await client.query<{ name: string }>(
    'SELECT attname AS name FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped',
    [quoteTable(table)],
  );
  return new Set(rows.map((r) => r.name));
}

function statement(options: BatchOptions, columns: string[]): string {
  const table = quoteTable(options.table);
  const list = columns.map(quoteIdent).join(', ');
  let sql = `INSERT INTO ${table} (${list}) SELECT ${list} FROM json_populate_recordset(NULL::${table}, $1::json)`;
  if (options.mode === 'upsert') {
    const key = options.conflictColumns ?? [];
    const update = options.updateColumns ?? columns.filter((c) => !key.includes(c));
    sql += ` ON CONFLICT (${key.map(quoteIdent).join(', ')}) ${update.length ? `DO UPDATE SET ${update.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(', ')}` : 'DO NOTHING'}`;
  }
  return sql;
}

export async function writeBatches(client: pg.PoolClient, options: BatchOptions, source: AsyncIterable<unknown[]>, signal: AbortSignal): Promise<BatchResult> {
  if (options.mode === 'upsert' && !options.conflictColumns?.length) throw new NodeInputError('/conflictColumns: an upsert needs the unique columns that decide between insert and update');
  const result: BatchResult = { table: options.table, operation: options.mode, rowsWritten: 0, rowsSent: 0, batches: 0 };
  let sql: string | undefined;
  let open = false;
  try {
    for await (const batch of source) {
      if (signal.aborted) throw signal.reason as Error;
      if (batch.length === 0) continue;
      batch.forEach((row, i) => {
        if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new NodeInputError(`row ${result.rowsSent + i} is not an object (a row is { column: value })`);
      });
      if (!sql) {
        const columns = options.columns?.length ? options.columns : [...new Set(batch.flatMap((row) => Object.keys(row as object)))];
        const named = [...columns, ...(options.conflictColumns ?? []), ...(options.updateColumns ?? [])];
        let known = options.columnCache?.get(options.table);
        if (!known || named.some((c) => !known!.has(c))) {
          known = await tableColumns(client, options.table);
          options.columnCache?.set(options.table, known);
        }
        const unknown = named.filter((c) => !known!.has(c));
        if (unknown.length) throw new NodeInputError(`table ${options.table} has no column ${[...new Set(unknown)].map((c) => `"${c}"`).join(', ')} (it has ${[...known].join(', ')})`);
        sql = statement(options, columns);
        if (options.atomic) {
          await client.query('BEGIN');
          open = true;
        }
      }
      const first = result.rowsSent;
      try {
        const done = await client.query(sql, [JSON.stringify(batch)]);
        result.rowsWritten += done.rowCount ?? 0;
        result.rowsSent += batch.length;
        result.batches++;
      } catch (error) {
        const which = `batch ${result.batches + 1} (rows ${first}–${first + batch.length - 1}) failed: ${(error as Error).message}`;
        const detail = (error as pg.DatabaseError).detail ? ` (${(error as pg.DatabaseError).detail})` : '';
        const fate = options.atomic
          ? `nothing was written: the transaction of all ${result.batches + 1} batch(es) so far was rolled back`
          : `rows 0–${first - 1} (${result.batches} batch(es)) were written and stay; rows from ${first} on were not written`;
        throw new BatchError(`${which}${detail}; ${first === 0 && !options.atomic ? 'nothing was written' : fate}`, options.atomic ? 0 : result.rowsWritten, result.batches + 1);
      }
    }
    if (open) {
      await client.query('COMMIT');
      open = false;
    }
    return result;
  } finally {
    if (open) await client.query('ROLLBACK').catch(() => undefined);
  }
}
