/**
 * The outbox relay (on mains): moves committed runs from run_outbox into the BullMQ queue, then deletes their rows.
 * Runs committed together go as one job of up to `batch` runs (a worker claims and starts them in one transaction,
 * queue/worker.ts); the job's id is made of its runs' ids, so the same batch handed over twice is one job.
 * A run this main just committed is handed over at once, without reading the outbox back (its row is deleted after,
 * in the background, together with others); a sweep on a timer enqueues what is left in the outbox (Redis was down, a
 * main died between commit and hand-over). A run in two jobs (two mains sweeping, or a crash between enqueue and
 * delete) is harmless: a worker only runs a run it can lease.
 * Also re-enqueues runs still waiting for a worker after a while (a Redis restart without persistence loses jobs).
 */
import { createHash } from 'node:crypto';
import type { Logger } from '@flowcrew/sdk';
import type { Queue } from 'bullmq';
import type { Storage } from '../storage/types.ts';

const BATCH = 500;

export interface RelayOptions {
  storage: Storage;
  queue: Queue;
  log: Logger;
  attempts: number;
  /** Runs per job at most (FLOWCREW_QUEUE_BATCH); default 16. */
  batch?: number;
  /** Timer for leftovers (ms); default 1,000. */
  intervalMs?: number;
  /** Runs queued and nobody's this long are enqueued again (ms); default 30,000. */
  requeueAfterMs?: number;
  /** The sweep takes outbox rows older than this (ms; younger ones are being handed over by their main); default 5,000. */
  leftoverAfterMs?: number;
  /** This main's reply channel and whether a request here waits on a run: its job then carries it (queue/replies.ts). */
  replies?: ReplyRoute;
}

export interface ReplyRoute {
  channel: string;
  waits(runId: string): boolean;
}

/**
 * A job's data: the runs it carries, and per run the attempts made so far (queue/worker.ts). `runId`: one run (older
 * mains). `replyTo`: the reply channel of the main waiting on these of its runs (the others answer on their own);
 * `lists`: that main reads a list of answers in one message (queue/replies.ts ReplyPublisher; older mains: one each).
 */
export interface RunsJob {
  runIds?: string[];
  runId?: string;
  tries?: Record<string, number>;
  replyTo?: { channel: string; runIds: string[]; lists?: boolean };
}

/** The part of `replyTo` that concerns `runIds` (a job split or retried with fewer runs), if any. */
export function replyToOf(replyTo: RunsJob['replyTo'], runIds: readonly string[]): RunsJob['replyTo'] {
  const ids = replyTo?.runIds.filter((id) => runIds.includes(id)) ?? [];
  return ids.length > 0 ? { channel: replyTo!.channel, runIds: ids, ...(replyTo!.lists ? { lists: true } : {}) } : undefined;
}

/**
 * Job id: the run's id for a single run, else a hash of the batch's ids. A completed job is removed at once: the same
 * run can be enqueued again (a run parked on a question and answered, queue/mode.ts requeueParked). While a job waits
 * or runs, its id still deduplicates a double hand-over of the same batch.
 */
export function jobOptions(runIds: readonly string[], attempts: number) {
  const jobId = runIds.length === 1 ? runIds[0]! : `b-${createHash('sha1').update(runIds.join(' ')).digest('base64url')}`;
  return { jobId, attempts, backoff: { type: 'exponential' as const, delay: 1_000 }, removeOnComplete: true, removeOnFail: 10_000 };
}

/** The jobs carrying these runs, `batch` runs each at most; with `replies`, the runs this main waits on name its channel. */
export function runJobs(runIds: readonly string[], batch: number, attempts: number, replies?: ReplyRoute) {
  const jobs = [];
  for (let i = 0; i < runIds.length; i += batch) {
    const ids = runIds.slice(i, i + batch);
    const waited = replies ? ids.filter((id) => replies.waits(id)) : [];
    const data: RunsJob = waited.length > 0 ? { runIds: ids, replyTo: { channel: replies!.channel, runIds: waited, lists: true } } : { runIds: ids };
    jobs.push({ name: 'runs', data, opts: jobOptions(ids, attempts) });
  }
  return jobs;
}

