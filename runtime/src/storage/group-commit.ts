/**
 * The SQL storage's one writer (group commit): each write is a list of statements put on a queue, and a single
 * writer runs everything queued in ONE transaction. Every caller's promise settles once its own statements have
 * committed; one bad write in a batch fails only its caller (the batch is redone item by item).
 */
import { planBatch, statementsOf, type RunWrite } from './run-writes.ts';
import type { SqlDriver, SqlStatement, StatementResult } from './sql-driver.ts';

export interface GroupCommitStats {
  /** Transactions committed or attempted by the writer (batches, plus one per item retried alone). */
  transactions: number;
  /** Write calls settled. */
  writes: number;
  /** Largest number of writes that shared one transaction. */
  largestBatch: number;
  /** Batches that failed and were retried item by item. */
  failedBatches: number;
}

/** Caps so one flush stays a reasonably short transaction; the rest goes to the next flush. */
const MAX_BATCH_ITEMS = 1000;
const MAX_BATCH_STATEMENTS = 5000;
/**
 * SQLite commits synchronously, on the event loop: batches of up to 700 run writes (256 runs in flight) held it for
 * 7-300 ms at load ~18, so rows (statements before coalescing) per batch are capped there. 200 split most runs across
 * two batches (a run's hops interleave with other runs' in the queue), so few were written whole in compact form
 * (run-compact.ts); at 1,000 nearly all are, a batch costs less than a 200-row one did (mostly run rows, not
 * invocation rows), and the chain's CPU per node fell by a third (bench/README.md, session 8).
 */
const MAX_BATCH_ROWS_SYNC = 1000;
/**
 * A full batch still takes the writes that follow of runs it accepted (up to this many times the caps): they merge
 * into its rows (a completion into its pending row, a finished run's invocations into its compact row). Cut off, such
 * a run was written in two commits: its invocations as rows with their index entries, completed by UPDATEs in the
 * next commit, and with no history kept, deleted there again (bench/README.md, session 11).
 */
const RUN_OVERFLOW = 3;

interface WriteItem {
  /** Plain statements; or, for the run path, rows the writer may coalesce with other run writes (run-writes.ts). */
  statements: SqlStatement[] | undefined;
  run?: RunWrite;
  /** Turns this item's statement results into its return value; may throw to reject only this caller. */
  finish: (results: StatementResult[]) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * A write that may wait (LaterWrites): ids gathered across calls and written as ONE item, in the writer's next
 * transaction, or on their own after `maxDelayMs` when nothing else is written meanwhile.
 */
export interface LaterKind {
  /** The statements writing all the ids gathered (in call order; an id may repeat). */
  statements(ids: readonly string[]): SqlStatement[];
  maxDelayMs: number;
}

interface LaterGroup {
  ids: string[];
  waiters: Array<{ resolve: (value: unknown) => void; reject: (error: unknown) => void }>;
  timer: NodeJS.Timeout | undefined;
}

/** Told each transaction's size and duration (one call per batch, not per write). */
export type CommitObserver = (commit: { writes: number; seconds: number; ok: boolean }) => void;

const NO_RESULT = (): undefined => undefined;
const NO_RESULTS: StatementResult[] = [];

/** What an item counts against a batch's statement cap: its statements, or a run write's rows before coalescing. */
function cost(item: WriteItem): number {
  return item.statements?.length ?? 1 + item.run!.invocations.length;
}

export class GroupCommit {
  readonly stats: GroupCommitStats = { transactions: 0, writes: 0, largestBatch: 0, failedBatches: 0 };
  /** Metrics hook (SqlStorage.observeCommits). */
  observer: CommitObserver | null = null;

  private queue: WriteItem[] = [];
  /** Writes that may wait (later()), by kind. */
  private readonly later = new Map<LaterKind, LaterGroup>();
  /** What the queued items count against a batch's statement cap (see cost). */
  private queuedCost = 0;
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  private closed = false;
  private closing: Promise<void> | null = null;
  private readonly maxStatements: number;

  constructor(
    private readonly driver: SqlDriver,
    /** See SqlStorageOptions.flush. */
    private readonly flushMode: 'immediate' | 'eager',
  ) {
    this.maxStatements = flushMode === 'immediate' ? MAX_BATCH_ROWS_SYNC : MAX_BATCH_STATEMENTS;
  }

