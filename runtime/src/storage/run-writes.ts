/**
 * The run/invocation write path (the hot path of every run): a run's acceptance, each node's completion and run
 * status changes become row-level writes, not SQL, so the group-commit writer can coalesce a batch before it runs it:
 *
 * - a row inserted and then updated in the same batch (an invocation created pending and completed before the flush,
 *   a run accepted and finished in one event-loop turn, as a webhook run usually is) is written ONCE, in its final
 *   state: no UPDATE, and no entry in the pending/active partial indexes that the UPDATE would remove again;
 * - all new rows of a batch go in multi-row INSERTs (one per table and 200 rows), on SQLite and PostgreSQL alike.
 *
 * Coalescing never crosses another kind of write (a cancel, a delete, a flow save): those are barriers, so the
 * order of everything stays as queued. When a coalesced batch fails, the writer retries every write alone with its
 * own plain statements (`statementsOf`), so exactly the write at fault fails, as before. The SQL texts themselves are
 * built in run-statements.ts.
 */
import { InvocationNotPendingError, type CompleteInvocation, type InvocationRecord, type MessageLimits, type RunRecord, type RunUpdate } from './types.ts';
import { json, MessageCache } from './run-messages.ts';
import type { SqlParam, SqlStatement } from './sql-storage.ts';
import { COMPACT_SEPARATOR, encodeInvocations, INV, INVOCATION_COLUMNS } from './run-compact.ts';
import { coalesceOutboxInserts } from './outbox.ts';
import { CARRIED_RUN_INPUT, type CarriedPending, type StoredPending } from './stored-pending.ts';
import {
  completionStatement,
  consumeStatement,
  deleteFinishedRuns,
  insertRows,
  insertRunRows,
  interruptionsKept,
  updateRunStatement,
  INSERT_CHUNK_ROWS,
  INVOCATION_ROW,
  RUN,
  RUN_UPDATE_COLUMNS,
  type Completion,
} from './run-statements.ts';

// Kept importable from here (sql-storage.ts imports it with the run writes).
export { json };

const DEFAULT_PROJECT_ID = 'default';
const FINISHED_STATUSES: ReadonlySet<SqlParam> = new Set(['succeeded', 'failed', 'cancelled']);

/** One write of the run path, as rows (parameters already serialised at call time: messages may change later). */
export interface RunWrite {
  /** The run written (when known): the group commit keeps the writes of a run accepted in a batch in that batch. */
  runId?: string;
  /** New runs (RUN_COLUMNS order, plus the flow id and fallback project for the project lookup). */
  runs: SqlParam[][];
  /** New invocations (INVOCATION_COLUMNS order). */
  invocations: SqlParam[][];
  /**
   * A pending invocation completing: its id and the values of INV's columns; `stored`: its pending row as stored by an
   * earlier transaction, when this process read it (StoredPending).
   */
  completion?: Completion;
  /** A queued acceptance's pending invocation carried in its run row (carryFirst): its row, for a completion in the same batch. */
  carried?: SqlParam[];
  runUpdate?: RunUpdate;
  /** The run ends with this write and keeps no history: deleted with it, or never written (CompleteInvocation.discardRun). */
  discardRun?: boolean;
  /** Statements that go with the write as they are (the queue mode's outbox row). */
  extra?: SqlStatement[];
}

