/**
 * Run-history retention. Two mechanisms:
 * - on finish: `decideRetention` says whether a just-finished run is kept, from the mode (runtime default, or the
 *   flow's `settings.retention` override); the runtime deletes it with `storage.deleteRun` when told 'delete';
 * - by age: `RunPruner` periodically deletes finished runs older than `maxAgeMs`, whatever their status.
 */
import type { RetentionMode, RetentionPolicy, RunRecord, RunStatus, Storage } from './types.ts';

export type RetentionDecision = 'keep' | 'delete';

const FINISHED: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'cancelled']);

export function isFinished(run: Pick<RunRecord, 'status'>): boolean {
  return FINISHED.has(run.status);
}

/**
 * Keep or delete a run. Unfinished runs are always kept (they are still needed to resume). 'all' keeps every run
 * (until the age limit), 'failed' keeps only failed ones (for debugging), 'none' keeps nothing.
 */
export function decideRetention(
  policy: RetentionPolicy,
  run: Pick<RunRecord, 'status' | 'createdAt'>,
  options: { flowRetention?: RetentionMode; now?: number } = {},
): RetentionDecision {
  if (!isFinished(run)) return 'keep';
  const now = options.now ?? Date.now();
  if (policy.maxAgeMs > 0 && run.createdAt < now - policy.maxAgeMs) return 'delete';
  const mode = options.flowRetention ?? policy.mode;
  switch (mode) {
    case 'all':
      return 'keep';
    case 'failed':
      return run.status === 'failed' ? 'keep' : 'delete';
    case 'none':
      return 'delete';
  }
}

/** Apply `decideRetention` to a finished run: deletes it if needed. Returns true when it was deleted. */
export async function applyRetention(
  storage: Pick<Storage, 'deleteRun'>,
  policy: RetentionPolicy,
  run: RunRecord,
  flowRetention?: RetentionMode,
): Promise<boolean> {
  if (decideRetention(policy, run, { flowRetention }) === 'keep') return false;
  await storage.deleteRun(run.id);
  return true;
}

export interface RunPrunerOptions {
  /** How often to prune; default hourly. */
  intervalMs?: number;
  now?: () => number;
  /** Prune failures are reported here and retried at the next interval (default: console.warn). */
  onError?: (error: unknown) => void;
}

/** Periodic age-based pruning. Does nothing when `maxAgeMs` is 0. Ticks never overlap. */
export class RunPruner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private readonly storage: Pick<Storage, 'pruneRuns'>,
    private readonly policy: RetentionPolicy,
    private readonly options: RunPrunerOptions = {},
  ) {}

  /** Prune now; returns how many runs were deleted. Concurrent calls share the one in progress. */
  pruneOnce(): Promise<number> {
    if (this.policy.maxAgeMs <= 0) return Promise.resolve(0);
    if (!this.running) {
      const cutoff = (this.options.now ?? Date.now)() - this.policy.maxAgeMs;
      this.running = this.storage.pruneRuns(cutoff).finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  /** Prune once now, then every interval. The timer does not keep the process alive. */
  start(): void {
    if (this.timer || this.policy.maxAgeMs <= 0) return;
    const tick = () => {
      this.pruneOnce().catch(this.options.onError ?? ((e) => console.warn(`[flowcrew] run pruning failed: ${(e as Error).message}`)));
    };
    tick();
    this.timer = setInterval(tick, this.options.intervalMs ?? 60 * 60 * 1000);
    this.timer.unref();
  }

  /** Stop the timer and wait for a prune in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => 0);
  }
}
