/**
 * Run admission and per-flow concurrency: a trigger event (or a manual run, a rerun, a sub-flow call) becomes a
 * durable run, starts at once or waits for a slot under the flow's concurrency limit, and ends (completed, cancelled,
 * or dropped after a storage failure) releasing its slot to the next queued run.
 */
import type { EmitOptions, EmitResult, FlowMessage, PortMessage, TriggerReply } from '@flowcrew/sdk';
// Time-ordered ids (UUIDv7): new runs append to the primary-key index instead of landing on random pages.
import { v7 as randomUUID } from 'uuid';
import type { InvocationRecord, RunRecord, RunStatus } from '../storage/types.ts';
import { REPLY_HANDLE, settleAtRunEnd, settleReply, waitForReply } from './replies.ts';
import { applyRetention } from './retention.ts';
import { defaultEntryNode } from './roles.ts';
import { invocationId, nextInvocations, pendingInvocation } from './routing.ts';
import { CannotStartRunError, RunAbort, type ActiveRun, type DeployedFlow, type ExecutorHub, type RunCaller } from './types.ts';

/** Finished invocations stored with a new run's entry invocation (children of it), their seq from `nextSeq`. */
export type ReuseFinished = (entry: InvocationRecord, nextSeq: () => number) => InvocationRecord[];

export class RunAdmission {
  constructor(private readonly hub: ExecutorHub) {}

  /** A trigger produced `msg` on its port 0 (or options.port): record the trigger's invocation as done and start the run. */
  emitFromTrigger(flowId: string, nodeId: string, msg: FlowMessage, options?: EmitOptions): Promise<EmitResult> {
    const deployed = this.hub.deployed.get(flowId);
    if (!deployed) return Promise.reject(new Error(`flow "${flowId}" is not deployed`));
    msg._msgid ??= randomUUID();
    const now = Date.now();
    const run = this.newRun(deployed, nodeId, msg, null, now);
    // The request's reply handle travels in the message (Node-RED's msg.res): a response in another run can answer it.
    // A trigger that does not wait (a join's timeout starting a run) passes on the handle its message carries.
    if (options?.awaitReply) msg[REPLY_HANDLE] = run.record.id;
    const trigger = deployed.nodes.get(nodeId);
    const seq = run.seq++;
    const triggerInvocation: InvocationRecord = {
      id: invocationId(run.record.id, seq),
      runId: run.record.id,
      nodeId,
      nodeType: trigger?.node.type ?? 'unknown',
      status: 'succeeded',
      attempt: 1,
      input: null,
      outputs: [{ port: options?.port ?? 0, msg }],
      error: null,
      parentId: null,
      seq,
      createdAt: now,
      startedAt: now,
      finishedAt: now,
    };
    const first = [triggerInvocation, ...nextInvocations(run, trigger, triggerInvocation.id, triggerInvocation.outputs as PortMessage[])];
    const accepted = this.accept(run, first, options, true);
    // The trigger's own step is done already: tell live listeners, so the editor shows the trigger fire too.
    this.hub.options.events.nodeFinished({ flowId, runId: run.record.id, nodeId, invocationId: triggerInvocation.id, attempt: 1, status: 'succeeded', outputs: triggerInvocation.outputs as PortMessage[], error: null, durationMs: 0 });
    return accepted;
  }

  /**
   * Start a new run with a past run's input, the way it started: through the trigger's onInput when the trigger
   * has one (inject, cron, manual), else as the trigger's output (webhook, queue).
   */
  async rerun(past: RunRecord): Promise<EmitResult> {
    const deployed = this.hub.deployed.get(past.flowId);
    if (!deployed) throw new CannotStartRunError(`flow "${past.flowId}" is not deployed`);
    const input = structuredClone((past.input ?? {}) as FlowMessage);
    delete input._msgid;
    delete input[REPLY_HANDLE];
    const trigger = past.triggerNodeId ? deployed.nodes.get(past.triggerNodeId) : undefined;
    if (past.triggerNodeId && !trigger) throw new CannotStartRunError(`node "${past.triggerNodeId}" that started run ${past.id} is no longer in the deployed flow`);
    if (!trigger || trigger.instance.onInput) return this.runNow(past.flowId, input, { nodeId: trigger?.node.id });
    return this.emitFromTrigger(past.flowId, trigger.node.id, input);
  }

