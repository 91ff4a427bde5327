import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeApi } from '../test/fake-api';
import { useRunsStore } from './runs';

const base = { flowId: 'f', flowVersion: 1, status: 'succeeded' as const, input: { payload: 'x', _msgid: 'old' }, error: null, parentRunId: null, createdAt: 1, startedAt: 1, finishedAt: 2 };

describe('runs store', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
  });

  it('re-runs through the runtime, which replays the original input where it entered', async () => {
    const api = fakeApi({ 'POST /runs/r/rerun': { status: 202, body: { runId: 'new', status: 'accepted' } } });
    expect(await useRunsStore().rerun('r')).toBe('new');
    expect(api.calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /runs/r/rerun']);
    expect(api.calls[0]!.body).toBeUndefined();
  });

  it.each([
    [404, 'Not Found', 'run "r" not found'],
    [409, 'Flow not deployed', 'flow "f" is not deployed: deploy it before re-running'],
    [422, 'Cannot re-run', 'node "hook" that started run r is no longer in the deployed flow'],
  ])('says why the runtime refused a re-run (%i)', async (status, title, detail) => {
    fakeApi({ 'POST /runs/r/rerun': { status, body: { title, status, detail } } });
    await expect(useRunsStore().rerun('r')).rejects.toMatchObject({ status, message: `${title}: ${detail}` });
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

  it('lists test runs or production runs apart (GET /runs?test=), live events included', async () => {
    const api = fakeApi({ 'GET /runs': { body: [{ ...base, id: 't1', triggerNodeId: null, test: true }] } });
    const runs = useRunsStore();
    runs.kindFilter = 'test';
    await runs.load('f');
    expect(api.calls[0]!.query.get('test')).toBe('true');
    runs.upsert({ id: 'prod', flowId: 'f', status: 'running', createdAt: 5 });
    runs.upsert({ id: 't2', flowId: 'f', status: 'running', createdAt: 6, test: true });
    expect(runs.byFlow.f!.map((r) => r.id)).toEqual(['t2', 't1']);
    runs.kindFilter = 'production';
    await runs.load('f');
    expect(api.calls[1]!.query.get('test')).toBe('false');
    runs.kindFilter = '';
    await runs.load('f');
    expect(api.calls[2]!.query.has('test')).toBe(false);
  });
});
