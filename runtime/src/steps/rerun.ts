/**
 * Re-run from a chosen step: a new run of the same flow that starts at the node whose invocation made the steps
 * (an AI crew), with that invocation's input, and with every step recorded before the chosen one copied under the
 * new invocation. The node finds those as finished (ctx.steps.finished(), as after a crash) and reuses their
 * outputs; the chosen step and everything after it are computed again. A copied step brings the tool calls filed
 * under it (new ids, same tree), so the new run shows what each reused task called. The copies go in with the run's
 * acceptance (one transaction), so the run can never start without them, in-process or on a queue worker alike.
 */
import { randomUUID } from 'node:crypto';
import type { FlowMessage } from '@flowcrew/sdk';
import { ProblemError, notFound } from '../errors.ts';
import type { Executor } from '../executor/executor.ts';
import { REPLY_HANDLE } from '../executor/replies.ts';
import { CannotStartRunError } from '../executor/types.ts';
import { stepInvocation, stepMeta, toFinishedStep } from '../storage/steps.ts';
import type { InvocationRecord, Storage } from '../storage/types.ts';
import { copiesInFlight, stepStoreOf } from './journal.ts';

export interface StepRerun {
  runId: string;
  /** Keys of the steps copied from the earlier run, in order. */
  reused: string[];
}

export async function rerunFromStep(runtime: { storage: Storage; executor: Executor }, runId: string, invocationId: string, fromStep: string): Promise<StepRerun> {
  const { storage, executor } = runtime;
  const past = await storage.getRun(runId);
  if (!past) throw notFound(`run "${runId}"`);
  const invocations = await storage.listInvocations(runId);
  const parent = invocations.find((i) => i.id === invocationId);
  if (!parent) throw notFound(`invocation "${invocationId}" of run "${runId}"`);
  if (stepMeta(parent)) throw new ProblemError(422, 'Not a node invocation', `invocation "${invocationId}" is itself a step: re-run from a step of invocation "${parent.parentId}"`);
  const store = stepStoreOf(storage);
  const steps = store ? await store.list(runId, invocationId) : [];
  const chosen = steps.find((s) => s.meta.key === fromStep);
  if (!chosen) {
    const known = steps.map((s) => s.meta.key);
    throw new ProblemError(404, 'Not Found', `invocation "${invocationId}" has no finished step "${fromStep}" (${known.length ? `its steps: ${known.join(', ')}` : 'it recorded no steps'})`);
  }
  // Everything finished before the chosen step, except what belonged to it (its drafts, delegations, reviews).
  const reused = steps.filter((s) => s.record.seq < chosen.record.seq && s.meta.partOf !== fromStep);
  if (!executor.isDeployed(past.flowId)) throw new ProblemError(409, 'Flow not deployed', `flow "${past.flowId}" is not deployed: deploy it before re-running`);
  const input = structuredClone((parent.input ?? {}) as FlowMessage);
  delete input._msgid;
  delete input[REPLY_HANDLE];
  let entryId: string | undefined;
  try {
    const started = await executor.runNow(past.flowId, input, {
      nodeId: parent.nodeId,
      reuse: (entry, nextSeq) => {
        const copies: InvocationRecord[] = [];
        for (const { record, meta } of reused) {
          // Copies cost nothing in the new run: no usage of their own there (the earlier run keeps it).
          const { usage: _spent, ...step } = toFinishedStep(record, meta);
          const copy = stepInvocation(entry, step, 0, meta.copiedFrom ?? { runId, invocationId });
          // Its tool calls first, as they were stored (they happened before the step finished).
          copies.push(...copyToolCalls(invocations, record.id, copy, nextSeq));
          copy.seq = nextSeq();
          copies.push(copy);
        }
        entryId = entry.id;
        copiesInFlight.set(entry.id, copies);
        return copies;
      },
    });
    return { runId: started.runId, reused: reused.map((s) => s.meta.key) };
  } catch (error) {
    if (error instanceof CannotStartRunError) throw new ProblemError(422, 'Cannot re-run', error.message);
    throw error;
  } finally {
    // runNow resolves once the acceptance (with the copies) has committed: from now on storage has them.
    if (entryId) copiesInFlight.delete(entryId);
  }
}

/** Copies of the invocations filed under `from` (tool calls, and calls made inside them) re-parented under `to`, in their order. */
function copyToolCalls(invocations: readonly InvocationRecord[], from: string, to: InvocationRecord, nextSeq: () => number): InvocationRecord[] {
  const ids = new Map([[from, to.id]]);
  const copies: InvocationRecord[] = [];
  // Sorted by seq, a call comes after the call it was made in: its new parent id is known when it is reached.
  for (const call of [...invocations].sort((a, b) => a.seq - b.seq)) {
    const parentId = call.parentId === null ? undefined : ids.get(call.parentId);
    if (parentId === undefined || stepMeta(call)) continue;
    const id = randomUUID();
    ids.set(call.id, id);
    copies.push({ ...structuredClone(call), id, runId: to.runId, parentId, seq: nextSeq(), usage: null });
  }
  return copies;
}
