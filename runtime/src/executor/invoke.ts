/**
 * One call of a node's onInput: the `ctx` it gets, its timeout, and cancellation with the run. No retries and no
 * storage here (dispatch.ts does both).
 */
import {
  normaliseOutput,
  type FlowMessage,
  type InputContext,
  type Logger,
  type ModelUsage,
  type PortMessage,
  type StepJournal,
  type ToolCall,
  type TriggerReply,
  type WaitAnswer,
  type WaitRequest,
} from '@flowcrew/sdk';
import type { LiveCredential } from '@flowcrew/sdk/host';
import type { InvocationRecord } from '../storage/types.ts';
import { stepJournal } from '../steps/journal.ts';
import { contextInCalledRun, inCalledRun } from '../subflows/caller-env.ts';
import { answer } from './replies.ts';
import { addUsage, type ActiveRun, type DeployedNode, type ExecutorHub, type InvocationScope } from './types.ts';

/**
 * Call the node once. A node that answers synchronously (most transform nodes) is answered synchronously: no promise
 * and no microtask turn per hop; an async one returns a promise.
 */
export function invoke(hub: ExecutorHub, run: ActiveRun, deployedNode: DeployedNode, invocation: InvocationRecord, msg: FlowMessage, attempt: number, scope: InvocationScope): PortMessage[] | Promise<PortMessage[]> {
  const onInput = deployedNode.instance.onInput;
  if (!onInput) return [];
  const sent: PortMessage[] = [];
  const timeoutMs = deployedNode.timeoutMs;
  // A node with a timeout gets its own signal (aborted by the timeout or the run); otherwise the run's signal
  // serves, which saves an AbortController and two listeners per hop. The run's signal itself is made only when a
  // node asks for ctx.signal or waits asynchronously (RunAbort).
  const controller = timeoutMs > 0 ? new AbortController() : null;
  let onRunAbort: (() => void) | undefined;
  if (controller) {
    onRunAbort = () => controller.abort(run.abort.signal.reason);
    run.abort.signal.addEventListener('abort', onRunAbort, { once: true });
  }
  const ctx = new NodeInputContext(hub, run, deployedNode, invocation, msg, attempt, controller, scope, sent);
  let result: unknown;
  try {
    // A called run (a library sub-flow) reads its caller's variables: only such runs pay for the scope.
    result = run.caller ? inCalledRun(run.caller, () => onInput.call(deployedNode.instance, msg, ctx)) : onInput.call(deployedNode.instance, msg, ctx);
  } catch (error) {
    if (onRunAbort) run.abort.signal.removeEventListener('abort', onRunAbort);
    throw error;
  }
  if (result instanceof Promise) return settled(run, result, controller, timeoutMs, onRunAbort, sent);
  if (onRunAbort) run.abort.signal.removeEventListener('abort', onRunAbort);
  return outputsOf(sent, result);
}

function outputsOf(sent: PortMessage[], result: unknown): PortMessage[] {
  if (sent.length === 0) return normaliseOutput(result);
  return [...sent, ...normaliseOutput(result)];
}

/** An async node's answer, or its failure when the signal aborts first (the run was cancelled, or the timeout ran out). */
async function settled(run: ActiveRun, pending: Promise<unknown>, controller: AbortController | null, timeoutMs: number, onRunAbort: (() => void) | undefined, sent: PortMessage[]): Promise<PortMessage[]> {
  let timer: NodeJS.Timeout | undefined;
  let onStop: (() => void) | undefined;
  let stopOf: ((reason: unknown) => void) | undefined;
  try {
    // One promise settled by whichever comes first (Promise.race with a stop promise made three promises per hop).
    const result = await new Promise((resolve, reject) => {
      if (controller) {
        timer = setTimeout(() => controller.abort(new Error(`node timed out after ${timeoutMs} ms`)), timeoutMs);
        onStop = () => reject(controller.signal.reason as Error);
        controller.signal.addEventListener('abort', onStop, { once: true });
      } else if (run.abort.aborted) return reject(run.abort.reason as Error);
      // Without a timeout the run itself rejects the wait when it aborts: no signal, no listener added and removed per hop.
      else run.abort.addWait((stopOf = reject));
      pending.then(resolve, reject);
    });
    return outputsOf(sent, result);
  } finally {
    clearTimeout(timer);
    if (onRunAbort) run.abort.signal.removeEventListener('abort', onRunAbort);
    if (onStop) controller!.signal.removeEventListener('abort', onStop);
    if (stopOf) run.abort.deleteWait(stopOf);
  }
}

