/**
 * Durable steps (the SDK's ctx.steps, steps.ts there) stored as what they are: finished child invocations of the
 * invocation that made them, in the `invocations` table of its run. A step of invocation P has the id `P/<key>` (so
 * P finds its own steps again on every attempt), the node type `<P's type>#<kind>` (the run view shows "ai-crew#task"),
 * the input `{step: {key, kind, label, partOf?, copiedFrom?}, input}`, its output on port 0 and its own usage.
 * Retention, deletion, the run view and the API treat steps as any invocation: no table of their own, no migration.
 */
import type { FinishedStep, StepRecord } from '@flowcrew/sdk';
import type { SqlStorage } from './sql-storage.ts';
import type { InvocationRecord } from './types.ts';

/** What a step row keeps about the step besides input and output. */
export interface StepMeta {
  key: string;
  kind: string;
  label: string;
  partOf?: string;
  copiedFrom?: { runId: string; invocationId: string };
}

type Parent = Pick<InvocationRecord, 'id' | 'runId' | 'nodeId' | 'nodeType'>;

export function stepId(parentId: string, key: string): string {
  return `${parentId}/${key}`;
}

/** The step's metadata when `record` is a step of `parentId` (else undefined). */
export function stepMeta(record: InvocationRecord, parentId?: string): StepMeta | undefined {
  if (parentId !== undefined && (record.parentId !== parentId || !record.id.startsWith(`${parentId}/`))) return undefined;
  const step = (record.input as { step?: StepMeta } | null)?.step;
  return step && typeof step.key === 'string' && record.id === stepId(record.parentId ?? '', step.key) ? step : undefined;
}

/** The child invocation a finished step is stored as. */
export function stepInvocation(parent: Parent, step: StepRecord, seq: number, copiedFrom?: StepMeta['copiedFrom']): InvocationRecord {
  const meta: StepMeta = { key: step.key, kind: step.kind, label: step.label, ...(step.partOf ? { partOf: step.partOf } : {}), ...(copiedFrom ? { copiedFrom } : {}) };
  return {
    id: stepId(parent.id, step.key),
    runId: parent.runId,
    nodeId: parent.nodeId,
    nodeType: `${parent.nodeType}#${step.kind}`,
    status: 'succeeded',
    attempt: 1,
    input: { step: meta, input: step.input ?? null },
    outputs: [{ port: 0, msg: step.output }],
    error: null,
    parentId: parent.id,
    seq,
    usage: step.usage ?? null,
    createdAt: step.startedAt,
    startedAt: step.startedAt,
    finishedAt: step.finishedAt ?? Date.now(),
  };
}

export function toFinishedStep(record: InvocationRecord, meta: StepMeta): FinishedStep {
  return {
    key: meta.key,
    kind: meta.kind,
    label: meta.label,
    ...(meta.partOf ? { partOf: meta.partOf } : {}),
    ...(meta.copiedFrom ? { copiedFrom: meta.copiedFrom } : {}),
    input: (record.input as { input?: unknown }).input,
    output: record.outputs?.[0]?.msg,
    ...(record.usage ? { usage: record.usage } : {}),
    startedAt: record.startedAt ?? record.createdAt,
    finishedAt: record.finishedAt ?? record.createdAt,
  };
}

export class StepStore {
  constructor(private readonly storage: SqlStorage) {}

  /** The steps of one invocation, in the order they were recorded. */
  async list(runId: string, parentId: string): Promise<Array<{ record: InvocationRecord; meta: StepMeta }>> {
    const out: Array<{ record: InvocationRecord; meta: StepMeta }> = [];
    for (const record of await this.storage.listInvocations(runId)) {
      const meta = stepMeta(record, parentId);
      if (meta) out.push({ record, meta });
    }
    return out;
  }

  async finished(runId: string, parentId: string): Promise<Map<string, FinishedStep>> {
    return new Map((await this.list(runId, parentId)).map(({ record, meta }) => [meta.key, toFinishedStep(record, meta)]));
  }

  /**
   * Insert finished rows through the storage's group-commit writer, after everything queued before them (the run's
   * acceptance above all: a crash never leaves steps of a run that was not stored), checked against the storage's
   * configured message limits: UnstorableMessageError before anything is written.
   */
  insert(records: readonly InvocationRecord[]): Promise<void> {
    try {
      return this.storage.insertFinishedInvocations(records);
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