export function acceptRunWrite(run: RunRecord, first: readonly InvocationRecord[], limits: MessageLimits, lease: [string | null, number | null], extra?: SqlStatement, flowProject?: string): RunWrite {
  // The trigger's message is the run's input, the trigger's output and the first input: serialise it once.
  const seen = new MessageCache(limits);
  const row: SqlParam[] = [
    run.id,
    run.flowId,
    run.flowVersion,
    run.status,
    run.triggerNodeId,
    seen.json(run.input, `the input of run ${run.id}`),
    run.error,
    run.parentRunId,
    run.createdAt,
    run.startedAt,
    run.finishedAt,
    ...lease,
    null, // the compact invocations, set when the whole run is in one batch (run-compact.ts)
    null, // the carried pending invocation (carryFirst)
  ];
  if (flowProject !== undefined) row.push(flowProject);
  else row.push(run.flowId, run.projectId ?? DEFAULT_PROJECT_ID);
  const invocations = first.map((inv) => invocationRow(inv, seen));
  if (!extra) return { runId: run.id, runs: [row], invocations };
  // A queued acceptance (its outbox row given) carries the trigger's completion (session 14) and its first pending
  // invocation (session 15) in the run row.
  const carried = carryFirst(row, invocations);
  return { runId: run.id, runs: [row], invocations: carried.rows, extra: [extra], ...(carried.pending ? { carried: carried.pending } : {}) };
}

/**
 * A queued run's acceptance (queue mode's main): its invocations already done (the trigger's completion) go into the
 * run row's compact history (run-compact.ts) instead of rows, saving a row and its three index entries per run; the
 * pending ones stay rows (everything that resumes, leases, cancels or reconciles reads those). Only when every carried
 * invocation comes before a pending one (lower seq): the highest seq of an active run stays a row (claimToRun,
 * listResumableRuns and the reconciler read it from rows). The worker's compact history of the run is appended to it
 * (updateRunStatement). Returns the rows still to insert.
 */
function carryFirst(run: SqlParam[], rows: SqlParam[][]): { rows: SqlParam[][]; pending?: SqlParam[] } {
  let firstPending = Infinity;
  const pending = rows.filter((inv) => inv[INV.status] === 'pending');
  for (const inv of pending) firstPending = Math.min(firstPending, Number(inv[INV.seq]));
  const done = rows.filter((inv) => inv[INV.status] !== 'pending' && Number(inv[INV.seq]) < firstPending);
  if (firstPending === Infinity) return { rows };
  if (done.length > 0) run[RUN.invocations] = encodeInvocations(done);
  // Session 15: ONE pending invocation, after everything done, goes into the run row too (runs.pending_json): no
  // invocation row at all. Its readers (claim, resume, reconciler, cancel, run view) read it there; whatever consumes
  // it (its completion) clears the column in a run UPDATE conditional on it still being set and the run active.
  if (pending.length === 1 && done.length === rows.length - 1) {
    run[RUN.carried] = encodeCarried(pending[0]!, run[RUN.input]!);
    return { rows: [], pending: pending[0]! };
  }
  return done.length === 0 ? { rows } : { rows: rows.filter((inv) => !done.includes(inv)) };
}

/**
 * The carried pending invocation's text: its input, when it is the run's input (the trigger's message, as along a
 * webhook's first wire), is not repeated (CARRIED_RUN_INPUT: read back from the run row's `input`), so the row (and
 * each of its versions until the finish) holds the message twice, not three times.
 */
function encodeCarried(pending: SqlParam[], runInput: SqlParam): string {
  if (pending[INV.input] === null || pending[INV.input] !== runInput) return encodeInvocations([pending]);
  const row = pending.slice();
  row[INV.input] = null;
  return `${CARRIED_RUN_INPUT}${encodeInvocations([row])}`;
}

/** The `runs` of a write that accepts no run (never written to). */
const NO_RUNS: SqlParam[][] = [];

