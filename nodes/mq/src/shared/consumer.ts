/**
 * The glue the pack's consumer triggers share around `deliver()`: reconnecting with backoff (200 ms doubling to
 * 30 s, back to 200 ms once consuming again), the deliveries still running (awaited on stop, so no message is cut
 * between its run's commit and its ack), and how long a delivery whose run could not be stored waits before the
 * broker offers it again.
 */
const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 30_000;

/** 200 ms doubling per delivery, at most 5 s. */
export const redeliveryDelay = (deliveries: number): number => Math.min(RETRY_MIN_MS * 2 ** (deliveries - 1), 5_000);

export class Backoff {
  private delay = RETRY_MIN_MS;
  private timer: NodeJS.Timeout | undefined;

  /** The wait before the next attempt, in ms; each call doubles the following one. */
  next(): number {
    const wait = this.delay;
    this.delay = Math.min(wait * 2, RETRY_MAX_MS);
    return wait;
  }

  /** Run `attempt` after the next wait, or after `wait` ms (one pending at a time); the wait as text for the log line. */
  retry(attempt: () => unknown, wait = this.next()): string {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void attempt(), wait);
    return `${Math.round(wait / 100) / 10} s`;
  }

  /** Consuming again: the next failure waits the least. */
  reset(): void {
    this.delay = RETRY_MIN_MS;
  }

  cancel(): void {
    clearTimeout(this.timer);
  }
}

/** Deliveries being handled (emit, then ack/nack/dead-letter): a stop waits for them. */
export class InFlight {
  private readonly running = new Set<Promise<unknown>>();

  track(work: Promise<unknown>): void {
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }

  async drain(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }
}