  /**
   * Start a run by delivering `input` to a trigger node's own `onInput` (manual "run now", sub-flow calls).
   * With no `nodeId`, the flow's default manual entry is used.
   */
  async runNow(flowId: string, input: FlowMessage, options: EmitOptions & { nodeId?: string; parentRunId?: string; caller?: RunCaller; reuse?: ReuseFinished } = {}): Promise<EmitResult> {
    const deployed = this.hub.deployed.get(flowId);
    if (!deployed) throw new CannotStartRunError(`flow "${flowId}" is not deployed`);
    const entry = options.nodeId ? deployed.nodes.get(options.nodeId) : defaultEntryNode(deployed);
    if (!entry) {
      throw new CannotStartRunError(
        options.nodeId ? `flow "${flowId}" has no node "${options.nodeId}"` : `flow "${flowId}" has no manual trigger (inject) node to start a run at; pass nodeId`,
      );
    }
    const msg = { ...input };
    msg._msgid ??= randomUUID();
    const run = this.newRun(deployed, entry.node.id, msg, options.parentRunId ?? null, Date.now());
    if (options.caller) run.caller = options.caller;
    const first = pendingInvocation(run, entry, msg, null);
    // A re-run from a chosen step (steps/rerun.ts): the earlier steps, copied under the new entry, go in with it.
    return this.accept(run, options.reuse ? [first, ...options.reuse(first, () => run.seq++)] : [first], options);
  }

  /** Whether the flow has a free slot under its concurrency limit (0 = unlimited) in this process. */
  private hasSlot(flow: DeployedFlow): boolean {
    const limit = flow.flow.settings?.concurrency ?? 0;
    return limit === 0 || flow.running < limit;
  }

  private newRun(deployed: DeployedFlow, triggerNodeId: string, input: FlowMessage, parentRunId: string | null, now: number): ActiveRun {
    const startNow = this.hasSlot(deployed);
    const status: RunStatus = startNow ? 'running' : 'queued';
    const record: RunRecord = { id: randomUUID(), flowId: deployed.flow.id, flowVersion: deployed.flow.version, status, triggerNodeId, input, error: null, parentRunId, createdAt: now, startedAt: startNow ? now : null, finishedAt: null };
    return activeRun(record, deployed, 0, []);
  }

  /**
   * Accept a run: its record and first invocations are queued for commit and the run starts at once, but the
   * trigger is acknowledged (this promise, and any reply) only after that commit. Every later write of the run is
   * queued behind it on the single writer, so nothing of the run can be stored without its acceptance.
   */
  private async accept(run: ActiveRun, first: InvocationRecord[], options?: EmitOptions, fromTrigger = false): Promise<EmitResult> {
    if (this.hub.options.remote) return this.acceptForQueue(run, first, options);
    // Under load a new run waits for a turn with time left before it is even written: its acceptance and its hops
    // then share a group commit (nothing is acknowledged before that commit, so nothing accepted waits unwritten).
    const turn = this.hub.dispatcher.turnForNewRun?.(run);
    if (turn) {
      await turn;
      if (this.hub.closing) throw new CannotStartRunError('the runtime is shutting down');
    }
    const accepted = this.hub.options.storage.acceptRun(run.flow.redactor.run(run.record), run.flow.redactor.records(first), run.flow.projectId === undefined ? undefined : { flowProject: run.flow.projectId });
    const running = run.record.status === 'running';
    if (running) run.flow.running++;
    this.hub.active.set(run.record.id, run);
    let reply: Promise<TriggerReply> | undefined;
    if (options?.awaitReply) reply = waitForReply(run, options.replyTimeoutMs ?? 30_000, fromTrigger ? this.hub.replies : undefined);
    run.pending = first.filter((inv) => inv.status === 'pending');
    if (running) this.begin(run);
    else run.flow.queued.push(run);
    try {
      await accepted;
    } catch (error) {
      this.dropRun(run, error as Error, 'the run could not be stored');
      throw error;
    }
    return { runId: run.record.id, reply };
  }

  /** Queue mode (a main): store the run with its outbox row; a worker executes it once the relay has enqueued it. */
  private async acceptForQueue(run: ActiveRun, first: InvocationRecord[], options?: EmitOptions): Promise<EmitResult> {
    const remote = this.hub.options.remote!;
    Object.assign(run.record, { status: 'queued', startedAt: null });
    const reply = options?.awaitReply ? (await remote.awaitReply(run.record.id, options.replyTimeoutMs ?? 30_000)).reply : undefined;
    await this.hub.options.storage.acceptRun(run.flow.redactor.run(run.record), run.flow.redactor.records(first), { outbox: true, ...(run.flow.projectId === undefined ? {} : { flowProject: run.flow.projectId }) });
    remote.accepted(run.record.id);
    return { runId: run.record.id, reply };
  }