export function completeInvocationWrite(change: CompleteInvocation, limits: MessageLimits, stored?: StoredPending, carried?: CarriedPending): RunWrite {
  const inv = change.invocation;
  const storedRow = stored?.take(inv.id);
  // A node's output message is usually also the next invocation's input (the same object): serialise it once.
  const seen = new MessageCache(limits);
  const inRun = carried?.take(inv.id);
  if (inRun) {
    const write = completeInvocationWrite(change, limits);
    // The carried pending row made the completed one (the columns a completion sets).
    write.completion!.inRun = { runId: inRun.runId, interruptions: inRun.interruptions, row: complete(inRun.row.slice(), write.completion!.row) };
    return write;
  }
  // One shape for every hop's write (no spread of optional parts: a temporary object and a slower copy per hop).
  return {
    runId: change.runId ?? change.run?.id ?? change.next[0]?.runId,
    runs: NO_RUNS,
    completion: {
      id: inv.id,
      row: {
        status: inv.status,
        attempt: inv.attempt,
        outputs: seen.outputs(inv.outputs, `the outputs of invocation ${inv.id}`),
        error: inv.error,
        startedAt: inv.startedAt,
        finishedAt: inv.finishedAt,
        usage: json(inv.usage ?? null, `the usage of invocation ${inv.id}`),
      },
      ...(storedRow ? { stored: storedRow } : {}),
    },
    invocations: change.next.length === 1 ? [invocationRow(change.next[0]!, seen)] : change.next.map((next) => invocationRow(next, seen)),
    runUpdate: change.run,
    discardRun: change.run !== undefined && change.discardRun === true,
  };
}

export function runUpdateWrite(update: RunUpdate): RunWrite | null {
  return updateRunStatement(update) ? { runs: [], invocations: [], runUpdate: update } : null;
}

/** A write's own statements, uncoalesced: what runs when it is alone, or retried alone after a batch failed. */
export function statementsOf(write: RunWrite): SqlStatement[] {
  const statements: SqlStatement[] = [];
  const inRun = write.completion?.inRun;
  if (inRun) statements.push(...insertRows('invocations', INVOCATION_COLUMNS, INVOCATION_ROW, [inRun.row]), ...interruptionsKept(write.completion!), consumeStatement(inRun.runId, write.completion!.id));
  else if (write.completion) statements.push(completionStatement(write.completion));
  statements.push(...insertRunRows(write.runs), ...insertRows('invocations', INVOCATION_COLUMNS, INVOCATION_ROW, write.invocations));
  if (write.extra) statements.push(...write.extra);
  const update = write.runUpdate && updateRunStatement(write.runUpdate);
  if (update) statements.push(update);
  if (write.discardRun && write.runUpdate) statements.push(...deleteFinishedRuns([write.runUpdate.id]));
  return statements;
}

/** A batch item as the planner sees it: a run write, or other statements (a barrier). */
export interface PlannedItem {
  run?: RunWrite;
  statements?: SqlStatement[];
}

/**
 * The statements for a whole batch, run writes coalesced, and for each item the range of the results that are its
 * own (empty for run writes: they return nothing).
 */
export function planBatch(items: readonly PlannedItem[], appendCompact = true): { statements: SqlStatement[]; slices: Array<[number, number]> } {
  const statements: SqlStatement[] = [];
  const slices: Array<[number, number]> = [];
  let segment: Segment | null = null;
  for (const item of items) {
    if (item.run) {
      (segment ??= new Segment(appendCompact)).add(item.run);
      slices.push([statements.length, statements.length]);
      continue;
    }
    if (segment) statements.push(...segment.statements());
    segment = null;
    const own = item.statements ?? [];
    slices.push([statements.length, statements.length + own.length]);
    statements.push(...own);
  }
  if (segment) statements.push(...segment.statements());
  return { statements, slices };
}

/** Consecutive run writes merged into final rows. */
/** A pending invocation row made the completed one, in place (the columns a completion sets). */
function complete(row: SqlParam[], done: Completion['row']): SqlParam[] {
  row[INV.status] = done.status ?? null;
  row[INV.attempt] = done.attempt ?? null;
  row[INV.outputs] = done.outputs ?? null;
  row[INV.error] = done.error ?? null;
  row[INV.startedAt] = done.startedAt ?? null;
  row[INV.finishedAt] = done.finishedAt ?? null;
  row[INV.usage] = done.usage ?? null;
  return row;
}

class Segment {
  /**
   * Whether a stored run's finishing UPDATE appends its compact part to the run row's (a history carried since the
   * acceptance: carryFirst, queue mode, PostgreSQL only) or sets it; SQLite never carries, and keeps `= ?`.
   */
  constructor(private readonly appendCompact: boolean) {}

