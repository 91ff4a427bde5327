import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunDetail } from '../api/types';
import { fakeApi } from '../test/fake-api';
import { useRunsStore } from './runs';

const base = { flowId: 'f', flowVersion: 1, status: 'succeeded' as const, input: { payload: 'x', _msgid: 'old' }, error: null, parentRunId: null, createdAt: 1, startedAt: 1, finishedAt: 2 };
const inv = { runId: 'r', nodeType: 't', status: 'succeeded' as const, attempt: 1, outputs: [], error: null, seq: 0, createdAt: 1, startedAt: 1, finishedAt: 2 };

describe('runs store: re-run with the original input', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
  });

  it('delivers it again to a trigger that received it (inject, manual runs), without the old message id', async () => {
    const run: RunDetail = { ...base, id: 'r', triggerNodeId: 'inj', invocations: [{ ...inv, id: 'a', nodeId: 'inj', input: { payload: 'x' }, parentId: null }] };
    const api = fakeApi({ 'GET /runs/r': { body: run }, 'POST /flows/f/runs': { status: 202, body: { runId: 'new', status: 'accepted' } } });
    expect(await useRunsStore().rerun('r')).toBe('new');
    expect(api.called('POST /flows/f/runs')[0]!.body).toEqual({ input: { payload: 'x' }, nodeId: 'inj' });
  });

  it('replays what a webhook emitted at the node it sent it to', async () => {
    const run: RunDetail = {
      ...base,
      id: 'r',
      triggerNodeId: 'hook',
      invocations: [
        { ...inv, id: 'a', nodeId: 'hook', input: null, parentId: null },
        { ...inv, id: 'b', nodeId: 'show', input: { payload: 'x' }, parentId: 'a' },
      ],
    };
    const api = fakeApi({ 'GET /runs/r': { body: run }, 'POST /flows/f/runs': { status: 202, body: { runId: 'new', status: 'accepted' } } });
    await useRunsStore().rerun('r');
    expect(api.called('POST /flows/f/runs')[0]!.body).toEqual({ input: { payload: 'x' }, nodeId: 'show' });
  });

  it('explains why a fanned-out trigger cannot be replayed as one run', async () => {
    const run: RunDetail = {
      ...base,
      id: 'r',
      triggerNodeId: 'hook',
      invocations: [
        { ...inv, id: 'a', nodeId: 'hook', input: null, parentId: null },
        { ...inv, id: 'b', nodeId: 'one', input: {}, parentId: 'a' },
        { ...inv, id: 'c', nodeId: 'two', input: {}, parentId: 'a' },
      ],
    };
    fakeApi({ 'GET /runs/r': { body: run } });
    await expect(useRunsStore().rerun('r')).rejects.toThrow(/sent the message to 2 nodes/);
  });

  it('keeps a loaded list current from live events, honouring the status filter', async () => {
    fakeApi({ 'GET /runs': { body: [{ ...base, id: 'old', triggerNodeId: null }] } });
    const runs = useRunsStore();
    runs.statusFilter = 'failed';
    await runs.load('f');
    runs.upsert({ id: 'new', flowId: 'f', status: 'running', createdAt: 5 });
    expect(runs.byFlow.f!.map((r) => r.id)).toEqual(['old']);
    runs.statusFilter = '';
    runs.upsert({ id: 'new', flowId: 'f', status: 'running', createdAt: 5 });
    runs.upsert({ id: 'new', flowId: 'f', status: 'failed', finishedAt: 9 });
    expect(runs.byFlow.f!.map((r) => [r.id, r.status])).toEqual([['new', 'failed'], ['old', 'succeeded']]);
  });
});
