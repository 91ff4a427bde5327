/**
 * Reading runs and invocations back (history, dashboard timings, runs to resume). The writes are in run-writes.ts
 * (the durable path, through the group-commit writer) and sql-storage.ts.
 */
import { jsonOrNull, num, numOrNull, strOrNull } from './row-values.ts';
import { bySeqThenId, COMPACT_COLUMN, decodeInvocations } from './run-compact.ts';
import { CARRIED_COLUMN, CARRIED_INTERRUPTIONS, CARRIED_RUN_INPUT, type CarriedPending } from './stored-pending.ts';
import type { Row, SqlDriver, SqlParam } from './sql-driver.ts';
import type { InvocationRecord, InvocationStatus, ResumableRun, RunFilter, RunRecord, RunStatus, RunTiming } from './types.ts';

const ACTIVE_RUN: readonly RunStatus[] = ['queued', 'running', 'waiting'];
const FINISHED_RUN: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];
/** `(...)` lists of run statuses for SQL; the values are constants, never input. */
export const ACTIVE_SQL = sqlList(ACTIVE_RUN);
export const FINISHED_SQL = sqlList(FINISHED_RUN);
const DEFAULT_RUN_LIMIT = 50;
/** What toRun reads: everything but the compact invocations (read only by listInvocations). */
const RUN_FIELDS = 'id, flow_id, flow_version, status, trigger_node_id, input, error, parent_run_id, project_id, created_at, started_at, finished_at, test';
const MAX_RUN_LIMIT = 1000;

function sqlList(values: readonly string[]): string {
  return `(${values.map((v) => `'${v}'`).join(', ')})`;
}

export class SqlRunReads {
  constructor(
    private readonly driver: SqlDriver,
    /** Where resumes leave the pending invocations carried in run rows they read (stored-pending.ts). */
    private readonly carried?: CarriedPending,
  ) {}

  async listResumableRuns(filter: { runIds?: readonly string[] } = {}): Promise<ResumableRun[]> {
    if (filter.runIds?.length === 0) return [];
    // Only the given runs (those whose lease this process just took): values inlined by the driver's escaping.
    const only = filter.runIds ? ` AND r.id IN (${filter.runIds.map(() => '?').join(', ')})` : '';
    const ids = filter.runIds ?? [];
    const runs = await this.driver.all(`SELECT * FROM runs r WHERE r.status IN ${ACTIVE_SQL}${only} ORDER BY r.created_at, r.id`, ids);
    if (runs.length === 0) return [];
    const pending = await this.driver.all(
      `SELECT i.* FROM invocations i JOIN runs r ON r.id = i.run_id
       WHERE r.status IN ${ACTIVE_SQL}${only} AND i.status = 'pending' ORDER BY i.run_id, i.seq`,
      ids,
    );
    const maxSeqs = await this.driver.all(
      `SELECT i.run_id, MAX(i.seq) AS max_seq FROM invocations i JOIN runs r ON r.id = i.run_id
       WHERE r.status IN ${ACTIVE_SQL}${only} GROUP BY i.run_id`,
      ids,
    );
    const byRun = new Map<string, ResumableRun>();
    const result = runs.map((row) => {
      const entry: ResumableRun = { run: toRun(row), pending: [], maxSeq: 0 };
      // Its first pending invocation carried in its row (session 15): no pending row then; max with its rows' below.
      const carried = decodeCarried(row, this.carried);
      if (carried) {
        entry.pending.push(carried);
        entry.maxSeq = carried.seq;
      }
      byRun.set(entry.run.id, entry);
      return entry;
    });
    // A run whose status changed between the queries is simply absent from byRun.
    for (const row of pending) byRun.get(String(row.run_id))?.pending.push(toInvocation(row));
    for (const row of maxSeqs) {
      const entry = byRun.get(String(row.run_id));
      if (entry) entry.maxSeq = Math.max(entry.maxSeq, num(row.max_seq));
    }
    return result;
  }

  async getRun(id: string): Promise<RunRecord | null> {
    const row = await this.driver.get(`SELECT ${RUN_FIELDS} FROM runs WHERE id = ?`, [id]);
    return row ? toRun(row) : null;
  }

  /** Newest first. Production runs only: the editor's test runs (pins/history.ts) never count in dashboards. */
  async listRunTimings(since: number, limit: number): Promise<RunTiming[]> {
    const rows = await this.driver.all(
      'SELECT flow_id, status, created_at, started_at, finished_at FROM runs WHERE created_at >= ? AND test = 0 ORDER BY created_at DESC LIMIT ?',
      [since, Math.max(1, Math.trunc(limit))],
    );
    return rows.map((row) => ({
      flowId: String(row.flow_id),
      status: String(row.status) as RunStatus,
      createdAt: num(row.created_at),
      startedAt: numOrNull(row.started_at),
      finishedAt: numOrNull(row.finished_at),
    }));
  }