  private readonly runs = new Map<string, SqlParam[]>();
  private readonly invocations = new Map<string, SqlParam[]>();
  /** Writes that cannot merge (a row of an earlier batch, a duplicate id): kept as their own statements, after the inserts. */
  private readonly after: SqlStatement[] = [];
  private readonly extra: SqlStatement[] = [];
  /** Updates of runs stored by an earlier batch, merged per run (later fields win, as applying them in order would). */
  private readonly runUpdates = new Map<string, RunUpdate>();
  /** Runs with a write in `after`: written as plain rows, never compacted. */
  private readonly unmerged = new Set<string>();
  /** Runs that keep no history (discardRun), ended in this segment. */
  private readonly discarded: string[] = [];
  /** Runs stored by an earlier batch and finished here: this segment's invocations of each, compacted (see below). */
  private readonly compactUpdates = new Map<string, string>();
  /**
   * Completions of pending rows stored by an earlier transaction whose row this process read (StoredPending): the
   * completed row, and the completion to write as an UPDATE if its run does not finish in this segment.
   */
  private readonly carried = new Map<SqlParam[], Completion>();
  /** Ids of carried completions whose rows went into their run's compact history. */
  private readonly compactedCarried: string[] = [];
  /** Completions of invocations carried in their run's row (CarriedPending): the completed row, and the completion. */
  private readonly inRun = new Map<SqlParam[], Completion>();
  /** Runs whose carried invocation completes in this segment: run id -> invocation id (their run UPDATE clears it). */
  private readonly consumed = new Map<string, string>();
  /** Invocations carried in the row of a run accepted in this segment (carryFirst), by id. */
  private readonly acceptedCarried = new Map<string, SqlParam[]>();

  add(write: RunWrite): void {
    if (write.completion) {
      const row = this.invocations.get(write.completion.id);
      // Only a row still pending here completes (the plain UPDATE's own condition); otherwise the UPDATE is kept
      // and its check fails the batch, which is then retried write by write.
      if (row && row[INV.status] === 'pending') complete(row, write.completion.row);
      else if (!row && write.completion.stored) {
        this.carried.set(complete(write.completion.stored.slice(), write.completion.row), write.completion);
      } else if (!row && write.completion.inRun && !this.consumed.has(write.completion.inRun.runId)) {
        this.inRun.set(write.completion.inRun.row.slice(), write.completion);
        this.consumed.set(write.completion.inRun.runId, write.completion.id);
      } else if (!row && this.acceptedCarried.has(write.completion.id)) {
        // Accepted with it carried in this segment: the run row is written without it, the completed row as a row.
        const accepted = this.acceptedCarried.get(write.completion.id)!;
        this.acceptedCarried.delete(write.completion.id);
        const run = this.runs.get(String(accepted[INV.runId]));
        if (run) run[RUN.carried] = null;
        this.invocations.set(write.completion.id, complete(accepted.slice(), write.completion.row));
      } else {
        if (row) this.unmerged.add(String(row[INV.runId]));
        this.after.push(completionStatement(write.completion));
      }
    }
    for (const row of write.runs) {
      if (this.runs.has(String(row[0]))) {
        this.unmerged.add(String(row[0]));
        this.after.push(...insertRunRows([row]));
      }
      // A copy: merging must not change the write's own rows, which a retry alone would use.
      else {
        this.runs.set(String(row[0]), row.slice());
        if (write.carried) this.acceptedCarried.set(String(write.carried[INV.id]), write.carried);
      }
    }
    for (const row of write.invocations) {
      if (this.invocations.has(String(row[0]))) {
        this.unmerged.add(String(row[INV.runId]));
        this.after.push(...insertRows('invocations', INVOCATION_COLUMNS, INVOCATION_ROW, [row]));
      } else this.invocations.set(String(row[0]), row.slice());
    }
    if (write.extra) this.extra.push(...write.extra);
    const update = write.runUpdate;
    if (!update) return;
    if (write.discardRun) this.discarded.push(update.id);
    const run = this.runs.get(update.id);
    if (run) {
      for (const field of Object.keys(RUN_UPDATE_COLUMNS) as Array<keyof typeof RUN_UPDATE_COLUMNS>) if (update[field] !== undefined) run[RUN[field]] = update[field];
    } else this.runUpdates.set(update.id, { ...this.runUpdates.get(update.id), ...definedFields(update) });
  }

