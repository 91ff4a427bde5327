/**
 * Statements: parameterised only (the SQL text comes from the node's props; message data only ever travels as
 * $1, $2... values), read through a cursor so no result is held beyond what the chosen output needs.
 */
import type pg from 'pg';
import type Cursor from 'pg-cursor';
import { loadPgCursor } from '../shared/libs.ts';
import { jsonEncoded, resolveParams, type Param } from '../shared/params.ts';
import { inPages, NodeInputError, sendRowPages, toJsonLines, JSON_LINES, type BlobServices, type FlowMessage, type InputContext } from '@flowcrew/sdk';

export type { Param } from '../shared/params.ts';

export function paramValues(params: readonly Param[] | undefined, msg: FlowMessage, where = '/params'): unknown[] {
  // Objects go as JSON (for json/jsonb parameters); arrays as PostgreSQL arrays (pg's own conversion).
  return resolveParams(params, msg, where, (i) => `$${i + 1}`, (value) => jsonEncoded(value, false));
}

export interface ReadResult {
  rows: Record<string, unknown>[];
  rowCount: number | null;
  command: string | undefined;
}

/** Read up to `limit` rows of a statement through a cursor; `more` says whether rows were left unread. */
export async function readAtMost(client: pg.PoolClient, sql: string, values: unknown[], limit: number): Promise<ReadResult & { more: boolean }> {
  const Cursor = await loadPgCursor();
  const cursor = client.query(new Cursor<Record<string, unknown>>(sql, values));
  try {
    const { rows, result } = await read(cursor, limit + 1);
    const more = rows.length > limit;
    return { rows: more ? rows.slice(0, limit) : rows, rowCount: result?.rowCount ?? null, command: result?.command, more };
  } finally {
    await cursor.close().catch(() => undefined);
  }
}

function read(cursor: Cursor<Record<string, unknown>>, count: number): Promise<{ rows: Record<string, unknown>[]; result: pg.QueryResult | undefined }> {
  return new Promise((resolve, reject) => {
    cursor.read(count, (error, rows, result) => (error ? reject(error) : resolve({ rows, result })));
  });
}

/** Every row of a statement, a page at a time (the cursor is closed when the iteration ends, early or not). */
export async function* rowsOf(client: pg.PoolClient, sql: string, values: unknown[], pageSize: number): AsyncIterable<Record<string, unknown>> {
  const Cursor = await loadPgCursor();
  const cursor = client.query(new Cursor<Record<string, unknown>>(sql, values));
  try {
    for (;;) {
      const { rows } = await read(cursor, pageSize);
      if (rows.length === 0) return;
      yield* rows;
      if (rows.length < pageSize) return;
    }
  } finally {
    await cursor.close().catch(() => undefined);
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

/**
 * Run one statement and produce the node's output:
 * - rows: the rows in msg.payload (more than maxRows fails, naming the pages output);
 * - first: the first row or null;
 * - pages: one message per page, each a JSON Lines blob reference (sendRowPages);
 * - blob: one message with all rows as one JSON Lines blob reference.
 * msg.rowCount (rows affected or returned) and msg.command (SELECT, INSERT...) are set where known.
 */
export async function runStatement(client: pg.PoolClient, options: QueryOptions, msg: FlowMessage, ctx: InputContext, blobs: BlobServices): Promise<FlowMessage | null> {
  const { sql, values } = options;
  if (options.output === 'rows' || options.output === 'first') {
    const limit = options.output === 'first' ? 1 : options.maxRows;
    const result = await readAtMost(client, sql, values, limit);
    if (options.output === 'rows' && result.more) {
      throw new NodeInputError(`the statement returned more than ${options.maxRows} rows (maxRows): choose output "pages" or "blob" for large results, or raise maxRows`);
    }
    const payload = options.output === 'first' ? (result.rows[0] ?? null) : result.rows;
    return { ...msg, payload, rowCount: result.rowCount ?? result.rows.length, command: result.command };
  }
  const { payload: _payload, ...base } = msg;
  if (options.output === 'pages') {
    await sendRowPages(ctx, blobs, inPages(rowsOf(client, sql, values, options.pageSize), options.pageSize), { base });
    return null;
  }
  let rowCount = 0;
  async function* counted() {
    for await (const row of rowsOf(client, sql, values, options.pageSize)) {
      rowCount++;
      yield row;
    }
  }
  const ref = await blobs.put(toJsonLines(counted()), { runId: ctx.runId, contentType: JSON_LINES });
  return { ...base, payload: ref, rowCount, command: 'SELECT' };
}
