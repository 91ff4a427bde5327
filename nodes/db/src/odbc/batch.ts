/**
 * Batch insert and upsert through ODBC: multi-row INSERTs with bound `?` values, a batch at a time, in one
 * transaction (atomic) or committed per batch. ODBC does not abstract the SQL dialect, so identifiers and the upsert
 * clause follow the driver: PostgreSQL's (ON CONFLICT) and MariaDB/MySQL's (ON DUPLICATE KEY UPDATE); insert works
 * on any driver with standard quoting, upsert is refused on others with what to do instead.
 */
import type odbc from 'odbc';
import { NodeInputError } from '@flowcrew/sdk';
import { jsonEncoded } from '../shared/params.ts';
import { BatchError } from '../shared/sql-node.ts';
import { driverSaid } from './connect.ts';

export interface OdbcBatchOptions {
  table: string;
  mode: 'insert' | 'upsert';
  columns?: string[];
  /** upsert: the unique key the rows are matched on (PostgreSQL needs it; MariaDB matches any unique key). */
  keyColumns?: string[];
  /** upsert: columns to update on a match (default: all but the key columns). */
  updateColumns?: string[];
  atomic: boolean;
}

type Dialect = 'postgresql' | 'mysql' | 'standard';

export function dialectOf(driver: string): Dialect {
  if (/postgres/i.test(driver)) return 'postgresql';
  if (/maria|mysql/i.test(driver)) return 'mysql';
  return 'standard';
}

function quote(dialect: Dialect, name: string): string {
  return dialect === 'mysql' ? `\`${name.replace(/`/g, '``')}\`` : `"${name.replace(/"/g, '""')}"`;
}

function quoteTable(dialect: Dialect, table: string): string {
  const parts = table.split('.');
  if (parts.length > 2 || parts.some((p) => p.length === 0)) throw new NodeInputError(`table "${table}" must be "name" or "schema.name"`);
  return parts.map((p) => quote(dialect, p)).join('.');
}

function insertSql(dialect: Dialect, options: OdbcBatchOptions, columns: string[], rows: number): string {
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  let sql = `INSERT INTO ${quoteTable(dialect, options.table)} (${columns.map((c) => quote(dialect, c)).join(', ')}) VALUES ${Array.from({ length: rows }, () => tuple).join(', ')}`;
  if (options.mode === 'insert') return sql;
  const keys = options.keyColumns ?? [];
  const update = options.updateColumns ?? columns.filter((c) => !keys.includes(c));
  if (dialect === 'postgresql') {
    if (keys.length === 0) throw new NodeInputError('upsert on PostgreSQL needs keyColumns (the unique key rows are matched on)');
    sql += ` ON CONFLICT (${keys.map((c) => quote(dialect, c)).join(', ')}) ${update.length ? `DO UPDATE SET ${update.map((c) => `${quote(dialect, c)} = EXCLUDED.${quote(dialect, c)}`).join(', ')}` : 'DO NOTHING'}`;
  } else if (dialect === 'mysql') {
    const set = update.length ? update : [columns[0]!];
    sql += ` ON DUPLICATE KEY UPDATE ${set.map((c) => `${quote(dialect, c)} = VALUES(${quote(dialect, c)})`).join(', ')}`;
  } else {
    throw new NodeInputError('upsert over ODBC knows the PostgreSQL and MariaDB/MySQL drivers: for this driver use insert, or a transaction with its own MERGE statement');
  }
  return sql;
}

/** Write the rows; the summary says what was written. A failed batch says what was written before it and what not. */
export async function writeOdbcBatches(conn: odbc.Connection, driver: string, options: OdbcBatchOptions, source: AsyncIterable<unknown[]>): Promise<{ rowsWritten: number; batches: number }> {
  const dialect = dialectOf(driver);
  const result = { rowsWritten: 0, batches: 0 };
  let columns = options.columns;
  if (options.atomic) await conn.beginTransaction();
  try {
    for await (const batch of source) {
      if (batch.length === 0) continue;
      const rows = batch.map((row, i) => {
        if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new NodeInputError(`row ${result.rowsWritten + i + 1} is not an object`);
        return row as Record<string, unknown>;
      });
      columns ??= Object.keys(rows[0]!);
      if (columns.length === 0) throw new NodeInputError('the first row has no columns');
      const values = rows.flatMap((row) => columns!.map((c) => jsonEncoded(typeof row[c] === 'boolean' ? Number(row[c]) : (row[c] ?? null), true))) as Array<string | number>;
      try {
        await conn.query(insertSql(dialect, options, columns, rows.length), values);
      } catch (error) {
        if (error instanceof NodeInputError) throw error;
        const first = result.rowsWritten;
        const said = driverSaid(error);
        const fate = options.atomic ? 'nothing was written (the transaction was rolled back)' : first === 0 ? 'nothing was written' : `rows 1-${first} were written, rows ${first + 1} on were not`;
        throw new BatchError(`batch ${result.batches + 1} (rows ${first + 1}-${first + rows.length}) failed: ${said}; ${fate}`, options.atomic ? 0 : first, result.batches + 1);
      }
      result.rowsWritten += rows.length;
      result.batches++;
    }
    if (options.atomic) await conn.commit();
    return result;
  } catch (error) {
    if (options.atomic) await conn.rollback().catch(() => undefined);
    throw error;
  }
}
