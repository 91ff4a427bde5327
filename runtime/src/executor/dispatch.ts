/**
 * Where an invocation runs. `InvocationDispatcher` is the seam: the embedded default (`InProcessDispatcher`) runs an
 * invocation right here, with retries, commits its completion together with the invocations it produced, and
 * dispatches those. Queue mode places whole runs on workers (a job per node hop would put a Redis round trip on the
 * hot path); a worker that owns a run dispatches its invocations through this same in-process implementation.
 */
import type { FlowMessage, PortMessage } from '@flowcrew/sdk';
import { acceptingConnections } from '../accept-burst.ts';
import { UnstorableMessageError, type CompleteInvocation, type InvocationRecord, type RunStatus } from '../storage/types.ts';
import { DEFAULT_MAX_DEPTH } from '../flow/json-depth.ts';
import { withFields } from '../logging/logger.ts';
import type { NodeFinishedEvent } from './events.ts';
import { invoke, sleep } from './invoke.ts';
import { noteHeld } from './replies.ts';
import { keepsHistory } from './retention.ts';
import { nextInvocations, routeToCompletionHandlers, routeToErrorHandlers } from './routing.ts';
import type { ActiveRun, DeployedNode, ExecutorHub, InvocationScope } from './types.ts';

export interface InvocationDispatcher {
  /** Execute these pending invocations of `run` (a run this process owns, its acceptance committed or ordered before). Returns at once. */
  dispatch(run: ActiveRun, invocations: readonly InvocationRecord[]): void;
  /**
   * When a new run may be accepted and started: null = now, else a promise resolved in a later event-loop turn. A
   * run accepted in the turn it starts in is usually written whole by one group commit (compact history, see
   * storage/run-compact.ts); one accepted now and started a turn later is written in two.
   */
  turnForNewRun?(run: ActiveRun): Promise<void> | null;
}

const DEFAULT_MAX_INTERRUPTIONS = 3;
/** Node invocations a run may make unless its flow says otherwise (settings.maxSteps): a loop ends, with a reason. High enough for a split of a large array. */
export const DEFAULT_MAX_STEPS = 100_000;

/** How long one event-loop turn may start runs before the others wait for the next turn (see dispatch). */
const SLICE_MS = 5;
/**
 * The same while the server is accepting a burst of connections: one per turn, so turns stay short (accept-burst.ts).
 * A slice always starts its first run. At 1 ms a turn (two slices, a group commit, the replies) took ~3 ms and the
 * 50th connection of a burst waited 130-240 ms to be accepted, the benchmark's max latency; at 0.2 ms, 50-100 ms
 * (bench/README.md, session 11 H7).
 */
const SLICE_WHILE_ACCEPTING_MS = 0.2;

/** Above this many queued completion commits, a finished node waits for its own commit before the next dispatch. */
const MAX_UNCOMMITTED = 5_000;

/** Placeholders until an attempt runs (never written to: an attempt replaces both). */
const NO_OUTPUTS: PortMessage[] = [];
const NO_SCOPE: InvocationScope = Object.freeze({ usage: null, tools: Object.freeze([]) as unknown as InvocationScope['tools'] }) as InvocationScope;

/** The outcome of running one invocation (all its attempts). */
interface Attempted {
  outputs: PortMessage[];
  error: Error | null;
  attempt: number;
  startedAt: number;
  scope: InvocationScope;
}

export class InProcessDispatcher implements InvocationDispatcher {
  /** Completion commits queued but not yet committed (see MAX_UNCOMMITTED). */
  private uncommitted = 0;

  constructor(private readonly hub: ExecutorHub) {}

  /** When the current slice started (performance.now()); -1 when none is running in this event-loop turn. */
  private sliceStart = -1;
  /** New runs waiting for a turn with time left (turnForNewRun). */
  private waitingRuns = 0;

