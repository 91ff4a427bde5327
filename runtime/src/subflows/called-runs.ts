/**
 * A called run (a library sub-flow) taken back after a stop, or by another queue worker: its caller comes back from
 * what the run stored (msg.subflow.caller in its input, subflows/caller-env.ts), so its nodes read the calling flow's
 * variables again and its statuses go up to the calling node, as in the process that made the call.
 */
import type { DeployedFlow, RunCaller } from '../executor/types.ts';
import type { Redactor } from '../executor/redaction.ts';
import type { RunRecord } from '../storage/types.ts';
import { callerFlowIds, restoredCaller, storedCallerOf } from './caller-env.ts';

/** The caller of a resumed run, when it is a called run that stored one (and its parent is that caller's run). */
export function callerOfResumedRun(record: Pick<RunRecord, 'flowId' | 'parentRunId' | 'input'>, deployed: ReadonlyMap<string, DeployedFlow>): RunCaller | undefined {
  if (!record.parentRunId) return undefined;
  const stored = storedCallerOf(record.input);
  if (!stored || stored.runId !== record.parentRunId) return undefined;
  // The callers' secrets read inside are redacted in the called run's history here too (executor/tools.ts callFlow).
  const into = deployed.get(record.flowId)?.redactor;
  if (into) for (const flowId of callerFlowIds(stored)) absorbOnce(into, deployed.get(flowId)?.redactor);
  return restoredCaller(stored, (flowId, nodeId) => deployed.get(flowId)?.nodes.get(nodeId));
}

/** The calling flows a called run needs deployed where it runs (a queue worker deploys flows as their runs come). */
export function callingFlowsOf(record: Pick<RunRecord, 'parentRunId' | 'input'>): string[] {
  const stored = record.parentRunId ? storedCallerOf(record.input) : undefined;
  return stored ? callerFlowIds(stored) : [];
}

const absorbed = new WeakMap<Redactor, WeakSet<Redactor>>();
function absorbOnce(into: Redactor, from: Redactor | undefined): void {
  if (!from || from === into) return;
  let seen = absorbed.get(into);
  if (!seen) absorbed.set(into, (seen = new WeakSet()));
  if (seen.has(from)) return;
  seen.add(from);
  into.absorb(from);
}
