/**
 * Re-run from a chosen step: a new run of the same flow that starts at the node whose invocation made the steps
 * (an AI crew), with that invocation's input, and with every step recorded before the chosen one copied under the
 * new invocation. The node finds those as finished (ctx.steps.finished(), as after a crash) and reuses their
 * outputs; the chosen step and everything after it are computed again. The copies go in with the run's acceptance
 * (one transaction), so the run can never start without them, in-process or on a queue worker alike.
 */
import type { FlowMessage } from '@flowcrew/sdk';
import { ProblemError, notFound } from '../errors.ts';
import type { Executor } from '../executor/executor.ts';
import { REPLY_HANDLE } from '../executor/replies.ts';
import { CannotStartRunError } from '../executor/types.ts';
import { stepInvocation, stepMeta, toFinishedStep } from '../storage/steps.ts';
import type { Storage } from '../storage/types.ts';
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
  const parent = (await storage.listInvocations(runId)).find((i) => i.id === invocationId);
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
        const copies = reused.map(({ record, meta }) => {
          // Copies cost nothing in the new run: no usage of their own there (the earlier run keeps it).
          const { usage: _spent, ...step } = toFinishedStep(record, meta);
          return stepInvocation(entry, step, nextSeq(), meta.copiedFrom ?? { runId, invocationId });
        });
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
