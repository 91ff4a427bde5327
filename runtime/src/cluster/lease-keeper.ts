/**
 * Keeps this runtime's run leases (storage/leases.ts) when several runtimes share one PostgreSQL:
 * - at start, takes its own previous runs (same instance id) and runs nobody holds, and resumes them;
 * - every third of the lease time, renews its leases; a run it no longer holds (taken over after this process
 *   stalled past its lease) is stopped here, so two processes never keep executing one run; a run it holds but no
 *   longer executes (dropped after a failed write, e.g. a completion that lost a race with another process) is
 *   resumed here when it is still so at the next beat, instead of being renewed, unexecuted, for ever;
 * - on the same beat, takes over runs whose lease expired (their runtime died) and resumes them here;
 * - on a clean stop, gives its runs up at once, so another runtime takes them over without waiting for expiry;
 * - now and then, finishes runs left 'running' with every invocation done (leases.finishSettled: the last line of
 *   defence; each one is logged and counted, `stats.reconciled`, so an interleaving that leaves one is seen).
 */
import type { Logger } from '@flowcrew/sdk';
import type { Executor } from '../executor/executor.ts';
import type { RunLeases } from '../storage/leases.ts';

export interface LeaseKeeperOptions {
  leases: RunLeases;
  executor: Executor;
  log: Logger;
  owner: string;
  ttlMs: number;
  /** Default ttlMs / 3. */
  heartbeatMs?: number;
  /** A running run with nothing pending and nothing finished for this long is finished by the reconciler. Default max(2 × ttlMs, 10 s). */
  reconcileGraceMs?: number;
}

export class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | null = null;
  private stopped = false;
  /** Heartbeats done, runs taken over and runs stopped here after losing their lease (for tests and metrics). */
  readonly stats = { beats: 0, takenOver: 0, lost: 0, reconciled: 0, orphansResumed: 0 };
  /** Runs held but not executed here at the last beat (not parked on a question). */
  private orphans = new Set<string>();
  private lastReconcile = Date.now();

  constructor(private readonly options: LeaseKeeperOptions) {
    options.leases.hold({ owner: options.owner, ttlMs: options.ttlMs });
  }

  /** Take this runtime's share of unfinished runs and resume them; then keep leases on a timer. Resolves with how many resumed. */
  async start(): Promise<number> {
    const { leases, executor } = this.options;
    const mine = await leases.claim({ mode: 'start' });
    const resumed = mine.length > 0 ? await executor.resume(mine) : 0;
    if (!this.stopped) {
      this.timer = setInterval(() => void this.beat(), this.options.heartbeatMs ?? Math.floor(this.options.ttlMs / 3));
      this.timer.unref();
    }
    return resumed;
  }

  /** One heartbeat: renew, stop lost runs, take over expired ones. Never two at once (a slow database skips a beat). */
  beat(): Promise<void> {
    this.beating ??= this.renewAndTakeOver()
      .catch((error: unknown) => this.options.log.warn(`run leases: heartbeat failed (${(error as Error).message}); retrying at the next beat`))
      .finally(() => (this.beating = null));
    return this.beating;
  }

  private async renewAndTakeOver(): Promise<void> {
    const { leases, executor, log } = this.options;
    // Runs active before the renewal was queued: one accepted after it is not in its answer, and is not lost.
    const before = executor.activeRunIds();
    const held = await leases.renew();
    this.stats.beats++;
    const lost = before.filter((id) => !held.has(id) && executor.active.has(id));
    if (lost.length > 0) {
      this.stats.lost += lost.length;
      log.warn(`run leases: ${lost.length} run(s) were taken over by another runtime (this one stalled past its lease); stopping them here`);
      executor.abandon(lost, 'its lease was taken over by another runtime');
    }
    if (this.stopped) return;
    await this.resumeOrphans(held);
    await this.reconcile();
    const taken = await leases.claim({ mode: 'expired' });
    if (taken.length === 0) return;
    this.stats.takenOver += taken.length;
    log.info(`run leases: took over ${taken.length} run(s) whose runtime stopped renewing their leases`);
    await executor.resume(taken);
  }

  /**
   * Held, started (not queued: a queue worker may be admitting those), not parked on a question, of a flow deployed
   * here, and not executed here at this beat and the last one: resume them here.
   */
  private async resumeOrphans(held: Map<string, { status: string; flowId: string }>): Promise<void> {
    const { executor, log } = this.options;
    const idle = [...held].filter(([id, run]) => run.status === 'running' && executor.deployed.has(run.flowId) && !executor.active.has(id));
    const now = new Set(idle.map(([id]) => id));
    const orphans = [...now].filter((id) => this.orphans.has(id));
    this.orphans = new Set([...now].filter((id) => !this.orphans.has(id)));
    if (orphans.length === 0) return;
    const resumed = await executor.resume(orphans);
    this.stats.orphansResumed += resumed;
    if (resumed > 0) log.warn(`run leases: resumed ${resumed} run(s) this runtime held without executing them`);
  }

  /** At most every max(ttl, 5 s): finish runs whose invocations are all done but which were left open. */
  private async reconcile(): Promise<void> {
    const { ttlMs, leases, log } = this.options;
    const now = Date.now();
    if (now - this.lastReconcile < Math.max(ttlMs, 5_000)) return;
    this.lastReconcile = now;
    const finished = await leases.finishSettled(this.options.reconcileGraceMs ?? Math.max(2 * ttlMs, 10_000), now);
    if (finished.length === 0) return;
    this.stats.reconciled += finished.length;
    log.warn(`run leases: finished ${finished.length} run(s) left open with every invocation done: ${finished.map((f) => `${f.id} (${f.status})`).join(', ')}`);
  }

  /** Stop the heartbeat; `release` gives the given runs up at once (call it after the executor stopped cleanly). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.beating;
  }

  release(runIds: readonly string[]): Promise<void> {
    return this.options.leases.release(runIds);
  }
}
