/**
 * Reply waiters: a webhook request (or a sub-flow call) waiting for what its run answers (a response node's
 * ctx.reply) or for the run to end without answering. Held in this process's memory, next to the run.
 *
 * Reply handles (Node-RED's msg.res): a request's waiter is also registered under a handle (its run's id) that the
 * trigger's message carries as `msg._replyTo`. An http-response node answers the handle its message carries, so a
 * response reached in ANOTHER run (a join completing a group another request started, a path called by link call)
 * still answers its request. A handle only lives in this process: after a restart it names nothing, and the
 * request it stood for was answered (or cut) when the process stopped.
 */
import type { FlowMessage, TriggerReply } from '@flowcrew/sdk';
import type { ActiveRun, DeployedNode, ReplyWaiter } from './types.ts';

/** The message property that carries a request's reply handle. */
export const REPLY_HANDLE = '_replyTo';

/** The waiters of this process's requests by handle; a settled waiter leaves at once. */
export class ReplyHandles {
  private readonly waiters = new Map<string, ReplyWaiter>();
  /** Queue mode, on a worker: answers a request another process holds (queue/replies.ts publishReply). */
  remote?: (handle: string, reply: TriggerReply) => void;

  register(handle: string, waiter: ReplyWaiter): void {
    waiter.handle = handle;
    this.waiters.set(handle, waiter);
  }

  /** The waiting request the message's handle names, if it is still waiting here. */
  of(msg: unknown): ReplyWaiter | undefined {
    const handle = handleOf(msg);
    return handle === undefined ? undefined : this.waiters.get(handle);
  }

  forget(waiter: ReplyWaiter): void {
    if (waiter.handle !== undefined && this.waiters.get(waiter.handle) === waiter) this.waiters.delete(waiter.handle);
  }

  get size(): number {
    return this.waiters.size;
  }
}

/** Wait for `run`'s reply; with `handles`, the waiter is also answerable by handle (the run's id) from any run. */
export function waitForReply(run: ActiveRun, timeoutMs: number, handles?: ReplyHandles): Promise<TriggerReply> {
  const reply = new Promise<TriggerReply>((resolve, reject) => {
    const waiter: ReplyWaiter = { resolve, reject, settled: false, handles };
    waiter.timer = setTimeout(() => settleWaiter(waiter, new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
    waiter.timer.unref();
    run.reply = waiter;
    handles?.register(run.record.id, waiter);
  });
  // The trigger awaits the reply only after acceptance; a run that fails sooner must not count as unhandled.
  reply.catch(() => {});
  return reply;
}

/** Answer the waiter of `run`, once: later answers (a second response node, the run's end) are ignored. */
export function settleReply(run: ActiveRun, outcome: TriggerReply | Error): void {
  if (run.reply) settleWaiter(run.reply, outcome);
}

function settleWaiter(waiter: ReplyWaiter, outcome: TriggerReply | Error): void {
  if (waiter.settled) return;
  waiter.settled = true;
  clearTimeout(waiter.timer);
  waiter.handles?.forget(waiter);
  if (outcome instanceof Error) waiter.reject(outcome);
  else waiter.resolve(outcome);
}

/**
 * A node's ctx.reply: an http-response node answers the request whose handle its message carries (wherever it
 * started); any other reply (a sub-flow's return, an RPC answer) goes to the run's own waiter.
 */
export function answer(handles: ReplyHandles, run: ActiveRun, node: DeployedNode, msg: unknown, reply: TriggerReply): void {
  if (node.definition.role?.kind === 'http-response') {
    const byHandle = handles.of(msg);
    if (byHandle) return settleWaiter(byHandle, reply);
    // Queue mode: a request held by another process (not this run's own, which its waiter answers below).
    const handle = handleOf(msg);
    if (handles.remote && handle !== undefined && handle !== run.record.id) return handles.remote(handle, reply);
  }
  settleReply(run, reply);
}

function handleOf(msg: unknown): string | undefined {
  const handle = msg && typeof msg === 'object' ? (msg as FlowMessage)[REPLY_HANDLE] : undefined;
  return typeof handle === 'string' ? handle : undefined;
}

/**
 * A node consumed a message carrying a handle and passed nothing on (a join or batch keeping it, a delay holding it):
 * the request may still be answered from another run, so its own run's end does not answer it (its timeout does).
 */
export function noteHeld(handles: ReplyHandles, msg: unknown): void {
  if (handles.size === 0) return;
  const waiter = handles.of(msg);
  if (waiter) waiter.held = true;
}

/**
 * The run ended: answer its waiter with an error saying why (`reason`) unless a node still holds a message that can
 * answer it. The Error is made only when there is a waiter (its stack trace costs microseconds on every run's end).
 */
export function settleAtRunEnd(run: ActiveRun, reason: string): void {
  if (run.reply && !run.reply.held && !run.reply.settled) settleWaiter(run.reply, new Error(reason));
}
