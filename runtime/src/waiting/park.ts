/**
 * Parking: what happens in the executing process when a node asks a person something.
 *
 * ctx.waitForInput stores the question (once) and rejects with WaitingForInput; dispatch.ts then leaves the
 * invocation pending instead of completing it. When every outstanding invocation of the run is parked, the run is
 * released: stored as `waiting`, dropped from memory, its concurrency slot freed. Nothing in any process holds it
 * from then on. When the question is answered (waiting.ts), the run is claimed and resumed like a run interrupted
 * by a stop; the node runs again with the same message and this time waitForInput returns the answer.
 */
import type { WaitAnswer, WaitRequest } from '@flowcrew/sdk';
import type { Logger } from '@flowcrew/sdk';
import type { EventFanout } from '../executor/events.ts';
import type { Executor } from '../executor/executor.ts';
import { settleReply } from '../executor/replies.ts';
import type { ActiveRun } from '../executor/types.ts';
import type { InvocationRecord, ResumableRun, Storage } from '../storage/types.ts';
import { WaitingForInput, type AskedFrom, type WaitingHooks } from './signal.ts';
import type { WaitRecord, WaitStore } from './store.ts';

export interface ParkingOptions {
  storage: Storage;
  store: WaitStore;
  log: Logger;
  /** Told each question the first time it is asked (links, notifications, live events). */
  asked(wait: WaitRecord): Promise<void>;
  /** A run was parked and an answer may already be there: resume it if so. */
  released(runId: string): void;
}

export class Parking implements WaitingHooks {
  private executor: Executor | null = null;
  /** Parked invocations per run still in memory (other branches running). */
  private readonly parked = new WeakMap<ActiveRun, number>();
  /** Ids of runs with parked invocations and other branches still running: checked as their nodes finish. */
  private readonly partial = new Set<string>();

  constructor(private readonly options: ParkingOptions) {}

  /** The executor whose runs park here, and its events (a node finishing may leave only parked invocations). */
  attach(executor: Executor, events: EventFanout): void {
    this.executor = executor;
    events.add({
      nodeFinished: (event) => {
        if (this.partial.size === 0 || !this.partial.has(event.runId)) return;
        const run = executor.active.get(event.runId);
        if (run) this.releaseIfParked(run);
      },
      // A run cancelled or failed while partly parked leaves no entry behind.
      runFinished: (run) => void this.partial.delete(run.id),
    });
  }

  async ask(from: AskedFrom, request: WaitRequest): Promise<WaitAnswer> {
    const { store, storage } = this.options;
    const id = `${from.invocationId}:${request.key ?? 'input'}`;
    let wait = await store.get(id);
    if (!wait) {
      const now = Date.now();
      // A run belongs to its flow's project (the run's own row may not be committed yet: runs start before that).
      const projectId = from.projectId ?? (await storage.getFlow(from.flowId))?.projectId ?? (await storage.getRun(from.runId))?.projectId ?? 'default';
      const record: WaitRecord = {
        id,
        runId: from.runId,
        invocationId: from.invocationId,
        flowId: from.flowId,
        nodeId: from.nodeId,
        projectId,
        status: 'open',
        request,
        assignees: { users: request.assignees?.users ?? [], roles: request.assignees?.roles ?? [] },
        answer: null,
        answeredBy: null,
        answeredVia: null,
        createdAt: now,
        expiresAt: request.timeoutMs ? now + request.timeoutMs : null,
        escalateAt: request.escalation ? now + request.escalation.afterMs : null,
        escalatedAt: null,
        answeredAt: null,
        deliveredAt: null,
      };
      if (await store.insert(record)) {
        await this.options.asked(record).catch((error: unknown) => this.options.log.warn(`question "${id}": could not notify: ${(error as Error).message}`));
      }
      wait = (await store.get(id))!;
    }
    if (wait.status === 'cancelled') throw new Error(`question "${id}" was cancelled`);
    if (wait.status === 'open') throw new WaitingForInput(id);
    await store.markDelivered(id, Date.now());
    return { answer: wait.answer, timedOut: wait.status === 'timed_out', by: wait.answeredBy, via: wait.answeredVia ?? 'api', at: wait.answeredAt ?? Date.now() };
  }

  parks(run: ActiveRun, _invocation: InvocationRecord, error: Error): boolean {
    if (!(error instanceof WaitingForInput)) return false;
    this.parked.set(run, (this.parked.get(run) ?? 0) + 1);
    this.partial.add(run.record.id);
    this.releaseIfParked(run);
    return true;
  }

  async withoutParked(runs: ResumableRun[]): Promise<ResumableRun[]> {
    if (!runs.some((r) => r.run.status === 'waiting')) return runs;
    const parked = await this.options.store.parkedRuns();
    return runs.filter((r) => !parked.has(r.run.id));
  }

  /** Every outstanding invocation is parked: release the run (see the file comment). */
  private releaseIfParked(run: ActiveRun): void {
    if ((this.parked.get(run) ?? 0) < run.outstanding) return;
    this.partial.delete(run.record.id);
    void this.release(run).catch((error: unknown) => this.options.log.error(`run ${run.record.id}: could not park it: ${(error as Error).message}; it resumes at the next start`));
  }

  private async release(run: ActiveRun): Promise<void> {
    const executor = this.executor;
    const id = run.record.id;
    if (!executor || run.abort.signal.aborted || executor.active.get(id) !== run) return;
    executor.active.delete(id);
    settleReply(run, new Error('the run is waiting for a person to answer; it sends no reply'));
    executor.admission.releaseSlot(run.flow);
    const { storage, store } = this.options;
    const now = Date.now();
    if (run.failure) {
      // Another branch failed: the run ends failed, and its questions need no answer any more.
      Object.assign(run.record, { status: 'failed', error: run.failure, finishedAt: now });
      await storage.updateRun({ id, status: 'failed', error: run.failure, finishedAt: now });
      await store.cancelRun(id, now);
    } else {
      run.record.status = 'waiting';
      await storage.updateRun({ id, status: 'waiting' });
    }
    // Live views, traces and a queue worker learn that the run left this process.
    executor.options.events.runFinished(run.record);
    if (run.record.status === 'waiting') this.options.released(id);
  }
}
