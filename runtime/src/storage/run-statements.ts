/**
 * The SQL of the run write path (run-writes.ts): run and invocation rows as multi-row INSERTs, a completion's
 * conditional UPDATE, a run's UPDATE, the consumption of an invocation carried in its run's row, finished runs'
 * deletes. run-writes.ts decides which rows a batch writes; this file says how they are written.
 */
import { InvocationNotPendingError, type RunUpdate } from './types.ts';
import type { SqlParam, SqlStatement } from './sql-storage.ts';
import { assignments } from './row-values.ts';
import { COMPACT_COLUMN, COMPACT_SEPARATOR, INV, INVOCATION_COLUMNS } from './run-compact.ts';
import { FINISHED_SQL } from './run-reads.ts';
import { CARRIED_COLUMN } from './stored-pending.ts';

/**
 * Rows per multi-row INSERT, well under SQLite's and PostgreSQL's bound-parameter limits. (On SQLite, one cached
 * single-row statement per row was measured too: no cheaper in CPU per node than these.)
 */
export const INSERT_CHUNK_ROWS = 200;

export const INVOCATION_ROW = `(${INVOCATION_COLUMNS.map(() => '?').join(', ')})`;

export const RUN_COLUMNS = ['id', 'flow_id', 'flow_version', 'status', 'trigger_node_id', 'input', 'error', 'parent_run_id', 'created_at', 'started_at', 'finished_at', 'owner', 'lease_expires_at', COMPACT_COLUMN, CARRIED_COLUMN, 'project_id'];
// A run belongs to its flow's project: given by the caller when it knows it (AcceptOptions.flowProject: a plain
// value, RUN_ROW_GIVEN), else looked up in the same statement (no extra round trip, but a sub-plan run per row); the
// last two parameters of such a row are the flow id and the fallback project.
const RUN_ROW = `(${RUN_COLUMNS.slice(0, -1).map(() => '?').join(', ')}, COALESCE((SELECT f.project_id FROM flows f WHERE f.id = ?), ?))`;
const RUN_ROW_GIVEN = `(${RUN_COLUMNS.map(() => '?').join(', ')})`;
// A run row carrying no pending invocation (every embedded run, every run of SQLite) is inserted without that column,
// as before session 15: the same statement, the same stored row.
const PLAIN_RUN_COLUMNS = RUN_COLUMNS.filter((column) => column !== CARRIED_COLUMN);
const PLAIN_RUN_ROW = `(${PLAIN_RUN_COLUMNS.slice(0, -1).map(() => '?').join(', ')}, COALESCE((SELECT f.project_id FROM flows f WHERE f.id = ?), ?))`;
const PLAIN_RUN_ROW_GIVEN = `(${PLAIN_RUN_COLUMNS.map(() => '?').join(', ')})`;
/** Positions in a run row of what a run update sets. */
export const RUN = { id: 0, status: 3, input: 5, error: 6, startedAt: 9, finishedAt: 10, invocations: 13, carried: 14 } as const;
export const RUN_UPDATE_COLUMNS = { status: 'status', error: 'error', startedAt: 'started_at', finishedAt: 'finished_at' } as const;

/**
 * A pending invocation completing: its id and the values of INV's columns; `stored`: its pending row as stored by an
 * earlier transaction, when this process read it (StoredPending); `inRun`: it is carried in its run's row
 * (CarriedPending), with the completed row whole.
 */
export interface Completion {
  id: string;
  row: Partial<Record<keyof typeof INV, SqlParam>>;
  stored?: SqlParam[];
  inRun?: { runId: string; interruptions: number; row: SqlParam[] };
}

/** Deletes finished runs with their invocations: invocations first, both guarded by the finished status so an active run is never half-deleted. */
export function deleteFinishedRuns(ids: readonly string[]): SqlStatement[] {
  const marks = ids.map(() => '?').join(', ');
  return [
    {
      sql: `DELETE FROM invocations WHERE run_id IN (SELECT id FROM runs WHERE id IN (${marks}) AND status IN ${FINISHED_SQL})`,
      params: ids,
    },
    { sql: `DELETE FROM runs WHERE id IN (${marks}) AND status IN ${FINISHED_SQL}`, params: ids },
  ];
}

/**
 * INSERT texts by table, row template (the columns go with them) and row count: built once (a batch would otherwise
 * join thousands of placeholders). Keyed by the constant strings themselves (their hashes are cached), not a key made per call.
 */
const insertSql = new Map<string, Map<string, Map<number, string>>>();

