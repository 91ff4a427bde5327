/**
 * A worker's waits for runs to end (queue/worker.ts): a job waits for its runs, a slot hand-over for the run it
 * started. A run's end is heard here (runFinished); a run that left this worker without its end being heard (its lease
 * lost, a storage failure, parked on a question) is found by ONE timer that checks, every 500 ms, the runs awaited that
 * long and not active here against storage. Was a timer, a sleep promise and a Promise.race per run: at ~1,000 runs/s
 * some 500 live timers and their closures, for a check that almost never finds anything.
 */
import { isFinished } from '../storage/retention.ts';
import type { RunRecord } from '../storage/types.ts';

const CHECK_MS = 500;

/** A run's end heard here: `whenEnded` calls back once it is (at once if it already was). */
export interface Listening {
  whenEnded(callback: () => void): void;
  stop(): void;
}

/** A run whose end is awaited here; `settle` once, with the error when it left unfinished. */
interface AwaitedRun {
  runId: string;
  since: number;
  done: boolean;
  settle(error?: Error): void;
}

export class RunEnds {
  /** Who listens for a run's end here, by run id. */
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly awaited = new Set<AwaitedRun>();
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(
    /** Whether the run is being executed here (then it has not left). */
    private readonly active: (runId: string) => boolean,
    private readonly getRun: (runId: string) => Promise<RunRecord | null>,
  ) {}

  /** The run ended here (the executor's runFinished). */
  heard(runId: string): void {
    for (const hear of this.listeners.get(runId) ?? []) hear();
  }

  /** Listen for the run's end (before it can start here: it may end before its admission returns). */
  listen(runId: string): Listening {
    let set = this.listeners.get(runId);
    if (!set) this.listeners.set(runId, (set = new Set()));
    let heard = false;
    let then: (() => void) | undefined;
    const hear = () => {
      heard = true;
      then?.();
    };
    set.add(hear);
    const stop = () => {
      set.delete(hear);
      if (set.size === 0 && this.listeners.get(runId) === set) this.listeners.delete(runId);
    };
    return { whenEnded: (callback) => (heard ? callback() : (then = callback)), stop };
  }

  /**
   * Resolves when the run ends here, or is found finished or parked on a question (its job is done: the answer
   * enqueues it again); throws when it stopped here unfinished (lease lost, storage failure).
   */
  ended(runId: string, listening = this.listen(runId)): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const awaited: AwaitedRun = {
        runId,
        since: Date.now(),
        done: false,
        settle: (error) => {
          if (awaited.done) return;
          awaited.done = true;
          this.awaited.delete(awaited);
          listening.stop();
          if (error) reject(error);
          else resolve();
        },
      };
      this.awaited.add(awaited);
      listening.whenEnded(() => awaited.settle());
      if (!awaited.done) this.watch();
    });
  }

  private watch(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.awaited.size === 0) {
        clearInterval(this.timer);
        this.timer = undefined;
        return;
      }
      if (this.checking) return;
      this.checking = true;
      void this.check().finally(() => (this.checking = false));
    }, CHECK_MS);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    const now = Date.now();
    for (const awaited of [...this.awaited]) {
      if (awaited.done || now - awaited.since < CHECK_MS || this.active(awaited.runId)) continue;
      let stored: RunRecord | null;
      try {
        stored = await this.getRun(awaited.runId);
      } catch (error) {
        awaited.settle(error as Error);
        continue;
      }
      // Its end was heard meanwhile: what was read no longer matters.
      if (awaited.done) continue;
      if (stored && isFinished(stored)) awaited.settle(); // finished (here, or elsewhere)
      else if (stored?.status === 'waiting') awaited.settle(); // parked (a run backing off between retries is active here)
      else awaited.settle(new Error(`run ${awaited.runId} stopped on this worker without finishing`));
    }
  }
}
