/**
 * The outbox relay (on mains): moves committed runs from run_outbox into the BullMQ queue, then deletes their rows.
 * Woken after each acceptance, and on a timer for what a failure left behind (Redis down: rows stay and go later).
 * Job id = run id, so a run handed over twice (two mains, or a crash between enqueue and delete) is one job.
 * Also re-enqueues runs still waiting for a worker after a while (a Redis restart without persistence loses jobs).
 */
import type { Logger } from '@flowcrew/sdk';
import type { Queue } from 'bullmq';
import type { Storage } from '../storage/types.ts';

const BATCH = 500;

export interface RelayOptions {
  storage: Storage;
  queue: Queue;
  log: Logger;
  attempts: number;
  /** Timer for leftovers (ms); default 1,000. */
  intervalMs?: number;
  /** Runs queued and nobody's this long are enqueued again (ms); default 30,000. */
  requeueAfterMs?: number;
}

/**
 * A completed job is removed at once: the same run can be enqueued again under its id (a run parked on a question
 * and answered, queue/mode.ts requeueParked). While a job waits or runs, its id still deduplicates a double hand-over.
 */
export function jobOptions(runId: string, attempts: number) {
  return { jobId: runId, attempts, backoff: { type: 'exponential' as const, delay: 1_000 }, removeOnComplete: true, removeOnFail: 10_000 };
}

export class OutboxRelay {
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private lastRequeue = Date.now();
  readonly stats = { enqueued: 0, requeued: 0, failures: 0 };

  constructor(private readonly options: RelayOptions) {}

  start(): void {
    this.timer = setInterval(() => this.kick(), this.options.intervalMs ?? 1_000);
    this.timer.unref();
    this.kick();
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
    const { storage, queue, log, attempts } = this.options;
    const outbox = storage.outbox!;
    try {
      for (;;) {
        const rows = await outbox.pending(BATCH);
        if (rows.length === 0) break;
        await queue.addBulk(rows.map(({ runId }) => ({ name: 'run', data: { runId }, opts: jobOptions(runId, attempts) })));
        await outbox.remove(rows.map((r) => r.runId));
        this.stats.enqueued += rows.length;
        if (rows.length < BATCH) break;
      }
      await this.requeueStale();
    } catch (error) {
      this.stats.failures++;
      log.warn(`queue relay: ${(error as Error).message}; the runs stay in the outbox and are enqueued at the next pass`);
    }
  }

  private async requeueStale(): Promise<void> {
    const after = this.options.requeueAfterMs ?? 30_000;
    const now = Date.now();
    if (now - this.lastRequeue < after) return;
    this.lastRequeue = now;
    const stale = await this.options.storage.leases!.unowned(now - after, BATCH);
    if (stale.length === 0) return;
    await this.options.queue.addBulk(stale.map((runId) => ({ name: 'run', data: { runId }, opts: jobOptions(runId, this.options.attempts) })));
    this.stats.requeued += stale.length;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