  /** Take a run whose record is stored (resume, or a queued run's turn) into this process: start it or queue it for a slot. */
  async adopt(run: ActiveRun, wasQueued: boolean): Promise<void> {
    const deployed = run.flow;
    this.hub.active.set(run.record.id, run);
    if (!wasQueued || this.hasSlot(deployed)) {
      deployed.running++;
      run.record.status = 'running';
      if (wasQueued) {
        run.record.startedAt = Date.now();
        await this.hub.options.storage.updateRun({ id: run.record.id, status: 'running', startedAt: run.record.startedAt });
      }
      this.begin(run);
    } else {
      run.record.status = 'queued';
      deployed.queued.push(run);
    }
  }

  /** Stop a run in this process after a storage failure; what storage holds of it resumes at the next start. */
  dropRun(run: ActiveRun, error: Error, reason: string): void {
    if (run.abort.aborted) return; // cancelled or already dropped: settled there
    this.hub.runLog(run).error(`run ${run.record.id}: ${reason}: ${error.message}`);
    run.abort.abort(error);
    this.hub.active.delete(run.record.id);
    settleReply(run, new Error(reason));
    const queuedAt = run.flow.queued.indexOf(run);
    if (queuedAt >= 0) run.flow.queued.splice(queuedAt, 1);
    else this.releaseSlot(run.flow);
  }

  private begin(run: ActiveRun): void {
    this.hub.options.events.runStarted(run.record);
    const pending = run.pending;
    run.pending = [];
    run.outstanding += pending.length;
    if (pending.length === 0) {
      void this.finishRun(run);
      return;
    }
    this.hub.dispatcher.dispatch(run, pending);
  }

  async cancel(runId: string): Promise<RunRecord | null> {
    const run = this.hub.active.get(runId);
    if (!run) return null;
    run.abort.abort(new Error('run cancelled'));
    const now = Date.now();
    const wasRunning = run.record.status !== 'queued';
    run.record.status = 'cancelled';
    run.record.finishedAt = now;
    this.hub.active.delete(runId);
    const queuedAt = run.flow.queued.indexOf(run);
    if (queuedAt >= 0) run.flow.queued.splice(queuedAt, 1);
    await this.hub.options.storage.cancelRun(runId, now);
    settleReply(run, new Error('run cancelled'));
    this.hub.options.events.runFinished(run.record);
    if (wasRunning) this.releaseSlot(run.flow);
    return run.record;
  }

  /**
   * A run is 'waiting' while every one of its outstanding invocations sleeps in a retry backoff, and 'running'
   * again when one wakes. Rare (failure path only), so the extra writes cost nothing on the hot path.
   */
  setWaiting(run: ActiveRun, delta: 1 | -1): void {
    run.backingOff += delta;
    const status: RunStatus = run.backingOff > 0 && run.backingOff >= run.outstanding ? 'waiting' : 'running';
    if (run.abort.aborted || run.record.status === status) return;
    run.record.status = status;
    this.hub.options.storage.updateRun({ id: run.record.id, status }).catch((e: unknown) => this.hub.runLog(run).warn(`run ${run.record.id}: could not record status ${status}: ${(e as Error).message}`));
  }

  /** Free a slot of the flow's concurrency limit and start the next queued run (also used when a run parks: waiting/park.ts). */
  releaseSlot(flow: DeployedFlow): void {
    flow.running--;
    const next = flow.queued.shift();
    if (!next) return;
    flow.running++;
    next.record.status = 'running';
    next.record.startedAt = Date.now();
    this.hub.options.storage
      .updateRun({ id: next.record.id, status: 'running', startedAt: next.record.startedAt })
      .then(() => this.begin(next))
      .catch((error: unknown) => this.hub.runLog(next).error(`could not start queued run ${next.record.id}: ${(error as Error).message}`));
  }

  /** The run's last invocation is committed: report it, answer a waiting trigger, free its slot, apply retention. */
  completeRun(run: ActiveRun, status: RunStatus, finishedAt: number): void {
    run.record.status = status;
    run.record.error = run.failure;
    run.record.finishedAt = finishedAt;
    this.hub.active.delete(run.record.id);
    settleAtRunEnd(run, run.failure ?? 'the flow finished without sending a response');
    this.hub.options.events.runFinished(run.record);
    this.releaseSlot(run.flow);
    applyRetention(this.hub, run);
  }

  private async finishRun(run: ActiveRun): Promise<void> {
    const finishedAt = Date.now();
    await this.hub.options.storage.updateRun({ id: run.record.id, status: 'succeeded', finishedAt });
    this.completeRun(run, 'succeeded', finishedAt);
  }
}

/** An in-memory run around a stored (or about to be stored) record; `seq` continues the run's invocation numbers. */
export function activeRun(record: RunRecord, flow: DeployedFlow, seq: number, pending: InvocationRecord[]): ActiveRun {
  return { record, flow, outstanding: 0, seq, abort: new RunAbort(), failure: null, backingOff: 0, pending, underWay: false };
}