  statements(): SqlStatement[] {
    const deletes = this.dropDiscardedRuns();
    const rows = this.compactFinishedRuns();
    return [
      // Runs before their invocations, and the outbox after its run.
      ...insertRunRows([...this.runs.values()]),
      ...insertRows('invocations', INVOCATION_COLUMNS, INVOCATION_ROW, rows),
      ...coalesceOutboxInserts(this.extra),
      ...this.carriedStatements(),
      ...this.consumeStatements(),
      ...this.after,
      ...[...this.runUpdates.values()].map((update) => updateRunStatement(update, this.compactUpdates.get(update.id), this.appendCompact, this.consumed.get(update.id))!),
      ...deletes,
    ];
  }

  /**
   * A run that keeps no history and was accepted and ended in this segment is not written at all (nothing of it is
   * stored before or after: the same end state as writing and deleting it). Any other is deleted after the writes.
   */
  private dropDiscardedRuns(): SqlStatement[] {
    if (this.discarded.length === 0) return [];
    const later: string[] = [];
    const dropped = new Set<string>();
    for (const runId of this.discarded) {
      // Outbox rows (queue mode) may refer to a run: with any in the segment, runs are written and deleted.
      if (this.runs.has(runId) && !this.unmerged.has(runId) && this.extra.length === 0) {
        this.runs.delete(runId);
        dropped.add(runId);
      } else later.push(runId);
    }
    if (dropped.size > 0) for (const [id, row] of this.invocations) if (dropped.has(row[INV.runId] as string)) this.invocations.delete(id);
    return later.length > 0 ? deleteFinishedRuns(later) : [];
  }

  /**
   * A run finished in this segment takes the invocations this segment inserts into its own row (run-compact.ts):
   * in the INSERT when the run is inserted here too, else in its finishing UPDATE (a run accepted by a queue-mode
   * main and finished on a worker, whose earlier invocations stay rows: the reader merges both places). Returns
   * the invocation rows still to insert. (A finished run has no pending invocation; one that has any stays rows.)
   */
  private compactFinishedRuns(): SqlParam[][] {
    let byRun: Map<string, SqlParam[][]> | undefined;
    const rest: SqlParam[][] = [];
    // Completed rows of pending rows stored earlier (carried) first: the lowest sequence numbers of their runs.
    const candidates = this.carried.size > 0 || this.inRun.size > 0 ? [...this.carried.keys(), ...this.inRun.keys(), ...this.invocations.values()] : this.invocations.values();
    for (const row of candidates) {
      const runId = row[INV.runId] as string;
      // A carried invocation interrupted before keeps its count, shown with it: a row (interruptionsKept).
      if (this.inRun.size > 0 && this.inRun.get(row)?.inRun?.interruptions) {
        rest.push(row);
        continue;
      }
      const run = this.runs.get(runId);
      const finishes = run ? FINISHED_STATUSES.has(run[RUN.status]!) : FINISHED_STATUSES.has(this.runUpdates.get(runId)?.status ?? null) && !this.discarded.includes(runId);
      if (finishes && !this.unmerged.has(runId)) {
        if (row[INV.status] === 'pending') this.unmerged.add(runId);
        else {
          byRun ??= new Map();
          const rows = byRun.get(runId);
          if (rows) rows.push(row);
          else byRun.set(runId, [row]);
          continue;
        }
      }
      // A carried row not compacted is written as its UPDATE (carriedStatements), never inserted.
      if (!this.carried.has(row)) rest.push(row);
    }
    if (!byRun) return rest;
    for (const [runId, rows] of byRun) {
      const run = this.runs.get(runId);
      if (this.unmerged.has(runId)) {
        for (const row of rows) if (!this.carried.has(row)) rest.push(row);
      } else {
        // Appended to the history carried since the acceptance, if any (carryFirst).
        if (run) run[RUN.invocations] = run[RUN.invocations] ? `${String(run[RUN.invocations])}${COMPACT_SEPARATOR}${encodeInvocations(rows)}` : encodeInvocations(rows);
        else this.compactUpdates.set(runId, encodeInvocations(rows));
        // Compacted: its stored pending row is deleted (carriedStatements), not updated.
        for (const row of rows) if (this.carried.has(row)) this.compactedCarried.push(String(row[INV.id]));
        // (A completion carried in the run row needs nothing more: its run's UPDATE clears the column.)
      }
    }
    return rest;
  }