  /** Refuse new writes and wait until every queued one has settled (the driver stays open). */
  drain(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.closing = (async () => {
        // Drain: the queue may refill while a flush runs (writes made before close() keep their promises).
        while (this.flushing || this.queue.length > 0 || this.later.size > 0) {
          if (this.flushing) await this.flushing;
          else {
            this.takeLater();
            await this.flush();
          }
        }
      })();
    }
    return this.closing;
  }

  /**
   * Whether more is queued than the next batch takes ('immediate' mode: SQLite). Whatever stays queued waits another
   * event-loop turn: under load each turn started new runs while a batch a turn committed the earlier ones, so a
   * backlog of ~2 batches of finished runs' writes (rows, message texts) sat in the queue through young-generation
   * GCs, copied by each; new runs now wait for a turn with no backlog instead (executor/dispatch.ts).
   */
  get behind(): boolean {
    return this.flushMode === 'immediate' && this.queuedCost >= this.maxStatements;
  }

  /** Queue a write; the promise settles when its transaction committed (or failed). */
  write<T>(statements: SqlStatement[], finish: (results: StatementResult[]) => T, run?: RunWrite): Promise<T> {
    if (this.closed) return Promise.reject(new Error('Storage is closed: the write was not performed.'));
    return new Promise<T>((resolve, reject) => {
      const item: WriteItem = { statements: run ? undefined : statements, run, finish, resolve: resolve as (v: unknown) => void, reject };
      this.queue.push(item);
      this.queuedCost += cost(item);
      this.schedule();
    });
  }

  /**
   * Queue a run write without a promise: `settled` is called with no argument once its transaction committed, or with
   * the error (a promise, its resolving functions and its reaction per hop were a good part of a hop's garbage).
   */
  enqueue(run: RunWrite, settled: (error?: unknown) => void): void {
    if (this.closed) return queueMicrotask(() => settled(new Error('Storage is closed: the write was not performed.')));
    const item: WriteItem = { statements: undefined, run, finish: NO_RESULT, resolve: settled, reject: settled };
    this.queue.push(item);
    this.queuedCost += cost(item);
    this.schedule();
  }

  /**
   * Queue a write that may wait: its ids go, with every other call's of the same kind, in ONE item of the writer's next
   * transaction (another write's), or in one of their own after `kind.maxDelayMs` if nothing else was written meanwhile.
   * The promise settles when that transaction committed (or failed). The queue mode's outbox deletes (outbox.ts): on a
   * busy main they ride with the next acceptances as one statement, instead of a delete per hand-over and, between two
   * acceptances' commits, a synchronous transaction of their own (session 13).
   */
  writeLater(kind: LaterKind, ids: readonly string[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('Storage is closed: the write was not performed.'));
    return new Promise<void>((resolve, reject) => {
      let group = this.later.get(kind);
      if (!group) {
        group = { ids: [], waiters: [], timer: undefined };
        this.later.set(kind, group);
        group.timer = setTimeout(() => {
          group!.timer = undefined;
          this.takeLater(kind);
          this.schedule();
        }, kind.maxDelayMs);
      }
      for (const id of ids) group.ids.push(id);
      group.waiters.push({ resolve: resolve as (v: unknown) => void, reject });
    });
  }

