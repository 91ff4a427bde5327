/**
 * A run's invocations as the run view nests them. A node's durable steps (SDK ctx.steps: an AI crew's plan, tasks,
 * assignments, reviews, delegations, drafts) are child invocations `<parent>/<key>` whose input is
 * `{step: {key, kind, label, partOf?, copiedFrom?}, input}` (runtime/src/storage/steps.ts); tool calls an agent made
 * are invocations of the same node (another type) under the invocation or step they were made for. Everything else
 * is a node of the flow and stays in the top-level list, in run order.
 */
import type { InvocationRecord } from '../../api/types';

export interface StepInfo {
  key: string;
  kind: string;
  label: string;
  partOf?: string;
  copiedFrom?: { runId: string; invocationId: string };
}

export interface StepView {
  record: InvocationRecord;
  step: StepInfo;
  /** What the node recorded as the step's input (the record's input without the step envelope). */
  input: unknown;
  output: unknown;
  /** Tool calls made for this step, in order. */
  tools: InvocationRecord[];
  /** Steps that were part of this one (a task's assignment, drafts, delegations, reviews), in order. */
  parts: StepView[];
}

export interface InvocationView {
  record: InvocationRecord;
  /** Its steps that stand on their own (not part of another step), in order. */
  steps: StepView[];
  /** Tool calls made outside any step (an ai-agent's, or a crew's task still under way). */
  tools: InvocationRecord[];
}

/** Steps of a crew's manager, which calls no tools of its own. */
const MANAGER_KINDS = new Set(['assignment', 'review']);

/** The step metadata when `record` is a step of its parent invocation (same rule as the runtime's stepMeta). */
export function stepInfo(record: InvocationRecord): StepInfo | undefined {
  const step = (record.input as { step?: StepInfo } | null)?.step;
  if (!record.parentId || !step || typeof step.key !== 'string' || typeof step.kind !== 'string') return undefined;
  return record.id === `${record.parentId}/${step.key}` ? step : undefined;
}

/** Whether `child` is nested in `parent` (a step or a tool call of it) rather than a node its output reached. */
function nestedIn(child: InvocationRecord, parent: InvocationRecord): boolean {
  if (child.parentId !== parent.id || child.nodeId !== parent.nodeId) return false;
  // A node wired to itself has the same node and type: that is the next message, not a tool call.
  return stepInfo(child) !== undefined || child.nodeType !== parent.nodeType;
}

export function nestInvocations(invocations: readonly InvocationRecord[]): InvocationView[] {
  const sorted = [...invocations].sort((a, b) => a.seq - b.seq);
  const byId = new Map(sorted.map((i) => [i.id, i]));
  const nested = new Set<string>();
  const childrenOf = new Map<string, InvocationRecord[]>();
  for (const record of sorted) {
    const parent = record.parentId ? byId.get(record.parentId) : undefined;
    if (!parent || !nestedIn(record, parent)) continue;
    nested.add(record.id);
    const list = childrenOf.get(parent.id) ?? [];
    list.push(record);
    childrenOf.set(parent.id, list);
  }

  const stepView = (record: InvocationRecord, step: StepInfo): StepView => {
    const children = childrenOf.get(record.id) ?? [];
    return {
      record,
      step,
      input: (record.input as { input?: unknown }).input,
      output: record.outputs?.[0]?.msg,
      tools: children.filter((c) => !stepInfo(c)),
      parts: [],
    };
  };

  const views: InvocationView[] = [];
  for (const record of sorted) {
    if (nested.has(record.id)) continue;
    const children = childrenOf.get(record.id) ?? [];
    const steps: StepView[] = [];
    const byKey = new Map<string, StepView>();
    for (const child of children) {
      const step = stepInfo(child);
      if (step) byKey.set(step.key, stepView(child, step));
    }
    // A part is stored before the step it belongs to (a task is stored when it ends): attach by key, not by order.
    for (const view of byKey.values()) {
      const whole = view.step.partOf ? byKey.get(view.step.partOf) : undefined;
      if (!whole) {
        steps.push(view);
        continue;
      }
      whole.parts.push(view);
      // The runtime files the tool calls made since the last stored step under the next one. A manager's review or
      // assignment makes none itself (the manager has no tools): those are the worker's calls for the task.
      if (MANAGER_KINDS.has(view.step.kind) && view.tools.length) {
        whole.tools = [...whole.tools, ...view.tools].sort((a, b) => a.seq - b.seq);
        view.tools = [];
      }
    }
    views.push({ record, steps, tools: children.filter((c) => !stepInfo(c)) });
  }
  return views;
}

/** Tokens a record reports (prompt + completion), or null when it reports none. */
export function tokensOf(record: InvocationRecord): { prompt: number; completion: number; total: number } | null {
  const usage = record.usage;
  if (!usage || (usage.promptTokens === undefined && usage.completionTokens === undefined)) return null;
  const prompt = usage.promptTokens ?? 0;
  const completion = usage.completionTokens ?? 0;
  return { prompt, completion, total: prompt + completion };
}

export function durationOf(record: InvocationRecord): number | null {
  return record.finishedAt !== null && record.startedAt !== null ? record.finishedAt - record.startedAt : null;
}
