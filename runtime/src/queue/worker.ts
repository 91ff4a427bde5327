/**
 * A queue worker: takes jobs from BullMQ, each a batch of runs committed together (queue/relay.ts), leases the runs in
 * storage (so exactly one process executes each, whatever Redis re-delivers), deploys the flow revision the mains
 * deployed if it has not yet, runs them here, and completes the job when its runs finished. One job per batch instead
 * of per run: BullMQ's two Lua calls per job were a quarter of a worker's busy time (bench/README.md, queue section).
 * Attempts are counted per run (in the job's data): a run that stopped here unfinished is tried again with a backoff
 * and failed, visibly, after FLOWCREW_QUEUE_ATTEMPTS tries, without holding back or failing the runs beside it.
 * BullMQ re-delivers the job of a worker that died (stalled-job recovery); the lease keeper also takes such runs over
 * once their lease expires; either way, only the lease's winner runs a run.
 */
import type { Logger } from '@flowcrew/sdk';
import { DelayedError, Queue, Worker, type Job, type ConnectionOptions } from 'bullmq';
import { OneAtATime } from '../one-at-a-time.ts';
import type { Executor } from '../executor/executor.ts';
import { validateFlowAsync } from '../flow/validate.ts';
import type { NodeRegistry } from '../registry/registry.ts';
import type { EventFanout } from '../executor/events.ts';
import type { ResumableRun, RunRecord, Storage } from '../storage/types.ts';
import { callingFlowsOf } from '../subflows/called-runs.ts';
import { jobOptions, replyToOf, type RunsJob } from './relay.ts';
import type { ReplyRoute } from './replies.ts';
import { RunEnds } from './run-ends.ts';
import { RunSlots } from './run-slots.ts';
import { SlotHandover, type Admission } from './slot-handover.ts';

export const QUEUE_NAME = 'flowcrew-runs';

export interface QueueWorkerOptions {
  connection: ConnectionOptions;
  storage: Storage;
  executor: Executor;
  events: EventFanout;
  registry: NodeRegistry;
  log: Logger;
  concurrency: number;
  attempts: number;
  maxDepth?: number;
  /** Redis key prefix of this installation's queue (cluster/config.ts redisPrefix); BullMQ's default when unset. */
  prefix?: string;
  /** BullMQ lock of a job in progress; a worker silent this long has its job re-delivered. Default 30 s. */
  lockDurationMs?: number;
  /**
   * A run whose flow has no free slot under its concurrency limit (cluster-wide) is tried again after this long at
   * the latest; default 5 s. Normally it starts sooner: the worker where a run of the flow ends hands it the slot
   * (queue/slot-handover.ts).
   */
  slotRetryMs?: number;
}

/** The flow of a run cannot be deployed on this worker (see QueueWorker.cannotRun). */
class CannotDeployError extends Error {}

export class QueueWorker {
  private readonly worker: Worker;
  /** Re-enqueues the runs of a batch that failed as a whole, one job each (see failed()). */
  private readonly retries: Queue;
  private readonly slots: RunSlots;
  /** Who waits for a run to end here (its job, a slot hand-over). */
  private readonly ends: RunEnds;
  /** A claim in flight: admissions arriving meanwhile go together in the next one (see admitBatch()). */
  private claiming = false;
  private readonly handover: SlotHandover;
  /** Deploys in progress here, one at a time per flow (see ensureDeployed). */
  private readonly deploying = new OneAtATime();
  private readonly admitting: Array<{ runId: string; resolve: (admission: Admission) => void; reject: (error: Error) => void }> = [];
  /** The reply channel of the main waiting on a run, from the run's job while it is here (queue/replies.ts). */
  private readonly replyChannels = new Map<string, ReplyRoute>();
  /** Runs the executor gave back for want of a slot (ExecutorOptions.noSlot), until their job is told. */
  private readonly full = new Set<string>();
  /** handedOver: runs started here on a freed slot of their flow, outside their job (slot-handover.ts). */
  readonly stats = { runs: 0, skipped: 0, noSlot: 0, jobs: 0, retried: 0, stopped: 0, handedOver: 0, claims: 0 };