/** ctx.log: the run's logger is made on first use only (nodes pass ctx.log along on every message; few log). */
class DeferredLogger implements Logger {
  private logger: Logger | undefined;
  constructor(private readonly make: { realLog(): Logger }) {}
  debug(message: string, data?: unknown): void {
    (this.logger ??= this.make.realLog()).debug(message, data);
  }
  info(message: string, data?: unknown): void {
    (this.logger ??= this.make.realLog()).info(message, data);
  }
  warn(message: string, data?: unknown): void {
    (this.logger ??= this.make.realLog()).warn(message, data);
  }
  error(message: string, data?: unknown): void {
    (this.logger ??= this.make.realLog()).error(message, data);
  }
}

/**
 * The `ctx` a node's onInput receives. A class rather than an object of closures: one allocation per hop, with
 * the methods shared on the prototype.
 */
class NodeInputContext implements InputContext {
  readonly runId: string;
  readonly nodeId: string;
  readonly flowId: string;
  private runLogger: Logger | undefined;
  private deferredLog: DeferredLogger | undefined;
  private journal: StepJournal | undefined;
  readonly status: InputContext['status'];
  readonly credentials: Record<string, unknown> | undefined;
  readonly credential: LiveCredential | undefined;
  readonly context: InputContext['context'];

  constructor(
    private readonly hub: ExecutorHub,
    private readonly run: ActiveRun,
    private readonly node: DeployedNode,
    private readonly invocation: InvocationRecord,
    private readonly input: FlowMessage,
    readonly attempt: number,
    /** The node's own controller when it has a timeout; else ctx.signal is the run's. */
    private readonly controller: AbortController | null,
    private readonly scope: InvocationScope,
    private readonly sent: PortMessage[],
  ) {
    this.runId = run.record.id;
    this.nodeId = invocation.nodeId;
    this.flowId = run.record.flowId;
    this.status = run.caller ? (status) => hub.deployer.statusInCalledRun(run, node, status) : node.status;
    // The credential's fields as they are now: an edit reaches the next message without a redeploy.
    this.credential = node.credential;
    this.credentials = node.credential ? node.credential.fields : node.credentials;
    this.context = run.caller ? contextInCalledRun(node.context, run.caller) : node.context;
  }

  get signal(): AbortSignal {
    return this.controller ? this.controller.signal : this.run.abort.signal;
  }

  /** Made on first line logged: most invocations never log, and a logger with the run's id costs several allocations. */
  get log(): Logger {
    return (this.deferredLog ??= new DeferredLogger(this));
  }

  realLog(): Logger {
    return (this.runLogger ??= this.hub.nodeLogger(this.flowId, this.node.node.id, this.node.label, this.run.flow.redactor, this.runId));
  }

  get idempotencyKey(): string {
    return `${this.runId}:${this.nodeId}:${this.invocation.id}:${this.attempt}`;
  }

  send(out: FlowMessage | FlowMessage[] | null, port = 0): void {
    if (out === null || out === undefined) return;
    for (const msg of Array.isArray(out) ? out : [out]) this.sent.push({ port, msg });
  }

  /**
   * Node-RED's node.error(err, msg) before a send: the catch nodes get a copy of the message as it is now (the node may
   * change and send it afterwards), routed when the invocation succeeds (dispatch.ts); the error is logged either way.
   */
  error(error: Error | string): void {
    const reported = typeof error === 'string' ? new Error(error) : error instanceof Error ? error : new Error(String(error));
    (this.scope.reported ??= []).push({ error: reported, msg: structuredClone(this.input) });
    this.log.error(reported.message);
  }

  debug(value: unknown, meta?: { property?: string }): void {
    this.hub.options.events.debug({ flowId: this.flowId, runId: this.runId, nodeId: this.nodeId, value, property: meta?.property, at: Date.now() });
  }

  reply(reply: TriggerReply): void {
    answer(this.hub.replies, this.run, this.node, this.invocation.input, reply);
  }

  progress(data: unknown): void {
    this.hub.options.events.progress({ flowId: this.flowId, runId: this.runId, nodeId: this.nodeId, invocationId: this.invocation.id, data });
  }

  recordUsage(usage: ModelUsage): void {
    this.scope.usage = addUsage(this.scope.usage, usage);
  }

  callTool(call: ToolCall): Promise<FlowMessage[]> {
    return this.hub.tools.callTool(this.run, this.node, this.invocation, call, this.signal, this.scope);
  }

  /** Durable parts of this invocation, stored as its child invocations (steps/journal.ts); made on first use. */
  get steps(): StepJournal | undefined {
    return (this.journal ??= stepJournal(this.hub.options.storage, this.run, this.invocation, this.scope));
  }

  waitForInput(request: WaitRequest): Promise<WaitAnswer> {
    const waiting = this.hub.options.waiting;
    if (!waiting) return Promise.reject(new Error('this runtime cannot wait for people (no waiting service configured)'));
    return waiting.ask({ runId: this.runId, flowId: this.flowId, nodeId: this.nodeId, invocationId: this.invocation.id, projectId: this.run.record.projectId }, request);
  }
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
