/**
 * Statements on MySQL/MariaDB: server-side prepared statements only (message data travels as bound `?` values,
 * never in the SQL text), rows streamed with backpressure so no result is held beyond what the output needs.
 */
import type { PoolConnection } from 'mysql2/promise';
import type { Connection as CoreConnection, ExecuteValues } from 'mysql2';
import { inPages, NodeInputError, sendRowPages, toJsonLines, JSON_LINES, type BlobServices, type FlowMessage, type InputContext } from '@flowcrew/sdk';
import { jsonEncoded, resolveParams, type Param } from '../shared/params.ts';

export function paramValues(params: readonly Param[] | undefined, msg: FlowMessage, where = '/params'): unknown[] {
  // Objects and arrays go as JSON text (MySQL has no array type; JSON columns take the text).
  return resolveParams(params, msg, where, (i) => `?${i + 1}`, (value) => jsonEncoded(value, true));
}

type Row = Record<string, unknown>;

/** What a statement that returns no rows reports (mysql2's ResultSetHeader). */
interface Header {
  affectedRows: number;
  insertId: number | string;
  changedRows?: number;
}

const isHeader = (value: unknown): value is Header => (value as { constructor?: { name?: string } })?.constructor?.name === 'ResultSetHeader';

/**
 * The statement's rows, streamed (mysql2 pauses the socket while we are behind). Ending the iteration early leaves
 * the connection mid-result: the caller's connection is then destroyed (see `withConnection`).
 */
export async function* rowsOf(conn: PoolConnection, sql: string, values: unknown[], header?: (h: Header) => void): AsyncIterable<Row> {
  const core = (conn as unknown as { connection: CoreConnection }).connection;
  const stream = core.execute(sql, values as ExecuteValues[]).stream();
  let done = false;
  try {
    for await (const item of stream) {
      if (isHeader(item)) header?.(item);
      else yield item as Row;
    }
    done = true;
  } finally {
    if (!done) {
      stream.destroy();
      // withConnection destroys a connection left mid-result instead of pooling it again.
      (conn as unknown as { unfinishedResult?: boolean }).unfinishedResult = true;
    }
  }
}

export type Output = 'rows' | 'first' | 'pages' | 'blob';

export interface QueryOptions {
  sql: string;
  values: unknown[];
  output: Output;
  maxRows: number;
  pageSize: number;
}

/** Up to `limit` rows; `more` says rows were left unread (the connection is then left mid-result). */
export async function readAtMost(conn: PoolConnection, sql: string, values: unknown[], limit: number): Promise<{ rows: Row[]; header?: Header; more: boolean }> {
  const rows: Row[] = [];
  let header: Header | undefined;
  for await (const row of rowsOf(conn, sql, values, (h) => (header = h))) {
    if (rows.length === limit) return { rows, header, more: true };
    rows.push(row);
  }
  return { rows, header, more: false };
}

/**
 * Run one statement and produce the node's output (as the PostgreSQL node does):
 * rows (up to maxRows), first, pages (one message per page, a JSON Lines blob each), blob (one JSON Lines blob).
 * Statements without rows report msg.affectedRows and msg.insertId.
 */
export async function runStatement(conn: PoolConnection, options: QueryOptions, msg: FlowMessage, ctx: InputContext, blobs: BlobServices): Promise<FlowMessage | null> {
  const { sql, values } = options;
  if (options.output === 'rows' || options.output === 'first') {
    const limit = options.output === 'first' ? 1 : options.maxRows;
    const result = await readAtMost(conn, sql, values, limit);
    if (options.output === 'rows' && result.more) {
      throw new NodeInputError(`the statement returned more than ${options.maxRows} rows (maxRows): choose output "pages" or "blob" for large results, or raise maxRows`);
    }
    if (result.header) return { ...msg, payload: result.header.affectedRows, affectedRows: result.header.affectedRows, insertId: result.header.insertId };
    const payload = options.output === 'first' ? (result.rows[0] ?? null) : result.rows;
    return { ...msg, payload, rowCount: result.rows.length };
  }
  const { payload: _payload, ...base } = msg;
  if (options.output === 'pages') {
    await sendRowPages(ctx, blobs, inPages(rowsOf(conn, sql, values), options.pageSize), { base });
    return null;
  }
  let rowCount = 0;
  async function* counted() {
    for await (const row of rowsOf(conn, sql, values)) {
      rowCount++;
      yield row;
    }
  }
  const ref = await blobs.put(toJsonLines(counted()), { runId: ctx.runId, contentType: JSON_LINES });
  return { ...base, payload: ref, rowCount };
}