  constructor(private readonly options: QueueWorkerOptions) {
    this.ends = new RunEnds(
      (runId) => options.executor.active.has(runId),
      (runId) => options.storage.getRun(runId),
    );
    options.events.add({
      runFinished: (run) => {
        this.ends.heard(run.id);
        this.handover.freed(run.flowId, options.executor.deployed.get(run.flowId)?.flow.settings?.concurrency ?? 0);
      },
    });
    this.worker = new Worker<RunsJob>(QUEUE_NAME, (job, token) => this.process(job, token), {
      connection: options.connection,
      ...(options.prefix ? { prefix: options.prefix } : {}),
      concurrency: 1, // set by the run slots: one more job only while a run slot is free
      lockDuration: options.lockDurationMs ?? 30_000,
      // A job re-delivered after its worker died counts as an attempt; the run's own interruption count stops a run
      // that kills every worker it reaches (FLOWCREW_MAX_INTERRUPTIONS), this stops the job (see failed()).
      maxStalledCount: options.attempts,
      autorun: false,
    });
    this.slots = new RunSlots(options.concurrency, (jobs) => (this.worker.concurrency = jobs));
    this.handover = new SlotHandover({
      slots: this.slots,
      waiting: (flowId, limit) => options.storage.leases!.waitingForSlot(flowId, limit),
      admit: (runId) => this.admit(runId),
      ended: (runId) => this.ends.ended(runId),
      stats: this.stats,
      log: options.log,
    });
    this.retries = new Queue(QUEUE_NAME, { connection: options.connection, ...(options.prefix ? { prefix: options.prefix } : {}) });
    this.worker.on('failed', (job, error) => void this.failed(job, error));
    this.worker.on('error', (error) => options.log.warn(`queue worker: ${error.message}`));
  }

  start(): void {
    void this.worker.run();
  }

  /** Where a run's reply goes: the waiting main's channel when its job named one; undefined: the run's own channel. */
  replyRoute(runId: string): ReplyRoute | undefined {
    return this.replyChannels.get(runId);
  }

  /** The executor's noSlot hook: these runs are queued again, with no owner; their jobs retry after slotRetryMs. */
  noSlot(runIds: readonly string[]): void {
    for (const id of runIds) this.full.add(id);
  }

  private async process(job: Job<RunsJob>, token?: string): Promise<string> {
    const runIds = job.data.runIds ?? (job.data.runId ? [job.data.runId] : []);
    const tries = { ...job.data.tries };
    const replyTo = job.data.replyTo;
    const route: ReplyRoute | undefined = replyTo && { channel: replyTo.channel, ...(replyTo.lists ? { lists: true } : {}) };
    for (const id of replyTo?.runIds ?? []) this.replyChannels.set(id, route!);
    this.stats.jobs++;
    await this.slots.acquire(runIds.length);
    let held = Math.min(Math.max(runIds.length, 1), this.slots.size);
    const releaseOne = () => {
      if (held === 0) return;
      held--;
      this.slots.release(1);
    };
    // Listening before the runs can start here: one may finish before admit() returns.
    const listening = runIds.map((id) => this.ends.listen(id));
    const again: string[] = [];
    let backoffMs = 0;
    try {
      const admissions = await Promise.all(runIds.map((id) => this.admit(id)));
      await Promise.all(
        runIds.map(async (runId, i) => {
          try {
            const admission = admissions[i]!;
            // Finished already, or another live process holds it (a duplicate delivery): nothing to do here.
            if (admission === 'not ours') {
              this.stats.skipped++;
            } else if (admission === 'no slot') {
              // Tried again after slotRetryMs, not counted as an attempt: the run waits for a slot, it did not fail.
              this.stats.noSlot++;
              again.push(runId);
              backoffMs = Math.max(backoffMs, this.options.slotRetryMs ?? 5_000);
            } else {
              // Ends when the run finishes here, or throws when it stopped here without finishing (lease lost, storage
              // failure): it is tried again, and the lease decides who continues.
              await this.ends.ended(runId, listening[i]!);
              this.stats.runs++;
            }
          } catch (error) {
            const attempt = (tries[runId] ?? 0) + 1;
            tries[runId] = attempt;
            if (attempt >= this.options.attempts) {
              await this.stop(runId, attempt, error as Error);
            } else {
              this.stats.retried++;
              again.push(runId);
              backoffMs = Math.max(backoffMs, 1_000 * 2 ** (attempt - 1));
            }
          } finally {
            listening[i]!.stop();
            if (this.replyChannels.get(runId) === route) this.replyChannels.delete(runId);
            releaseOne();
          }
        }),
      );
    } finally {
      for (const l of listening) l.stop();
      while (held > 0) releaseOne();
      this.slots.jobDone();
    }
    if (again.length === 0) return 'done';
    // The same job, with only the runs to try again and their attempts so far, back to the delayed set.
    const rest: RunsJob = { runIds: again, tries };
    const replyRest = replyToOf(replyTo, again);
    if (replyRest) rest.replyTo = replyRest;
    await job.updateData(rest);
    await job.moveToDelayed(Date.now() + backoffMs, token);
    throw new DelayedError();
  }