  async listRuns(filter: RunFilter): Promise<RunRecord[]> {
    const where: string[] = [];
    const params: SqlParam[] = [];
    if (filter.flowId !== undefined) {
      where.push('flow_id = ?');
      params.push(filter.flowId);
    }
    if (filter.status !== undefined) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (filter.test !== undefined) where.push(filter.test ? 'test = 1' : 'test = 0');
    if (filter.projectIds !== undefined) {
      where.push(filter.projectIds.length === 0 ? '1 = 0' : `project_id IN (${filter.projectIds.map(() => '?').join(', ')})`);
      params.push(...filter.projectIds);
    }
    if (filter.before !== undefined) {
      // (created_at, id) matches the ORDER BY, so pages neither skip nor repeat runs created in the same ms.
      where.push('(created_at, id) < (SELECT c.created_at, c.id FROM runs c WHERE c.id = ?)');
      params.push(filter.before);
    }
    const limit = Math.min(Math.max(Math.trunc(filter.limit ?? DEFAULT_RUN_LIMIT), 1), MAX_RUN_LIMIT);
    params.push(limit);
    const rows = await this.driver.all(
      `SELECT ${RUN_FIELDS} FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT ?`,
      params,
    );
    return rows.map(toRun);
  }

  /**
   * A run's invocations: its rows, and those stored compact in its run row (run-compact.ts), in one order, with the
   * pending invocation its row carries (session 15; cancelled with the run when the run was cancelled, as cancelRun
   * marks pending rows).
   */
  async listInvocations(runId: string): Promise<InvocationRecord[]> {
    const [rows, run] = await Promise.all([
      this.driver.all('SELECT * FROM invocations WHERE run_id = ? ORDER BY seq, id', [runId]),
      this.driver.get(`SELECT id, status, input, finished_at, ${COMPACT_COLUMN} AS compact, ${CARRIED_COLUMN}, ${CARRIED_INTERRUPTIONS} FROM runs WHERE id = ?`, [runId]),
    ]);
    const stored = rows.map(toInvocation);
    const carried = run ? decodeCarried(run) : undefined;
    if (carried && run?.status === 'cancelled') Object.assign(carried, { status: 'cancelled', finishedAt: numOrNull(run.finished_at) });
    if ((run?.compact === null || run?.compact === undefined) && !carried) return stored;
    const compact = run?.compact === null || run?.compact === undefined ? [] : decodeInvocations(String(run.compact), runId);
    if (carried) compact.push(carried);
    return (stored.length === 0 ? compact : [...stored, ...compact]).sort(bySeqThenId);
  }
}

export function toRun(row: Row): RunRecord {
  return {
    id: String(row.id),
    flowId: String(row.flow_id),
    flowVersion: num(row.flow_version),
    status: String(row.status) as RunStatus,
    triggerNodeId: strOrNull(row.trigger_node_id),
    input: jsonOrNull(row.input),
    error: strOrNull(row.error),
    parentRunId: strOrNull(row.parent_run_id),
    projectId: String(row.project_id),
    createdAt: num(row.created_at),
    startedAt: numOrNull(row.started_at),
    finishedAt: numOrNull(row.finished_at),
    ...(Number(row.test) === 1 ? { test: true } : {}),
  };
}

export function toInvocation(row: Row): InvocationRecord {
  const usage = jsonOrNull(row.usage) as InvocationRecord['usage'];
  const interruptions = row.interruptions === undefined || row.interruptions === null ? 0 : num(row.interruptions);
  return {
    id: String(row.id),
    runId: String(row.run_id),
    nodeId: String(row.node_id),
    nodeType: String(row.node_type),
    status: String(row.status) as InvocationStatus,
    attempt: num(row.attempt),
    input: jsonOrNull(row.input),
    outputs: jsonOrNull(row.outputs) as InvocationRecord['outputs'],
    error: strOrNull(row.error),
    parentId: strOrNull(row.parent_id),
    seq: num(row.seq),
    createdAt: num(row.created_at),
    startedAt: numOrNull(row.started_at),
    finishedAt: numOrNull(row.finished_at),
    // Absent rather than null when the node reported none, so records round-trip as written.
    ...(usage ? { usage } : {}),
    ...(interruptions !== 0 ? { interruptions } : {}),
  };
}

/**
 * The pending invocation a run row carries (`pending_json`, session 15: stored-pending.ts), with its interruptions;
 * remembered in `registry` (with its row, for its completion) when given. Undefined when the row carries none.
 */
export function decodeCarried(row: Row, registry?: CarriedPending): InvocationRecord | undefined {
  const text = row[CARRIED_COLUMN];
  if (text === null || text === undefined) return undefined;
  const runId = String(row.id);
  // Its input not repeated when it is the run's (run-writes.ts encodeCarried): read from the run row's input.
  const runInput = String(text).startsWith(CARRIED_RUN_INPUT);
  const inv = decodeInvocations(runInput ? String(text).slice(CARRIED_RUN_INPUT.length) : String(text), runId)[0];
  if (!inv) return undefined;
  if (runInput) inv.input = jsonOrNull(row.input);
  const interruptions = row[CARRIED_INTERRUPTIONS] === null || row[CARRIED_INTERRUPTIONS] === undefined ? 0 : num(row[CARRIED_INTERRUPTIONS]);
  if (interruptions !== 0) inv.interruptions = interruptions;
  registry?.remember({ runId, interruptions, row: carriedRow(inv) });
  return inv;
}

/** A decoded invocation as a row (INVOCATION_COLUMNS order, JSON columns as text). */
function carriedRow(inv: InvocationRecord): SqlParam[] {
  const text = (value: unknown) => (value === undefined || value === null ? null : JSON.stringify(value));
  return [inv.id, inv.runId, inv.nodeId, inv.nodeType, inv.status, inv.attempt, text(inv.input), text(inv.outputs), inv.error, inv.parentId, inv.seq, inv.createdAt, inv.startedAt, inv.finishedAt, text(inv.usage)];
}
