/**
 * Compact history: the invocations of a run written whole by one group commit are stored in the run's own row
 * (`runs.invocations_json`, migration 16) instead of one `invocations` row each. A webhook run is usually accepted and
 * finished in one event-loop turn, so one batch holds all of it: one row and the run's index entries then replace N
 * more rows with three B-tree entries each (table, primary key, run/seq), which was most of the write's cost per node.
 *
 * Only FINISHED runs are compacted, and only invocations already in their final state: everything that resumes,
 * leases, cancels or reconciles runs reads the pending invocations of active runs, which are always rows. The one
 * reader of a finished run's invocations (run-reads.ts listInvocations: run view, API, reruns, steps, flow tests)
 * merges both places, so a run written partly as rows (an earlier batch) and partly compacted reads the same.
 *
 * Format: a JSON array with one array per invocation in INVOCATION_COLUMNS order; the JSON columns (input, outputs,
 * usage) are embedded as JSON, not as strings, so they are neither escaped when written nor parsed twice when read.
 */
import type { SqlDialect, SqlParam } from './sql-driver.ts';
import type { InvocationRecord, InvocationStatus } from './types.ts';

export const INVOCATION_COLUMNS = ['id', 'run_id', 'node_id', 'node_type', 'status', 'attempt', 'input', 'outputs', 'error', 'parent_id', 'seq', 'created_at', 'started_at', 'finished_at', 'usage'] as const;
/** Positions in an invocation row (INVOCATION_COLUMNS order). */
export const INV = { id: 0, runId: 1, status: 4, attempt: 5, input: 6, outputs: 7, error: 8, startedAt: 12, finishedAt: 13, usage: 14 } as const;
/** Columns whose values are JSON texts already. */
const JSON_COLUMN: readonly boolean[] = INVOCATION_COLUMNS.map((_, i) => i === INV.input || i === INV.outputs || i === INV.usage);

export const COMPACT_COLUMN = 'invocations_json';

/**
 * Text JSON.stringify would only put in quotes (ids, node ids and types, statuses): quoted directly, the same bytes.
 * JSON.stringify of ~5 short strings per invocation was a fifth of the encoding's time.
 */
const NOTHING_TO_ESCAPE = /^[\w .:@/+-]*$/;

export function compactHistoryMigration(dialect: SqlDialect): string[] {
  return [`ALTER TABLE runs ADD COLUMN ${dialect === 'postgres' ? 'IF NOT EXISTS ' : ''}${COMPACT_COLUMN} TEXT`];
}

/** Invocation rows (INVOCATION_COLUMNS order, JSON columns as text) as one compact JSON text. */
export function encodeInvocations(rows: readonly (readonly SqlParam[])[]): string {
  // One join: appending piece by piece made a cons string per piece (~16 KB of garbage per 10-node run).
  const parts: string[] = [];
  for (const row of rows) {
    for (let c = 0; c < INVOCATION_COLUMNS.length; c++) {
      const value = row[c];
      let part: string;
      if (value === null || value === undefined) part = 'null';
      else if (typeof value === 'string') part = JSON_COLUMN[c] ? value : NOTHING_TO_ESCAPE.test(value) ? `"${value}"` : JSON.stringify(value);
      else if (typeof value === 'number') part = Number.isFinite(value) ? String(value) : 'null';
      else part = JSON.stringify(value);
      parts.push(c === 0 ? `[${part}` : c === INVOCATION_COLUMNS.length - 1 ? `${part}]` : part);
    }
  }
  return `[${parts.join(',')}]`;
}

/** The records of a compact JSON text, as `toInvocation` reads the same values from rows. */
export function decodeInvocations(text: string): InvocationRecord[] {
  const rows = JSON.parse(text) as unknown[][];
  return rows.map((row) => {
    const usage = (row[INV.usage] ?? null) as InvocationRecord['usage'];
    return {
      id: String(row[0]),
      runId: String(row[1]),
      nodeId: String(row[2]),
      nodeType: String(row[3]),
      status: String(row[4]) as InvocationStatus,
      attempt: Number(row[5]),
      input: row[6] ?? null,
      outputs: (row[7] ?? null) as InvocationRecord['outputs'],
      error: row[8] === null || row[8] === undefined ? null : String(row[8]),
      parentId: row[9] === null || row[9] === undefined ? null : String(row[9]),
      seq: Number(row[10]),
      createdAt: Number(row[11]),
      startedAt: row[12] === null || row[12] === undefined ? null : Number(row[12]),
      finishedAt: row[13] === null || row[13] === undefined ? null : Number(row[13]),
      ...(usage ? { usage } : {}),
    };
  });
}

/** Invocations in the order the history lists them: by seq, then id (as `ORDER BY seq, id`). */
export function bySeqThenId(a: InvocationRecord, b: InvocationRecord): number {
  return a.seq - b.seq || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