  /**
   * A run under way runs its next hops at once (in this turn's microtasks): a whole run then usually completes before
   * the next group commit, which writes its rows once, in their final state. A run's FIRST hops start at once too,
   * unless this turn has already been starting runs for SLICE_MS: then they wait for the next turn. Under load a
   * turn so stays short and the loop gets back to the sockets: libuv accepts ONE connection per turn, and with every
   * ready request run to its end in one turn, 50 new connections waited seconds to be accepted. (Deferring every hop
   * instead, as Node-RED does, cost +70 % CPU per node: no run's rows coalesced any more.)
   */
  dispatch(run: ActiveRun, invocations: readonly InvocationRecord[]): void {
    if (run.underWay) return this.dispatchNow(run, invocations);
    run.underWay = true;
    this.start(run, invocations);
  }

  /** A run's first hops: now while this turn's slice lasts, else in the next turn (checked again there). */
  private start(run: ActiveRun, invocations: readonly InvocationRecord[]): void {
    if (this.mayStartRuns()) this.dispatchNow(run, invocations);
    else setImmediate(() => this.start(run, invocations));
  }

  /**
   * New runs are admitted under the same slice as first hops, so a run is accepted in the turn it starts in. Waiting
   * runs go first, in arrival order: requests read in a later turn's poll phase queue behind them (each waiter has
   * its own setImmediate, so the microtasks of the run admitted before it have run when it checks the slice).
   */
  turnForNewRun(run: ActiveRun): Promise<void> | null {
    if (this.waitingRuns === 0 && this.mayStartRuns()) {
      run.underWay = true;
      return null;
    }
    this.waitingRuns++;
    return new Promise((resolve) => {
      const retry = () => {
        if (!this.mayStartRuns()) return void setImmediate(retry);
        this.waitingRuns--;
        run.underWay = true; // admitted: its first hops start with it, not a turn later
        resolve();
      };
      setImmediate(retry);
    });
  }

  /**
   * Whether a new run may start now: this turn's slice lasts, and storage's writer is not behind (its queue holds no
   * more than its next transaction takes). Runs started while it is behind only add writes that wait through more
   * turns, and through young-generation GCs that copy them (storage/group-commit.ts `behind`).
   */
  private mayStartRuns(): boolean {
    return this.sliceLeft() && this.hub.options.storage.writerBehind?.() !== true;
  }

  /** Whether this turn may still start runs (SLICE_MS since the first start in it). */
  private sliceLeft(): boolean {
    const now = performance.now();
    if (this.sliceStart < 0) {
      this.sliceStart = now;
      // Queued before any run deferred in this slice, so a deferred run finds a new slice.
      setImmediate(() => (this.sliceStart = -1));
    }
    return now - this.sliceStart < (acceptingConnections() ? SLICE_WHILE_ACCEPTING_MS : SLICE_MS);
  }

  private dispatchNow(run: ActiveRun, invocations: readonly InvocationRecord[]): void {
    for (const invocation of invocations) void this.run(run, invocation);
  }

  private run(run: ActiveRun, invocation: InvocationRecord): void {
    const deployedNode = run.flow.nodes.get(invocation.nodeId);
    let attempted: Attempted | Promise<Attempted>;
    try {
      attempted = this.attempt(run, deployedNode, invocation);
    } catch (error) {
      // As from an async function: the other invocations dispatched with this one still run.
      return void Promise.reject(error);
    }
    // A node that answered synchronously completes in the next microtask: one queued callback instead of three async
    // functions' promises and turns per hop. (Not in this call: completing dispatches the next hops, and a chain of
    // synchronous nodes would then grow the stack with every hop, and go depth-first through a fan-out.)
    if (attempted instanceof Promise) void attempted.then((done) => this.finish(run, deployedNode, invocation, done));
    else queueMicrotask(() => this.finishCaught(run, deployedNode, invocation, attempted));
  }

  /** finish() in a microtask: a synchronous throw becomes a rejection, as it was from the async functions before. */
  private finishCaught(run: ActiveRun, deployedNode: DeployedNode | undefined, invocation: InvocationRecord, attempted: Attempted): void {
    try {
      void this.finish(run, deployedNode, invocation, attempted);
    } catch (error) {
      void Promise.reject(error);
    }
  }

