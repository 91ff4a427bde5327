/** Run routes only the run view uses (runtime/src/api/routes/runs.ts). */
import { request } from '../../api/client';

export interface StepRerunAnswer {
  runId: string;
  status: 'accepted';
  /** Keys of the steps the new run reuses from this one, in order. */
  reused: string[];
}

export const runStepsApi = {
  /** A new run from a chosen step of a node's invocation (an AI crew's task): the steps before it are reused. */
  rerunFromStep: (runId: string, invocationId: string, fromStep: string) =>
    request<StepRerunAnswer>('POST', `/runs/${encodeURIComponent(runId)}/invocations/${encodeURIComponent(invocationId)}/rerun`, { fromStep }),
};