function insertText(table: string, columns: readonly string[], placeholders: string, rows: number): string {
  let byTemplate = insertSql.get(table);
  if (byTemplate === undefined) insertSql.set(table, (byTemplate = new Map()));
  let byCount = byTemplate.get(placeholders);
  if (byCount === undefined) byTemplate.set(placeholders, (byCount = new Map()));
  let sql = byCount.get(rows);
  if (sql === undefined) byCount.set(rows, (sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array(rows).fill(placeholders).join(', ')}`));
  return sql;
}

/** Run rows (acceptRunWrite): those with their project given, and those whose project is looked up (one INSERT each). */
export function insertRunRows(rows: readonly SqlParam[][]): SqlStatement[] {
  if (rows.length === 0) return [];
  if (rows.every((row) => row[RUN.carried] === null)) return insertRunRowsAs(PLAIN_RUN_COLUMNS, PLAIN_RUN_ROW_GIVEN, PLAIN_RUN_ROW, rows, RUN.carried);
  if (rows.every((row) => row[RUN.carried] !== null)) return insertRunRowsAs(RUN_COLUMNS, RUN_ROW_GIVEN, RUN_ROW, rows);
  return [...insertRunRows(rows.filter((row) => row[RUN.carried] === null)), ...insertRunRows(rows.filter((row) => row[RUN.carried] !== null))];
}

function insertRunRowsAs(columns: readonly string[], given: string, lookup: string, rows: readonly SqlParam[][], skip?: number): SqlStatement[] {
  if (rows.every((row) => row.length === RUN_COLUMNS.length)) return insertRows('runs', columns, given, rows, skip);
  if (rows.every((row) => row.length !== RUN_COLUMNS.length)) return insertRows('runs', columns, lookup, rows, skip);
  return [...insertRows('runs', columns, given, rows.filter((row) => row.length === RUN_COLUMNS.length), skip), ...insertRows('runs', columns, lookup, rows.filter((row) => row.length !== RUN_COLUMNS.length), skip)];
}

/** Multi-row INSERTs: one statement (one round trip on PostgreSQL) per chunk instead of one per row. */
export function insertRows(table: string, columns: readonly string[], placeholders: string, rows: readonly SqlParam[][], skip = -1): SqlStatement[] {
  const statements: SqlStatement[] = [];
  for (let i = 0; i < rows.length; i += INSERT_CHUNK_ROWS) {
    const n = Math.min(INSERT_CHUNK_ROWS, rows.length - i);
    let params: SqlParam[];
    if (n === 1 && skip < 0) params = rows[i]!;
    else {
      // `skip`: a position not written (the carried pending invocation's, of rows carrying none).
      params = [];
      for (let r = i; r < i + n; r++) {
        const row = rows[r]!;
        for (let v = 0; v < row.length; v++) if (v !== skip) params.push(row[v]!);
      }
    }
    statements.push({ sql: insertText(table, columns, placeholders, n), params });
  }
  return statements;
}

export function completionStatement({ id, row }: Completion): SqlStatement {
  return {
    // Only a pending invocation can complete: if cancelRun got there first, none of this change may land
    // (no new pending invocations in a cancelled run, no run status overwriting 'cancelled').
    sql: `UPDATE invocations SET status = ?, attempt = ?, outputs = ?, error = ?, started_at = ?, finished_at = ?,
            usage = ? WHERE id = ? AND status = 'pending'`,
    params: [row.status ?? null, row.attempt ?? null, row.outputs ?? null, row.error ?? null, row.startedAt ?? null, row.finishedAt ?? null, row.usage ?? null, id],
    check: (result) => {
      if (result.changes === 0) throw new InvocationNotPendingError(id);
    },
  };
}

/** Only the fields present in the update are written (`null` clears, `undefined` leaves as is); `compact`: see Segment. */
export function updateRunStatement(update: RunUpdate, compact?: string, appendCompact = true, consume?: string): SqlStatement | null {
  const { sets, params } = assignments(update, RUN_UPDATE_COLUMNS);
  if (compact !== undefined) {
    // Appended to what the run row holds already (a queued run's carried trigger completion: carryFirst); as `= ?`
    // when it holds nothing (NULL || text is NULL).
    sets.push(appendCompact ? `${COMPACT_COLUMN} = COALESCE(${COMPACT_COLUMN} || '${COMPACT_SEPARATOR}', '') || ?` : `${COMPACT_COLUMN} = ?`);
    params.push(compact);
  }
  if (consume !== undefined) sets.push(`${CARRIED_COLUMN} = NULL`);
  if (sets.length === 0) return null;
  params.push(update.id);
  // A run that ended stays ended: a late 'running'/'waiting'/'queued' (a process that lost the run) never reopens it.
  const reopens = update.status === 'queued' || update.status === 'running' || update.status === 'waiting';
  if (consume !== undefined) return { ...consumeStatement(update.id, consume), sql: `UPDATE runs SET ${sets.join(', ')} WHERE id = ?${CONSUMES}`, params };
  return { sql: `UPDATE runs SET ${sets.join(', ')} WHERE id = ?${reopens ? ` AND status IN ('queued', 'running', 'waiting')` : ''}`, params };
}

/**
 * The consumption of the invocation carried in a run's row (its completion): the column cleared, only while it is
 * still set and the run active; otherwise (a cancel, or another process's completion, got there first) the check
 * fails the batch as the pending row's conditional UPDATE did (InvocationNotPendingError).
 */
const CONSUMES = ` AND ${CARRIED_COLUMN} IS NOT NULL AND status IN ('queued', 'running', 'waiting')`;

export function consumeStatement(runId: string, invocationId: string): SqlStatement {
  return {
    sql: `UPDATE runs SET ${CARRIED_COLUMN} = NULL WHERE id = ?${CONSUMES}`,
    params: [runId],
    check: (result) => {
      if (result.changes !== 1) throw new InvocationNotPendingError(invocationId);
    },
  };
}

/** A carried invocation interrupted before keeps its count on its row (written as a row: compactFinishedRuns). */
export function interruptionsKept(completion: Completion): SqlStatement[] {
  const n = completion.inRun?.interruptions;
  return n ? [{ sql: 'UPDATE invocations SET interruptions = ? WHERE id = ?', params: [n, completion.id] }] : [];
}