export class OutboxRelay {
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private lastRequeue = Date.now();
  /** Runs committed here and not yet handed over. */
  private fresh: string[] = [];
  /** The outbox is swept at the next pass (timer); everything in it at the first one (a previous life's rows). */
  private sweepDue = true;
  private firstSweep = true;
  /** Outbox rows of runs handed over, deleted in the background. */
  private removing: Promise<void> = Promise.resolve();
  /** A hand-over of fresh runs is due at the next setImmediate (see committed()). */
  private handOverDue = false;
  private stopped = false;
  readonly stats = { enqueued: 0, requeued: 0, failures: 0, swept: 0 };

  constructor(private readonly options: RelayOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      this.sweepDue = true;
      this.kick();
    }, this.options.intervalMs ?? 1_000);
    this.timer.unref();
    this.kick();
  }

  /**
   * A run committed with its outbox row (queue/mode.ts): enqueue it now, i.e. once the runs committed with it are here
   * too. The runs of one group commit are told one by one, each in a promise continuation of its own: kicking at the
   * first one handed it over ALONE, and the rest of its commit followed as a second job (measured, session 15: 909 of
   * 1,360 hand-overs carried one run). Deferred to the next setImmediate (after the pending continuations, no timer
   * wait), a commit's runs are one job.
   */
  committed(runId: string): void {
    this.fresh.push(runId);
    if (this.handOverDue) return;
    this.handOverDue = true;
    setImmediate(() => {
      this.handOverDue = false;
      if (!this.stopped) this.kick();
    });
  }

  /** Relay now (coalesced: one pass at a time, one more if woken meanwhile). */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.fresh.length > 0) await this.handOver(this.fresh.splice(0, BATCH));
      if (this.sweepDue) {
        this.sweepDue = false;
        await this.sweep();
      }
      await this.requeueStale();
    } catch (error) {
      this.stats.failures++;
      this.options.log.warn(`queue relay: ${(error as Error).message}; the runs stay in the outbox and are enqueued by the next sweep`);
    }
  }

  /** Enqueue, then delete the outbox rows in the background (the next hand-over does not wait for that commit). */
  private async handOver(runIds: string[]): Promise<void> {
    const { queue, storage, attempts, log } = this.options;
    await queue.addBulk(runJobs(runIds, this.options.batch ?? 16, attempts, this.options.replies));
    this.stats.enqueued += runIds.length;
    const removed = storage.outbox!.remove(runIds).catch((error: unknown) => log.warn(`queue relay: could not delete ${runIds.length} outbox row(s): ${(error as Error).message}; they are enqueued again (one job per run)`));
    this.removing = Promise.all([this.removing, removed]).then(() => undefined);
  }

  /** What is left in the outbox: rows whose main could not hand them over (Redis down, the main died). */
  private async sweep(): Promise<void> {
    const olderThan = this.firstSweep ? Number.MAX_SAFE_INTEGER : Date.now() - (this.options.leftoverAfterMs ?? 5_000);
    this.firstSweep = false;
    for (;;) {
      const rows = await this.options.storage.outbox!.pending(BATCH, olderThan);
      if (rows.length === 0) break;
      await this.handOver(rows.map((r) => r.runId));
      this.stats.swept += rows.length;
      await this.removing;
      if (rows.length < BATCH) break;
    }
  }

  private async requeueStale(): Promise<void> {
    const after = this.options.requeueAfterMs ?? 30_000;
    const now = Date.now();
    if (now - this.lastRequeue < after) return;
    this.lastRequeue = now;
    const stale = await this.options.storage.leases!.unowned(now - after, BATCH);
    if (stale.length === 0) return;
    await this.options.queue.addBulk(runJobs(stale, this.options.batch ?? 16, this.options.attempts, this.options.replies));
    this.stats.requeued += stale.length;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopped = true;
    if (this.fresh.length > 0) this.kick(); // committed and not yet handed over: now, not at a later setImmediate
    await this.running;
    await this.removing;
  }
}
