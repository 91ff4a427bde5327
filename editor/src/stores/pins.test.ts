import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import type { InvocationRecord } from '../api/types';
import { useNodeDataStore } from './nodeData';
import { pinFromInvocation } from './pins';

const invocation = (nodeId: string, seq: number, outputs: InvocationRecord['outputs']): InvocationRecord =>
  ({ id: `${nodeId}-${seq}`, runId: 'r', nodeId, seq, status: 'succeeded', input: { payload: 1 }, outputs, error: null, createdAt: seq, startedAt: seq, finishedAt: seq + 1 }) as unknown as InvocationRecord;

describe('pinned outputs in the editor', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('pins what a node sent in its last run, port by port', () => {
    const pin = pinFromInvocation(invocation('sw', 1, [{ port: 0, msg: { payload: 'a' } }, { port: 1, msg: { payload: 'b' } }]));
    expect(pin).toEqual({ outputs: [{ port: 0, msg: { payload: 'a' } }, { port: 1, msg: { payload: 'b' } }] });
    expect(pinFromInvocation(invocation('none', 1, null))).toEqual({ outputs: [] });
  });

  it("a pinned run's newest invocation per node becomes the node's last data, marked as not in the history", () => {
    const data = useNodeDataStore();
    data.adoptRun('f', 'sandbox-run', [invocation('a', 1, []), invocation('b', 2, [{ port: 0, msg: { payload: 'old' } }]), invocation('b', 3, [{ port: 0, msg: { payload: 'new' } }])]);
    expect(data.get('f', 'b')?.data).toMatchObject({ runId: 'sandbox-run', pinnedRun: true, invocation: { seq: 3 } });
    expect(data.get('f', 'a')?.data?.invocation.seq).toBe(1);
  });
});
