/**
 * Resuming after a stop: every run accepted but not finished is taken back into this process, its pending
 * invocations dispatched again. A start that dies on the same message again and again fails it (poison message)
 * instead of replaying it forever: each interruption is counted durably before anything runs.
 *
 * Several resumes can overlap in one process (a queue job re-delivered while the lease keeper takes the same run
 * over): a run is taken by one of them only. When this process holds run leases (runtimes sharing PostgreSQL), a
 * queued run starts only through the leases' conditional start: still queued, still this process's, and a free slot
 * of its flow's concurrency limit across the cluster. Without that check, a process that read a run as queued, then
 * lost it to another process which ran it to the end, set it back to 'running' and left it open for ever.
 */
import { activeRun } from './admission.ts';
import type { ResumableRun } from '../storage/types.ts';
import { callerOfResumedRun } from '../subflows/called-runs.ts';
import type { ExecutorHub } from './types.ts';

/**
 * Runs a queue worker has just claimed and read in one transaction (RunLeases.claimToRun), with the queued ones it
 * tried to start there (`tried`) and those that started (`started`, with their start times): resume() reads and
 * starts only the rest.
 */
export interface ClaimedRuns {
  runs: ResumableRun[];
  tried: ReadonlySet<string>;
  started: ReadonlyMap<string, number>;
}

/** startQueued(): a held queued run with no free slot, to wait in this process for one. */
const WAIT_HERE = -1;

export class Resumer {
  /** Started runs whose interruption resume() is counting, until they are active: a clean stop takes it back. */
  resuming: string[] = [];
  /** Runs some resume() in progress has taken (between reading them and adopting them). */
  private readonly taking = new Set<string>();

  constructor(private readonly hub: ExecutorHub) {}

  /**
   * Re-dispatch every run that was accepted but not finished when the process last stopped, or, with `runIds`, only
   * those (the runs whose leases this process just took over from a dead one).
   */
  async resume(runIds?: readonly string[], claimed?: ClaimedRuns): Promise<number> {
    const { storage } = this.hub.options;
    // Queue mode, on a main: runs are executed by the workers (their jobs and leases bring them back), never here.
    if (this.hub.options.remote) return 0;
    // A run this process executes already, or another resume is taking, is never adopted twice.
    let resumable = (claimed?.runs ?? (await storage.listResumableRuns(runIds ? { runIds } : undefined))).filter((r) => !this.hub.active.has(r.run.id) && !this.taking.has(r.run.id));
    // Released in `finally` by this list: `resumable` loses the parked runs below, which must not stay taken.
    const taken = resumable.map((r) => r.run.id);
    for (const id of taken) this.taking.add(id);
    try {
      // Runs parked on a question stay parked: they resume when it is answered (waiting/park.ts).
      if (this.hub.options.waiting) resumable = await this.hub.options.waiting.withoutParked(resumable);
      // Every pending invocation of a started run was in flight when the process stopped. Count that interruption
      // durably BEFORE running anything again: if this start dies on the same message, the next one knows, and once an
      // invocation has been interrupted maxInterruptions times dispatch fails it instead (a poison message).
      const counted: string[] = [];
      for (const { run, pending } of resumable) {
        if (run.status === 'queued') continue; // never started: nothing of it was running
        this.resuming.push(run.id);
        for (const invocation of pending) {
          invocation.interruptions = (invocation.interruptions ?? 0) + 1;
          counted.push(invocation.id);
        }
      }
      await storage.recordInterruptions(counted);
      // Shut down meanwhile: close() has taken back the interruptions just counted; nothing is run.
      if (this.hub.closing) return resumable.length;
      // A worker taking over runs of a flow it never ran deploys it first (queue/worker.ts).
      if (this.hub.options.deployForResume && resumable.length > 0) await this.hub.options.deployForResume(resumable.map((r) => r.run));
      const started = await this.startQueued(resumable.map((r) => r.run), claimed);
      for (const { run: record, pending, maxSeq } of resumable) {
        const deployed = this.hub.deployed.get(record.flowId);
        if (!deployed) {
          await storage.updateRun({ id: record.id, status: 'failed', error: `flow "${record.flowId}" is no longer deployed`, finishedAt: Date.now() });
          continue;
        }
        let wasQueued = record.status === 'queued';
        if (started && wasQueued) {
          const startedAt = started.get(record.id);
          if (startedAt === undefined) continue; // not ours any more, finished, or no free slot: see startQueued()
          if (startedAt !== WAIT_HERE) {
            Object.assign(record, { status: 'running', startedAt });
            wasQueued = false;
          }
        }
        const run = activeRun({ ...record }, deployed, maxSeq + 1, pending);
        // A called run (library sub-flow) gets its caller back from its stored input: the caller's variables, statuses up.
        const caller = callerOfResumedRun(record, this.hub.deployed);
        if (caller) run.caller = caller;
        run.reply = this.hub.options.replyTo?.(record);
        // Answerable by handle from other runs here, and held by a node holding its message (replies.ts).
        if (run.reply) this.hub.replies.register(record.id, Object.assign(run.reply, { handles: this.hub.replies }));
        await this.hub.admission.adopt(run, wasQueued);
      }
      return resumable.length;
    } finally {
      for (const id of taken) this.taking.delete(id);
      this.resuming = [];
    }
  }

  /**
   * With run leases: start the queued runs through the conditional start (leases.start) and give back those whose
   * flow has no free slot, so a queue job or the relay brings them back later. Resolves with the started runs and
   * their start times; undefined without leases (queued runs start through admission, with this process's limit).
   */
  private async startQueued(records: ReadonlyArray<{ id: string; flowId: string; status: string }>, claimed?: ClaimedRuns): Promise<Map<string, number> | undefined> {
    const leases = this.hub.options.storage.leases;
    if (!leases?.owner) return undefined;
    const queued = records.filter((r) => r.status === 'queued' && this.hub.deployed.has(r.flowId));
    if (queued.length === 0) return new Map();
    const now = Date.now();
    const limitOf = (flowId: string) => this.hub.deployed.get(flowId)?.flow.settings?.concurrency ?? 0;
    // Runs the claim already tried to start (same conditional start, same transaction as the claim) are not tried again.
    const toStart = queued.filter((r) => !claimed?.tried.has(r.id));
    const result = toStart.length > 0 ? await leases.start(toStart.map((r) => ({ id: r.id, flowId: r.flowId, limit: limitOf(r.flowId) })), now) : new Map<string, number>();
    for (const [id, startedAt] of claimed?.started ?? []) result.set(id, startedAt);
    const full = queued.filter((r) => !result.has(r.id) && limitOf(r.flowId) > 0).map((r) => r.id);
    if (full.length === 0) return result;
    // No free slot. Queue mode: the runs go back to the queue (their jobs retry later). Otherwise they wait here for
    // a slot of this process, as runs accepted here do (the limit then holds per process).
    const noSlot = this.hub.options.noSlot;
    const held = await leases.queuedHeld(full, noSlot !== undefined);
    if (noSlot) noSlot(held);
    else for (const id of held) result.set(id, WAIT_HERE);
    return result;
  }
}
