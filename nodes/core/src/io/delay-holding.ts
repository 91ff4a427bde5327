/** The messages a delay node holds inside their invocations, and the timers that release them. */
import type { FlowMessage } from '@flowcrew/sdk';

/** setTimeout cannot wait longer than this; longer delays are chained. */
const MAX_TIMER_MS = 2_147_483_647;

export function longTimeout(fn: () => void, ms: number): { clear(): void } {
  let timer: NodeJS.Timeout;
  const arm = (remaining: number) => {
    timer = setTimeout(() => (remaining > MAX_TIMER_MS ? arm(remaining - MAX_TIMER_MS) : fn()), Math.min(remaining, MAX_TIMER_MS));
  };
  arm(Math.max(0, ms));
  return { clear: () => clearTimeout(timer) };
}

export function cancelled(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('delay cancelled');
}

/** A message waiting in the node; `release(true)` sends it, `release(false)` drops it. */
export interface Waiter {
  release(send: boolean): void;
  fail(error: Error): void;
}

/**
 * The messages a node holds across runs, with Node-RED's controls: `msg.reset` drops them all,
 * `msg.flush` sends them now (a number: only that many, oldest first).
 */
export class Holding {
  private readonly waiters = new Set<Waiter>();
  constructor(private readonly onChange: (count: number) => void) {}

  /** Wait until released, with an optional timer that releases it; an aborted signal rejects. */
  hold(signal: AbortSignal, afterMs?: number): { promise: Promise<boolean>; waiter: Waiter } {
    let waiter!: Waiter;
    const promise = new Promise<boolean>((resolve, reject) => {
      const timer = afterMs === undefined ? undefined : longTimeout(() => waiter.release(true), afterMs);
      const onAbort = () => waiter.fail(cancelled(signal));
      const settle = () => {
        timer?.clear();
        signal.removeEventListener('abort', onAbort);
        this.waiters.delete(waiter);
        this.onChange(this.waiters.size);
      };
      waiter = {
        release: (send) => {
          settle();
          resolve(send);
        },
        fail: (error) => {
          settle();
          reject(error);
        },
      };
      if (signal.aborted) {
        reject(cancelled(signal));
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
      this.onChange(this.waiters.size);
    });
    return { promise, waiter };
  }

  dropAll(): void {
    for (const waiter of [...this.waiters]) waiter.release(false);
  }

  flush(count: unknown): void {
    const all = [...this.waiters];
    const n = typeof count === 'number' ? Math.min(Math.floor(count), all.length) : all.length;
    for (const waiter of all.slice(0, n)) waiter.release(true);
  }

  failAll(error: Error): void {
    for (const waiter of [...this.waiters]) waiter.fail(error);
  }
}

/** A message carrying only `flush` (and a message id) is a control message: it flushes but is not itself sent. */
export const isBareFlush = (msg: FlowMessage) => 'flush' in msg && Object.keys(msg).filter((k) => k !== '_msgid').length === 1;

/**
 * Keys a previous instance left for invocations that have not come back (a restart replays every waiting one within
 * moments of the deploy; one that did not come back was failed by a redeploy or cancelled) are dropped after this.
 */
export const RESTORE_GRACE_MS = 3000;
