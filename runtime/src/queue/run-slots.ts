/**
 * A worker's run slots. A BullMQ job carries a batch of runs (queue/relay.ts), so BullMQ's own concurrency counts
 * jobs, not runs: this keeps "runs a worker executes at once" (FLOWCREW_WORKER_CONCURRENCY) true. A job waits for as
 * many slots as it has runs (all of them when it has more runs than the worker has slots), and each run gives its slot
 * back when it ends. BullMQ is told to fetch one more job only while a slot is free (`fetchLimit`), so a busy worker
 * holds at most one job it cannot start yet instead of taking batches other workers could run.
 */
export class RunSlots {
  private used = 0;
  private jobs = 0;
  private readonly waiters: Array<{ n: number; resolve: () => void }> = [];

  constructor(
    readonly size: number,
    /** Told the number of jobs BullMQ may hold at once, whenever it changes. */
    private readonly fetchLimit: (jobs: number) => void,
  ) {
    this.tell();
  }

  /** Slots for a job of `runs` runs; resolves when they are this job's (FIFO). */
  async acquire(runs: number): Promise<void> {
    const n = Math.min(Math.max(runs, 1), this.size);
    this.jobs++;
    if (this.waiters.length === 0 && this.used + n <= this.size) this.used += n;
    else await new Promise<void>((resolve) => this.waiters.push({ n, resolve }));
    this.tell();
  }

  /**
   * One slot for a run started outside a job (a flow's freed concurrency slot handed to its oldest waiting run,
   * queue/slot-handover.ts), only if one is free now and no job waits for slots: false otherwise, nothing taken.
   */
  tryAcquire(): boolean {
    if (this.waiters.length > 0 || this.used >= this.size) return false;
    this.used++;
    this.tell();
    return true;
  }

  /** One run of a job ended (or was not ours): its slot is free. */
  release(n = 1): void {
    this.used = Math.max(0, this.used - n);
    while (this.waiters.length > 0 && this.used + this.waiters[0]!.n <= this.size) {
      const next = this.waiters.shift()!;
      this.used += next.n;
      next.resolve();
    }
    this.tell();
  }

  /** A job ended (after its runs gave their slots back). */
  jobDone(): void {
    this.jobs = Math.max(0, this.jobs - 1);
    this.tell();
  }

  get inUse(): number {
    return this.used;
  }

  private tell(): void {
    this.fetchLimit(Math.max(1, this.jobs + (this.used < this.size && this.waiters.length === 0 ? 1 : 0)));
  }
}