  private finish(run: ActiveRun, deployedNode: DeployedNode | undefined, invocation: InvocationRecord, attempted: Attempted): Promise<void> | undefined {
    if (run.abort.aborted || this.hub.closing) return; // Cancelled or shutting down: nothing more is written for this run.
    // Human in the loop (waiting/park.ts): a node waiting for an answer stays pending, not completed.
    if (attempted.error && this.hub.options.waiting?.parks(run, invocation, attempted.error)) return;
    return this.complete(run, deployedNode, invocation, attempted);
  }

  /** Call the node, retrying by its policy (the run waits while every branch sleeps in a backoff). Synchronous while the node is. */
  private attempt(run: ActiveRun, deployedNode: DeployedNode | undefined, invocation: InvocationRecord): Attempted | Promise<Attempted> {
    const result: Attempted = { outputs: NO_OUTPUTS, error: null, attempt: invocation.attempt, startedAt: Date.now(), scope: NO_SCOPE };
    if (!deployedNode) {
      result.error = new Error(`node "${invocation.nodeId}" is not in the deployed flow (it was removed or disabled)`);
      return result;
    }
    if ((invocation.interruptions ?? 0) >= (this.hub.options.maxInterruptions ?? DEFAULT_MAX_INTERRUPTIONS)) {
      result.error = new Error(`interrupted ${invocation.interruptions} times (the runtime stopped while it ran); not retried again: it may crash the runtime`);
      return result;
    }
    return this.attemptOnce(run, deployedNode, invocation, result);
  }

  /** The next attempt; on a failure, the ones after it (after their backoff). */
  private attemptOnce(run: ActiveRun, deployedNode: DeployedNode, invocation: InvocationRecord, result: Attempted): Attempted | Promise<Attempted> {
    const attempt = ++result.attempt;
    if (run.abort.aborted) return result;
    const msg = invocation.input as FlowMessage;
    const events = this.hub.options.events;
    if (events.listens?.('nodeStarted') !== false) events.nodeStarted({ flowId: run.record.flowId, runId: run.record.id, nodeId: invocation.nodeId, invocationId: invocation.id, attempt, input: msg });
    let outputs: PortMessage[] | Promise<PortMessage[]>;
    try {
      // Each attempt gets the message as it was stored: a failed attempt may have mutated it.
      const input = attempt > invocation.attempt + 1 ? structuredClone(msg) : msg;
      result.scope = { usage: null, tools: [] };
      outputs = invoke(this.hub, run, deployedNode, invocation, input, attempt, result.scope);
    } catch (caught) {
      return this.failed(run, deployedNode, invocation, result, caught);
    }
    if (outputs instanceof Promise) {
      return outputs.then(
        (answered) => this.succeeded(result, answered),
        (caught: unknown) => this.failed(run, deployedNode, invocation, result, caught),
      );
    }
    return this.succeeded(result, outputs);
  }

  private succeeded(result: Attempted, outputs: PortMessage[]): Attempted {
    result.outputs = outputs;
    result.error = null;
    return result;
  }

  /** An attempt failed: the outcome, or the next attempt after the policy's backoff (the run waits while it sleeps). */
  private failed(run: ActiveRun, deployedNode: DeployedNode, invocation: InvocationRecord, result: Attempted, caught: unknown): Attempted | Promise<Attempted> {
    const error = caught instanceof Error ? caught : new Error(String(caught));
    result.error = error;
    const attempt = result.attempt;
    const policy = deployedNode.retry;
    const retryable = (error as { retryable?: boolean }).retryable !== false && !run.abort.aborted;
    if (!retryable || attempt >= policy.maxAttempts) return result;
    const backoff = Math.min((policy.backoffMs ?? 1000) * 2 ** (attempt - 1), policy.maxBackoffMs ?? Number.MAX_SAFE_INTEGER);
    withFields(this.hub.runLog(run), { nodeId: invocation.nodeId }).warn(`node "${invocation.nodeId}" attempt ${attempt} failed, retrying in ${backoff} ms: ${run.flow.redactor.text(error.message)}`);
    return this.retryAfter(backoff, run, deployedNode, invocation, result);
  }

  private async retryAfter(backoff: number, run: ActiveRun, deployedNode: DeployedNode, invocation: InvocationRecord, result: Attempted): Promise<Attempted> {
    this.hub.admission.setWaiting(run, +1);
    const slept = await sleep(backoff, run.abort.signal);
    this.hub.admission.setWaiting(run, -1);
    if (!slept) return result;
    return this.attemptOnce(run, deployedNode, invocation, result);
  }