  /**
   * Completions of invocations carried in their run's row: the column cleared (the consumption, checked) in the run's
   * own UPDATE when the run has one here, else alone; an interrupted one's count kept on its row.
   */
  private consumeStatements(): SqlStatement[] {
    if (this.inRun.size === 0) return [];
    const statements: SqlStatement[] = [];
    for (const completion of this.inRun.values()) {
      statements.push(...interruptionsKept(completion));
      if (!this.runUpdates.has(completion.inRun!.runId)) statements.push(consumeStatement(completion.inRun!.runId, completion.id));
    }
    return statements;
  }

  /**
   * The carried completions: the stored pending rows of those compacted deleted in ONE statement, which fails the
   * batch unless every one of them was still pending (the UPDATE's own condition: a cancel or another worker got
   * there first; the writer then retries each write alone, as its plain UPDATE); the others as their UPDATE.
   */
  private carriedStatements(): SqlStatement[] {
    if (this.carried.size === 0) return [];
    const compacted = new Set(this.compactedCarried);
    const statements: SqlStatement[] = [];
    for (let i = 0; i < this.compactedCarried.length; i += INSERT_CHUNK_ROWS) {
      const ids = this.compactedCarried.slice(i, i + INSERT_CHUNK_ROWS);
      statements.push({
        sql: `DELETE FROM invocations WHERE id IN (${ids.map(() => '?').join(', ')}) AND status = 'pending'`,
        params: ids,
        check: (result) => {
          if (result.changes !== ids.length) throw new InvocationNotPendingError(ids[0]!);
        },
      });
    }
    for (const completion of this.carried.values()) if (!compacted.has(completion.id)) statements.push(completionStatement(completion));
    return statements;
  }
}

function definedFields(update: RunUpdate): RunUpdate {
  const out: RunUpdate = { id: update.id };
  for (const field of Object.keys(RUN_UPDATE_COLUMNS) as Array<keyof typeof RUN_UPDATE_COLUMNS>) if (update[field] !== undefined) (out as unknown as Record<string, unknown>)[field] = update[field];
  return out;
}

/**
 * Finished invocations inserted outside a completion (a node's durable steps: storage/steps.ts), checked against the
 * limits now (throws before anything is queued). A run write like the others: queued behind the run's acceptance, so a
 * step never commits before its run does, and coalesced into the batch's INSERTs.
 */
export function invocationInsertWrite(records: readonly InvocationRecord[], limits: MessageLimits): RunWrite {
  const seen = new MessageCache(limits);
  return { runs: [], invocations: records.map((inv) => invocationRow(inv, seen)) };
}

function invocationRow(inv: InvocationRecord, seen: MessageCache): SqlParam[] {
  return [
    inv.id,
    inv.runId,
    inv.nodeId,
    inv.nodeType,
    inv.status,
    inv.attempt,
    seen.json(inv.input, `the input of invocation ${inv.id}`),
    seen.outputs(inv.outputs, `the outputs of invocation ${inv.id}`),
    inv.error,
    inv.parentId,
    inv.seq,
    inv.createdAt,
    inv.startedAt,
    inv.finishedAt,
    json(inv.usage ?? null, `the usage of invocation ${inv.id}`),
  ];
}
