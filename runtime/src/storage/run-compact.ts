/**
 * Compact history: the invocations of a run written whole by one group commit are stored in the run's own row
 * (`runs.invocations_json`, migration 16) instead of one `invocations` row each. A webhook run is usually accepted and
 * finished in one event-loop turn, so one batch holds all of it: one row and the run's index entries then replace N
 * more rows with three B-tree entries each (table, primary key, run/seq), which was most of the write's cost per node.
 *
 * Only FINISHED runs are compacted, and only invocations already in their final state: everything that resumes,
 * leases, cancels or reconciles runs reads the pending invocations of active runs, which are always rows. One
 * exception (session 14, run-writes.ts carryFirst): a queued run's acceptance carries its trigger's completion in the
 * run row while the run is still active, its pending invocations staying rows; the worker's commit that finishes the
 * run appends its part after a COMPACT_SEPARATOR, so a history may be several parts, read in order. Session 15
 * carries the first PENDING invocation too, in another column of the run row (`pending_json`, this format, one
 * invocation: stored-pending.ts CarriedPending), read there by the claim, resume, the reconciler and the run view. The
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
  /** Row index by id, made only for a parent that is not the row just before (a fan-out, an error handler). */
  let index: Map<SqlParam, number> | undefined;
  // One join of a presized array (a piece per column: join puts the commas): appending piece by piece made a cons
  // string per piece, and a growing array copied itself.
  const parts: string[] = new Array<string>(rows.length * PIECES);
  let p = 0;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    const parentId = row[INV.parentId]!;
    let parentIndex: number | undefined;
    if (parentId !== null) {
      if (r > 0 && rows[r - 1]![INV.id] === parentId) parentIndex = r - 1;
      else {
        if (!index) {
          index = new Map();
          for (let i = 0; i < rows.length; i++) index.set(rows[i]![INV.id]!, i);
        }
        parentIndex = index.get(parentId);
      }
    }
    const seq = row[INV.seq];
    parts[p++] = isDerivedId(row[INV.id], row[INV.runId], seq) ? '[null' : `[${text(row[INV.id])}`;
    parts[p++] = name(row[2]);
    parts[p++] = name(row[3]);
    parts[p++] = name(row[INV.status]);
    parts[p++] = number(row[INV.attempt]);
    parts[p++] = inputPart(row[INV.input], parentIndex === undefined ? undefined : rows[parentIndex]![INV.outputs]);
    parts[p++] = jsonPart(row[INV.outputs]);
    parts[p++] = text(row[INV.error]);
    parts[p++] = parentIndex === undefined ? text(parentId) : String(parentIndex);
    parts[p++] = number(seq);
    parts[p++] = delta(row[INV.createdAt], base);
    parts[p++] = delta(row[INV.startedAt], base);
    parts[p++] = delta(row[INV.finishedAt], base);
    parts[p++] = row[INV.usage] === null || row[INV.usage] === 'null' ? 'null]' : `${jsonPart(row[INV.usage])}]`;
  }
  return `{"v":3,"t":${base},"i":[${parts.join(',')}]}`;
}

/** Pieces per invocation in encodeInvocations. */
const PIECES = 14;

/** Whether `id` is `invocationId(runId, seq)`, compared in place (no id string made per row). */
function isDerivedId(id: SqlParam | undefined, runId: SqlParam | undefined, seq: SqlParam | undefined): boolean {
  if (typeof id !== 'string' || typeof runId !== 'string' || typeof seq !== 'number') return false;
  const digits = String(seq);
  return id.length === runId.length + 1 + digits.length && id.charCodeAt(runId.length) === 46 && id.startsWith(runId) && id.endsWith(digits);
}

/** Quoted node ids, node types and statuses, which repeat in every run: made once (bounded: cleared when full). */
const quotedNames = new Map<string, string>();
const MAX_QUOTED_NAMES = 2_000;

function name(value: SqlParam | undefined): string {
  if (typeof value !== 'string') return text(value);
  let out = quotedNames.get(value);
  if (out === undefined) {
    if (quotedNames.size >= MAX_QUOTED_NAMES) quotedNames.clear();
    quotedNames.set(value, (out = text(value)));
  }
  return out;
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
    if (msgAt > SINGLE_OUTPUT_PREFIX.length && from + input.length + 2 === parentOutputs.length && parentOutputs.endsWith('}]') && parentOutputs.startsWith(input, from) && digitsOnly(parentOutputs, SINGLE_OUTPUT_PREFIX.length, msgAt)) return '0';
  }
  return `[${input}]`;
}

function digitsOnly(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Between the parts of a run's compact history written by different commits (session 14: a queued run's acceptance
 * carries the trigger's completion, the worker's finishing commit appends the rest). Never inside a part: JSON text
 * as JSON.stringify writes it has no raw line break.
 */
export const COMPACT_SEPARATOR = '\n';

/** The records of a compact JSON text of run `runId`, as `toInvocation` reads the same values from rows. */
export function decodeInvocations(text: string, runId: string): InvocationRecord[] {
  if (!text.includes(COMPACT_SEPARATOR)) return decodePart(text, runId);
  return text.split(COMPACT_SEPARATOR).flatMap((part) => decodePart(part, runId));
}

function decodePart(text: string, runId: string): InvocationRecord[] {
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
