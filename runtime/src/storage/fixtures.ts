/** Record builders for storage tests and benchmarks (no test-runner import, so scripts can use them too). */
import { randomUUID } from 'node:crypto';
import type { FlowDocument } from '../flow/types.ts';
import type { InvocationRecord, RunRecord } from './types.ts';

export function flowDoc(id: string, overrides: Partial<FlowDocument> = {}): FlowDocument {
  return {
    format: 'flowcrew/flow@1',
    id,
    name: `Flow ${id}`,
    version: 0,
    nodes: [{ id: 'n1', type: 'inject', wires: [['n2']] }, { id: 'n2', type: 'debug' }],
    ...overrides,
  };
}

export function makeRun(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id: randomUUID(),
    flowId: 'f1',
    flowVersion: 1,
    status: 'running',
    triggerNodeId: 'n1',
    input: { payload: 'hello', topic: 't' },
    error: null,
    parentRunId: null,
    projectId: 'default',
    createdAt: 1_700_000_000_000,
    startedAt: 1_700_000_000_001,
    finishedAt: null,
    ...overrides,
  };
}

export function makeInvocation(runId: string, seq: number, overrides: Partial<InvocationRecord> = {}): InvocationRecord {
  return {
    id: randomUUID(),
    runId,
    nodeId: `n${seq}`,
    nodeType: 'function',
    status: 'pending',
    attempt: 0,
    input: { payload: seq },
    outputs: null,
    error: null,
    parentId: null,
    seq,
    createdAt: 1_700_000_000_000 + seq,
    startedAt: null,
    finishedAt: null,
    ...overrides,
  };
}