  /** A run tried `attempts` times on workers: failed where everyone sees it, instead of tried for ever. */
  private async stop(runId: string, attempts: number, error: Error): Promise<void> {
    this.stats.stopped++;
    this.options.log.error(`run ${runId}: stopped after ${attempts} attempt(s) on workers: ${error.message}`);
    // Conditional: the run may have ended on another worker meanwhile (its outcome stays).
    await this.options.storage
      .leases!.failActive(runId, `stopped after ${attempts} attempt(s) on queue workers: ${error.message}`)
      .catch((e: unknown) => this.options.log.warn(`run ${runId}: could not record its failure: ${(e as Error).message}`));
  }

  /**
   * Lease the run and start it here; false when it is not ours to run. Jobs arriving together are admitted together,
   * and a run whose flow revision is deployed here already is claimed, read and started in ONE transaction
   * (RunLeases.claimToRun) instead of a claim, a read and a start: the worker's cost before a run's first node.
   */
  private admit(runId: string): Promise<Admission> {
    return new Promise((resolve, reject) => {
      this.admitting.push({ runId, resolve, reject });
      if (this.admitting.length === 1 && !this.claiming) setImmediate(() => void this.admitBatch());
    });
  }

  /**
   * One claim at a time (as the group-commit writer commits): jobs arriving while a claim is in flight are claimed
   * together when it returns, in one transaction, instead of one transaction each side by side. Only the claim
   * statement is serialised; deploys and starts of a batch go on beside the next claim.
   */
  private async admitBatch(): Promise<void> {
    const batch = this.admitting.splice(0);
    if (batch.length === 0) return;
    const { storage, executor } = this.options;
    try {
      // Flows deployed here with no concurrency limit: their runs start in the claim's transaction (a limited flow's
      // start takes its advisory lock and counts its slots, in resume()).
      const unlimited = [...executor.deployed.values()].filter((d) => (d.flow.settings?.concurrency ?? 0) <= 0).map((d) => ({ flowId: d.flow.id, version: d.flow.version }));
      this.claiming = true;
      this.stats.claims++;
      let claimed: Awaited<ReturnType<NonNullable<Storage['leases']>['claimToRun']>>;
      try {
        claimed = await storage.leases!.claimToRun(batch.map((b) => b.runId), unlimited);
      } finally {
        this.claiming = false;
        if (this.admitting.length > 0) setImmediate(() => void this.admitBatch());
      }
      const triedHere = (r: ResumableRun) => unlimited.some((f) => f.flowId === r.run.flowId && f.version === r.run.flowVersion);
      const held = new Set(claimed.runs.map((r) => r.run.id));
      const runs = claimed.runs.filter((r) => !executor.active.has(r.run.id));
      const failedFlows = new Map<string, Error>();
      const rejected = new Set<string>();
      if (runs.length > 0) {
        await this.deployFor(runs.map((r) => r.run), failedFlows);
        const startable = runs.filter((r) => !failedFlows.has(r.run.flowId));
        if (startable.length > 0) {
          await executor.resume(startable.map((r) => r.run.id), { runs: startable, tried: new Set(startable.filter(triedHere).map((r) => r.run.id)), started: claimed.started });
        }
        for (const r of runs) {
          const error = failedFlows.get(r.run.flowId);
          if (!error) continue;
          rejected.add(r.run.id);
          const b = batch.find((x) => x.runId === r.run.id);
          await this.cannotRun(r.run.id, error).then(() => b?.resolve('not ours'), (e: Error) => b?.reject(e));
        }
      }
      for (const b of batch) {
        if (rejected.has(b.runId)) continue;
        if (this.full.delete(b.runId)) b.resolve('no slot');
        else b.resolve(held.has(b.runId) || executor.active.has(b.runId) ? 'ours' : 'not ours');
      }
    } catch (error) {
      for (const b of batch) b.reject(error as Error);
    }
  }

  /**
   * Deploy here what these runs need: the revision each was accepted on (when this worker has another or none) and the
   * calling flows of called runs (library sub-flows read their variables: subflows/called-runs.ts). Used for claimed
   * runs and for runs this worker's lease keeper takes over (executor/resume.ts), whose flow it may never have had.
   * A flow that cannot be deployed is put in `failed` (without it: logged, and resume fails the run as undeployed).
   */
  async deployFor(runs: readonly RunRecord[], failed?: Map<string, Error>): Promise<void> {
    const { executor, log } = this.options;
    for (const flowId of new Set(runs.filter((r) => executor.deployed.get(r.flowId)?.flow.version !== r.flowVersion).map((r) => r.flowId))) {
      await this.ensureDeployed(flowId).catch((error: unknown) => {
        if (failed) failed.set(flowId, error as Error);
        else log.warn(`flow "${flowId}" of a run taken over could not be deployed here: ${(error as Error).message}`);
      });
    }
    for (const flowId of new Set(runs.flatMap((r) => callingFlowsOf(r)).filter((id) => !executor.deployed.has(id)))) {
      await this.ensureDeployed(flowId).catch((error: unknown) => log.warn(`calling flow "${flowId}" of a called run could not be deployed here: ${(error as Error).message}`));
    }
  }