  /** The waiting later() writes (of one kind, or all) become one queued item each, behind what is queued. */
  private takeLater(only?: LaterKind): void {
    for (const [kind, group] of this.later) {
      if (only && kind !== only) continue;
      this.later.delete(kind);
      if (group.timer) clearTimeout(group.timer);
      const { waiters } = group;
      const item: WriteItem = {
        statements: kind.statements(group.ids),
        finish: NO_RESULT,
        resolve: (value) => { for (const w of waiters) w.resolve(value); },
        reject: (error) => { for (const w of waiters) w.reject(error); },
      };
      this.queue.push(item);
      this.queuedCost += cost(item);
    }
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return; // a running flush picks the queue up when it ends
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      void this.flush();
    };
    // Microtask for 'eager': still gathers every write issued synchronously in the current turn.
    if (this.flushMode === 'immediate') setImmediate(run);
    else queueMicrotask(run);
  }

  private flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = (async () => {
      try {
        while (this.queue.length > 0) {
          // Waiting later() writes ride in this transaction (another write's: no transaction of their own).
          if (this.later.size > 0) this.takeLater();
          const batch = this.takeBatch();
          for (const item of batch) this.queuedCost -= cost(item);
          await this.flushOnce(batch);
          // SQLite: yield to the event loop between batches so more writes can gather (and reads run).
          if (this.flushMode === 'immediate' && this.queue.length > 0) await new Promise((r) => setImmediate(r));
        }
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  private takeBatch(): WriteItem[] {
    const queue = this.queue;
    let statements = 0;
    let n = 0;
    /** Runs accepted in this batch. */
    let accepted: Set<string> | undefined;
    while (n < queue.length) {
      const item = queue[n]!;
      if (n >= MAX_BATCH_ITEMS || statements >= this.maxStatements) return accepted ? this.takeOverflow(n, statements, accepted) : queue.splice(0, n);
      statements += cost(item);
      if (item.run?.runId !== undefined && item.run.runs.length > 0) (accepted ??= new Set()).add(item.run.runId);
      n++;
    }
    return queue.splice(0, n);
  }

  /**
   * A batch full after its first `n` items still takes the later writes of the runs it accepted (up to RUN_OVERFLOW
   * times the caps), passing over other runs' writes, which stay queued in their order: a write of another run comes
   * before a run's own writes only when the run was not accepted in this batch, so no run's writes change order. A
   * write that is not a run's (a cancel, a delete, a flow save) ends the batch: nothing moves across it.
   * Stopping at the first write of another run instead cut the runs whose later hops were queued behind a new run's
   * acceptance (many, when a busy turn starts runs breadth-first): written in two commits, as rows, and with no
   * history kept, written and deleted again (bench/README.md, session 12).
   */
  private takeOverflow(n: number, statements: number, accepted: ReadonlySet<string>): WriteItem[] {
    const queue = this.queue;
    const batch = queue.slice(0, n);
    const passed: WriteItem[] = [];
    const maxItems = MAX_BATCH_ITEMS * RUN_OVERFLOW;
    const maxStatements = this.maxStatements * RUN_OVERFLOW;
    let i = n;
    for (; i < queue.length && batch.length < maxItems && statements < maxStatements; i++) {
      const item = queue[i]!;
      const runId = item.run?.runId;
      if (runId === undefined) break;
      if (accepted.has(runId)) {
        batch.push(item);
        statements += cost(item);
      } else passed.push(item);
    }
    if (passed.length === 0) queue.splice(0, i);
    else this.queue = i === queue.length ? passed : passed.concat(queue.slice(i));
    return batch;
  }

  private async flushOnce(batch: WriteItem[]): Promise<void> {
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    let results: StatementResult[];
    let plan: ReturnType<typeof planBatch>;
    const observer = this.observer;
    const started = observer ? performance.now() : 0;
    try {
      plan = planBatch(batch, this.driver.dialect === 'postgres');
      // Nothing to write (runs that keep no history, accepted and ended in this batch): no transaction at all.
      if (plan.statements.length === 0) results = NO_RESULTS;
      else {
        this.stats.transactions++;
        results = await this.driver.writeBatch(plan.statements);
        observer?.({ writes: batch.length, seconds: (performance.now() - started) / 1000, ok: true });
      }
    } catch (error) {
      observer?.({ writes: batch.length, seconds: (performance.now() - started) / 1000, ok: false });
      if (batch.length === 1) {
        this.settle(batch[0]!, error);
        return;
      }
      // One bad write must not fail the others: redo each item in its own transaction.
      this.stats.failedBatches++;
      for (const item of batch) {
        try {
          this.stats.transactions++;
          const own = await this.driver.writeBatch(item.statements ?? statementsOf(item.run!));
          this.settle(item, undefined, own);
        } catch (itemError) {
          this.settle(item, itemError);
        }
      }
      return;
    }
    batch.forEach((item, i) => this.settle(item, undefined, results.slice(...plan.slices[i]!)));
  }

  private settle(item: WriteItem, error: unknown, results?: StatementResult[]): void {
    this.stats.writes++;
    if (error !== undefined || !results) {
      item.reject(error);
      return;
    }
    try {
      item.resolve(item.finish(results));
    } catch (finishError) {
      item.reject(finishError);
    }
  }
}
