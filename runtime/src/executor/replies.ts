/**
 * Reply waiters: a webhook request (or a sub-flow call) waiting for what its run answers (a response node's
 * ctx.reply) or for the run to end without answering. Held in this process's memory, next to the run.
 */
import type { TriggerReply } from '@flowcrew/sdk';
import type { ActiveRun, ReplyWaiter } from './types.ts';

export function waitForReply(run: ActiveRun, timeoutMs: number): Promise<TriggerReply> {
  const reply = new Promise<TriggerReply>((resolve, reject) => {
    const waiter: ReplyWaiter = { resolve, reject, settled: false };
    waiter.timer = setTimeout(() => settleReply(run, new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
    waiter.timer.unref();
    run.reply = waiter;
  });
  // The trigger awaits the reply only after acceptance; a run that fails sooner must not count as unhandled.
  reply.catch(() => {});
  return reply;
}

/** Answer the waiter of `run`, once: later answers (a second response node, the run's end) are ignored. */
export function settleReply(run: ActiveRun, outcome: TriggerReply | Error): void {
  const waiter = run.reply;
  if (!waiter || waiter.settled) return;
  waiter.settled = true;
  clearTimeout(waiter.timer);
  if (outcome instanceof Error) waiter.reject(outcome);
  else waiter.resolve(outcome);
}