  /**
   * The worker runs the revision the mains deployed: (re)deploy it here when it changed (no triggers on a worker).
   * One deploy at a time per flow, each checking again what is deployed: two batches admitted side by side both saw
   * the flow undeployed and deployed it twice, and the second deploy closed the first one's nodes under the runs
   * already going on them (a delay node failed its held messages: "flow redeployed or shut down"). That left runs
   * failed in queue/concurrency.test.ts when claims became fast enough to overlap a deploy (session 8's "hang").
   */
  private ensureDeployed(flowId: string): Promise<void> {
    return this.deploying.run(flowId, () => this.deployStored(flowId));
  }

  private async deployStored(flowId: string): Promise<void> {
    const stored = await this.options.storage.getFlow(flowId);
    const deployed = stored?.deployedFlow;
    if (!deployed) throw new CannotDeployError(`flow "${flowId}" is not deployed`);
    if (this.options.executor.deployed.get(flowId)?.flow.version === deployed.version) return;
    const { valid, issues, flow } = await validateFlowAsync(deployed, this.options.registry, { maxDepth: this.options.maxDepth });
    if (!valid) throw new CannotDeployError(`flow "${flowId}" (version ${deployed.version}) cannot run on this worker: ${issues.map((i) => `${i.pointer}: ${i.message}`).join('; ')}`);
    try {
      await this.options.executor.deploy(flow);
    } catch (error) {
      throw new CannotDeployError(`flow "${flowId}" (version ${deployed.version}) could not be deployed on this worker: ${(error as Error).message}`);
    }
  }

  /**
   * A run whose flow cannot be deployed here. When the flow itself is at fault (not deployed, invalid here, a node
   * failing to start) the run is failed with that reason, once (it would fail the same way everywhere, and its lease
   * must not be renewed for nothing); any other failure (storage) gives the lease up and fails the job, to be retried.
   */
  private async cannotRun(runId: string, error: Error): Promise<void> {
    const leases = this.options.storage.leases!;
    if (!(error instanceof CannotDeployError)) {
      await leases.release([runId]);
      throw error;
    }
    this.options.log.error(`run ${runId}: ${error.message}`);
    await leases.failActive(runId, error.message);
  }

  /**
   * A job out of attempts as a whole (its admission kept failing, or its workers kept dying: stalled). A job of one
   * run: that run is stopped. A batch: which of its runs is at fault is unknown, so each run goes back as a job of
   * its own, with this as one attempt; the culprit then stops alone and the others run.
   */
  private async failed(job: Job<RunsJob> | undefined, error: Error): Promise<void> {
    if (!job || (job.attemptsMade < (job.opts.attempts ?? 1) && !/stalled/i.test(error.message))) return;
    const runIds = job.data.runIds ?? (job.data.runId ? [job.data.runId] : []);
    const tries = job.data.tries ?? {};
    if (runIds.length === 1) return this.stop(runIds[0]!, Math.max(job.attemptsMade, (tries[runIds[0]!] ?? 0) + 1), error);
    const again: RunsJob[] = [];
    for (const runId of runIds) {
      const attempt = (tries[runId] ?? 0) + 1;
      if (attempt >= this.options.attempts) await this.stop(runId, attempt, error);
      else {
        const replyTo = replyToOf(job.data.replyTo, [runId]);
        again.push({ runIds: [runId], tries: { [runId]: attempt }, ...(replyTo ? { replyTo } : {}) });
      }
    }
    this.stats.retried += again.length;
    await this.retries
      .addBulk(again.map((data) => ({ name: 'runs', data, opts: { ...jobOptions(data.runIds ?? [], this.options.attempts), jobId: undefined } })))
      .catch((e: unknown) => this.options.log.warn(`queue worker: could not enqueue ${again.length} run(s) of a failed batch again: ${(e as Error).message}; the relay enqueues them once their leases expire`));
  }

  /** Graceful drain: take no new jobs, wait (up to `timeoutMs`) for the runs in progress to finish. */
  async close(timeoutMs = 30_000): Promise<void> {
    this.handover.close();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.worker.close(), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    if (this.worker.isRunning()) await this.worker.close(true);
    await this.retries.close();
  }
}
