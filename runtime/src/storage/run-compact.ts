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
 * Format (version 3, written since session 11): `{"v":3,"t":BASE,"i":[ROW,...]}`, one array per invocation:
 *   [ID, node_id, node_type, status, attempt, INPUT, outputs, error, PARENT, seq, created, started, finished, usage]
 * - ID is null when the id is the one the executor gives (`invocationId`: `<run id>.<seq>`), else the id;
 * - the run id is not repeated (it is the row's own id);
 * - PARENT is the index of the parent invocation in `i` when it is there, else its id (or null);
 * - INPUT is a number k when the input is the message of the parent's single output, as it is along every wire
 *   (that message is stored once, in the parent's outputs), else the message wrapped in a one-element array, or null;
 * - created/started/finished are milliseconds after BASE (the first invocation's created_at).
 * A chain run's history so shrank from 4.2 to ~1.9 KB (version 2), ~1.95 KB with version 3's
 * ids (2.34 KB when written as version 2): SQLite's cost of a run row (insert, WAL, checkpoint) grows
 * with its bytes. JSON columns (input, outputs, usage) are embedded as JSON, not as strings, so they are neither
 * escaped when written nor parsed twice when read. Version 2 (session 10: every id written) and version 1 (a bare
 * array of full rows in INVOCATION_COLUMNS order, sessions 8-9) are still read.
 */
import type { SqlDialect, SqlParam } from './sql-driver.ts';
import type { InvocationRecord, InvocationStatus } from './types.ts';

export const INVOCATION_COLUMNS = ['id', 'run_id', 'node_id', 'node_type', 'status', 'attempt', 'input', 'outputs', 'error', 'parent_id', 'seq', 'created_at', 'started_at', 'finished_at', 'usage'] as const;
/** Positions in an invocation row (INVOCATION_COLUMNS order). */
export const INV = { id: 0, runId: 1, status: 4, attempt: 5, input: 6, outputs: 7, error: 8, parentId: 9, seq: 10, createdAt: 11, startedAt: 12, finishedAt: 13, usage: 14 } as const;

export const COMPACT_COLUMN = 'invocations_json';

/**
 * An invocation's id as the executor gives it: its run's id and the sequence number it took (executor/routing.ts).
 * Unique because the run id is and a run never hands out a sequence number twice; time-ordered like the run's UUIDv7.
 */
export function invocationId(runId: string, seq: number): string {
  return `${runId}.${seq}`;
}

/**
 * Text JSON.stringify would only put in quotes (ids, node ids and types, statuses): quoted directly, the same bytes.
 * JSON.stringify of ~5 short strings per invocation was a fifth of the encoding's time.
 */
const NOTHING_TO_ESCAPE = /^[\w .:@/+-]*$/;

export function compactHistoryMigration(dialect: SqlDialect): string[] {
  return [`ALTER TABLE runs ADD COLUMN ${dialect === 'postgres' ? 'IF NOT EXISTS ' : ''}${COMPACT_COLUMN} TEXT`];
}

/** Invocation rows of ONE run (INVOCATION_COLUMNS order, JSON columns as text) as one compact JSON text. */
export function encodeInvocations(rows: readonly (readonly SqlParam[])[]): string {
  const base = typeof rows[0]?.[INV.createdAt] === 'number' ? (rows[0][INV.createdAt] as number) : 0;
  const index = new Map<SqlParam, number>();
  for (let r = 0; r < rows.length; r++) index.set(rows[r]![INV.id]!, r);
  // One join: appending piece by piece made a cons string per piece.
  const parts: string[] = [];
  for (const row of rows) {
    const parentIndex = row[INV.parentId] === null ? undefined : index.get(row[INV.parentId]!);
    const parent = parentIndex === undefined ? undefined : rows[parentIndex];
    const id = row[INV.id];
    const runId = row[INV.runId];
    const seq = row[INV.seq];
    const derived = typeof seq === 'number' && typeof runId === 'string' && id === invocationId(runId, seq);
    parts.push(
      derived ? '[null' : `[${text(id)}`,
      text(row[2]),
      text(row[3]),
      text(row[INV.status]),
      number(row[INV.attempt]),
      inputPart(row[INV.input], parent?.[INV.outputs]),
      jsonPart(row[INV.outputs]),
      text(row[INV.error]),
      parentIndex === undefined ? text(row[INV.parentId]) : String(parentIndex),
      number(row[INV.seq]),
      delta(row[INV.createdAt], base),
      delta(row[INV.startedAt], base),
      delta(row[INV.finishedAt], base),
      `${jsonPart(row[INV.usage])}]`,
    );
  }
  return `{"v":3,"t":${base},"i":[${parts.join(',')}]}`;
}

function text(value: SqlParam | undefined): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return NOTHING_TO_ESCAPE.test(value) ? `"${value}"` : JSON.stringify(value);
  return number(value);
}

function number(value: SqlParam | undefined): string {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  return value === null || value === undefined ? 'null' : JSON.stringify(value);
}

function delta(value: SqlParam | undefined, base: number): string {
  return typeof value === 'number' && Number.isFinite(value) ? String(value - base) : number(value);
}

/** A JSON column's text, embedded as JSON. */
function jsonPart(value: SqlParam | undefined): string {
  return typeof value === 'string' ? value : value === null || value === undefined ? 'null' : JSON.stringify(value);
}

const SINGLE_OUTPUT_PREFIX = '[{"port":';
const MSG_KEY = ',"msg":';

/**
 * `0` when `input` is the text of the message of the parent's single output, `[input]` otherwise. Checked on the
 * texts, so a reference always decodes to exactly the stored input: `[{"port":N,"msg":INPUT}]`.
 */
function inputPart(input: SqlParam | undefined, parentOutputs: SqlParam | undefined): string {
  if (typeof input !== 'string') return input === null || input === undefined ? 'null' : `[${JSON.stringify(input)}]`;
  if (typeof parentOutputs === 'string' && parentOutputs.startsWith(SINGLE_OUTPUT_PREFIX)) {
    const msgAt = parentOutputs.indexOf(MSG_KEY, SINGLE_OUTPUT_PREFIX.length);
    const from = msgAt + MSG_KEY.length;
    // Only digits between the prefix and the key, and the message runs from the key to the closing `}]` (compared in
    // place: no `${input}}]` copy of the message per invocation).
    if (msgAt > SINGLE_OUTPUT_PREFIX.length && from + input.length + 2 === parentOutputs.length && parentOutputs.endsWith('}]') && parentOutputs.startsWith(input, from) && /^\d+$/.test(parentOutputs.slice(SINGLE_OUTPUT_PREFIX.length, msgAt))) return '0';
  }
  return `[${input}]`;
}

/** The records of a compact JSON text of run `runId`, as `toInvocation` reads the same values from rows. */
export function decodeInvocations(text: string, runId: string): InvocationRecord[] {
  const parsed = JSON.parse(text) as unknown[][] | { v: number; t: number; i: unknown[][] };
  if (Array.isArray(parsed)) return parsed.map(fromVersion1);
  if (parsed.v !== 2 && parsed.v !== 3) throw new Error(`Cannot read the history of run ${runId}: compact format version ${String(parsed.v)} is newer than this runtime.`);
  const rows = parsed.i;
  const base = Number(parsed.t);
  const outputsOf = (row: unknown[]) => (row[6] ?? null) as InvocationRecord['outputs'];
  // Version 3 leaves out ids the executor derives from the run id and seq (always written in version 2).
  const ids = rows.map((row) => (row[0] === null ? invocationId(runId, Number(row[9])) : row[0]));
  return rows.map((row, r) => {
    const parentIndex = typeof row[8] === 'number' ? row[8] : undefined;
    const parent = parentIndex === undefined ? undefined : rows[parentIndex];
    // A copy of the parent's output message: each record owns its objects, as when read from rows.
    const input = typeof row[5] === 'number' ? structuredClone(outputsOf(parent!)![row[5]]!.msg ?? null) : Array.isArray(row[5]) ? row[5][0] : null;
    return record(runId, ids[r], row[1], row[2], row[3], row[4], input, row[6], row[7], parentIndex === undefined ? row[8] : ids[parentIndex], row[9], at(row[10], base), at(row[11], base), at(row[12], base), row[13]);
  });
}

function at(value: unknown, base: number): number | null {
  return value === null || value === undefined ? null : base + Number(value);
}

function fromVersion1(row: unknown[]): InvocationRecord {
  return record(String(row[1]), row[0], row[2], row[3], row[4], row[5], row[6] ?? null, row[7], row[8], row[9], row[10], row[11], row[12], row[13], row[14]);
}

function record(runId: string, id: unknown, nodeId: unknown, nodeType: unknown, status: unknown, attempt: unknown, input: unknown, outputs: unknown, error: unknown, parentId: unknown, seq: unknown, createdAt: unknown, startedAt: unknown, finishedAt: unknown, usage: unknown): InvocationRecord {
  return {
    id: String(id),
    runId,
    nodeId: String(nodeId),
    nodeType: String(nodeType),
    status: String(status) as InvocationStatus,
    attempt: Number(attempt),
    input: input ?? null,
    outputs: (outputs ?? null) as InvocationRecord['outputs'],
    error: error === null || error === undefined ? null : String(error),
    parentId: parentId === null || parentId === undefined ? null : String(parentId),
    seq: Number(seq),
    createdAt: Number(createdAt),
    startedAt: startedAt === null || startedAt === undefined ? null : Number(startedAt),
    finishedAt: finishedAt === null || finishedAt === undefined ? null : Number(finishedAt),
    ...(usage ? { usage: usage as NonNullable<InvocationRecord['usage']> } : {}),
  };
}

/** Invocations in the order the history lists them: by seq, then id (as `ORDER BY seq, id`). */
export function bySeqThenId(a: InvocationRecord, b: InvocationRecord): number {
  return a.seq - b.seq || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