  /**
   * Commit the invocation with what it produced (one transaction), then dispatch the next ones or end the run.
   * Synchronous unless it has to wait: for the run's last commit, or for storage to catch up (back-pressure). An async
   * function here cost a promise and a large frame per hop.
   */
  private complete(run: ActiveRun, deployedNode: DeployedNode | undefined, invocation: InvocationRecord, attempted: Attempted): Promise<void> | undefined {
    const { attempt, startedAt, scope } = attempted;
    let { outputs, error } = attempted;
    const msg = invocation.input as FlowMessage;
    const finishedAt = Date.now();
    let next: InvocationRecord[];
    let tools = scope.tools;
    /** Set when even the error message for error handlers cannot be stored: the failure is not routed. */
    let unroutable = false;
    let finished: boolean;
    let finalStatus: RunStatus;
    /** The commit's promise: the run's last hop, or a storage without queueCompletion. */
    let committed: Promise<void> | undefined;
    /** Back-pressure: this hop passes on only once its own commit is stored. */
    let waitForCommit = false;
    let finishedEvent: NodeFinishedEvent | null = null;
    for (;;) {
      // Building the next invocations copies a fanned-out message (structuredClone), and storing serialises it: either
      // can find a message too large or deep to pass on. That fails this invocation with the reason (below) instead of
      // leaving the run stuck.
      try {
        if (error) {
          next = unroutable ? [] : routeToErrorHandlers(run, deployedNode, invocation, msg, error);
          if (next.length === 0 && run.failure === null) run.failure = `node "${invocation.nodeId}" failed: ${run.flow.redactor.text(error.message)}`;
        } else {
          if (outputs.length === 0) noteHeld(this.hub.replies, msg);
          next = nextInvocations(run, deployedNode, invocation.id, outputs);
          // Errors reported with ctx.error go to the error handlers too, while the outputs go on (Node-RED's error + send).
          if (scope.reported) for (const { error: reported, msg: at } of scope.reported) next.push(...routeToErrorHandlers(run, deployedNode, invocation, at, reported));
          if (run.flow.roles.completionHandlers.length > 0) next.push(...routeToCompletionHandlers(run, deployedNode, invocation, msg, outputs));
          // The step budget: `seq` numbers every invocation of the run (resumes included), so it counts the steps.
          const budget = run.flow.flow.settings?.maxSteps ?? DEFAULT_MAX_STEPS;
          if (budget > 0 && next.length > 0 && run.seq > budget) {
            next = [];
            run.failure ??= `step budget exceeded: the run made ${budget.toLocaleString('en')} node invocations (flow setting "maxSteps"); a loop in the flow? Messages after node "${invocation.nodeId}" were not passed on`;
          }
        }
        for (const tool of tools) tool.seq = run.seq++;
        finished = run.outstanding + next.length - 1 === 0;
        finalStatus = run.failure ? 'failed' : 'succeeded';
        // A run that keeps no history is deleted by its last completion, in the same transaction (or, written whole
        // in one group commit, never written): no second write per run, no delete splitting the next batch.
        const discardRun = finished && !keepsHistory(this.hub, run, finalStatus);
        // The completion (outputs + next invocations, one transaction) is queued on the single writer and the next
        // nodes run without waiting for it: the writer commits in order, so storage always holds a consistent prefix
        // of the run, and whatever was not yet committed at a crash is run again on resume. Only the run's end
        // waits for its commit, so a finished run is never reported before it is stored.
        const change: CompleteInvocation = {
          invocation: { id: invocation.id, status: error ? 'failed' : 'succeeded', attempt, outputs, error: error?.message ?? null, startedAt, finishedAt, usage: scope.usage },
          next: tools.length > 0 ? [...tools, ...next] : next,
          run: finished ? { id: run.record.id, status: finalStatus, error: run.failure, finishedAt } : undefined,
          runId: run.record.id,
        };
        if (discardRun) change.discardRun = true;
        const storage = this.hub.options.storage;
        if (finished || !storage.queueCompletion) committed = storage.completeInvocation(run.flow.redactor.completion(change));
        else {
          // No promise per hop: told once the commit is stored (or failed).
          storage.queueCompletion(run.flow.redactor.completion(change), (storageError?: unknown) => {
            this.uncommitted--;
            try {
              if (storageError !== undefined) this.hub.admission.dropRun(run, storageError as Error, `could not record node "${invocation.nodeId}"`);
              else if (waitForCommit) this.passOn(run, finishedEvent, next);
            } catch (thrown) {
              void Promise.reject(thrown);
            }
          });
          this.uncommitted++;
          waitForCommit = this.uncommitted > MAX_UNCOMMITTED;
        }
        if (discardRun) run.historyDiscarded = true;
        break;
      } catch (unstorable) {
        // Storage throws before anything is queued (see Storage.completeInvocation); a copy too deep for the stack is a
        // RangeError. The run's count of outstanding invocations is only updated after this loop.
        const tooDeep = unstorable instanceof RangeError && /call stack/i.test(unstorable.message);
        if (!(unstorable instanceof UnstorableMessageError || tooDeep) || unroutable) throw unstorable;
        if (error) unroutable = true;
        else error = new Error(`its output cannot be passed on: ${unstorable instanceof UnstorableMessageError ? unstorable.detail : `it is nested more than ${this.hub.options.maxDepth ?? DEFAULT_MAX_DEPTH} levels deep (FLOWCREW_MAX_DEPTH)`}`);
        outputs = [];
        tools = [];
      }
    }
    run.outstanding += next.length - 1;
    // The event is made now, reported below (a plain object rather than a closure per hop); only when someone listens.
    finishedEvent = this.hub.options.events.listens?.('nodeFinished') === false ? null : {
      flowId: run.record.flowId,
      runId: run.record.id,
      nodeId: invocation.nodeId,
      invocationId: invocation.id,
      attempt,
      status: error ? 'failed' : 'succeeded',
      outputs,
      error: error?.message ?? null,
      durationMs: finishedAt - startedAt,
    };
    if (!finished) {
      if (!committed) {
        // Queued with queueCompletion: under back-pressure, its callback passes on once the commit is stored.
        if (!waitForCommit) this.passOn(run, finishedEvent, next);
        return;
      }
      this.uncommitted++;
      const settled = committed.then(this.countCommitted, (storageError: unknown) => {
        this.uncommitted--;
        this.hub.admission.dropRun(run, storageError as Error, `could not record node "${invocation.nodeId}"`);
      });
      // Back-pressure: when storage falls behind, wait for this commit rather than let the queue grow without bound.
      if (this.uncommitted > MAX_UNCOMMITTED) return settled.then(() => this.passOn(run, finishedEvent, next));
      this.passOn(run, finishedEvent, next);
      return;
    }
    return this.endRun(run, invocation, committed!, finishedEvent, finalStatus, finishedAt);
  }

  /** One completion commit fewer outstanding (made once: no closure per hop). */
  private readonly countCommitted = (): void => void this.uncommitted--;

  /** Report the node finished and run the next hops (not after a cancel). */
  private passOn(run: ActiveRun, finishedEvent: NodeFinishedEvent | null, next: readonly InvocationRecord[]): void {
    if (run.abort.aborted) return;
    if (finishedEvent) this.hub.options.events.nodeFinished(finishedEvent);
    this.dispatch(run, next);
  }

  /** The run's last node: the run ends once its commit is stored (never reported finished before). */
  private async endRun(run: ActiveRun, invocation: InvocationRecord, committed: Promise<void>, finishedEvent: NodeFinishedEvent | null, finalStatus: RunStatus, finishedAt: number): Promise<void> {
    try {
      await committed;
    } catch (storageError) {
      this.hub.admission.dropRun(run, storageError as Error, `could not record node "${invocation.nodeId}"`);
      return;
    }
    if (run.abort.aborted) return;
    if (finishedEvent) this.hub.options.events.nodeFinished(finishedEvent);
    this.hub.admission.completeRun(run, finalStatus, finishedAt);
  }
}
