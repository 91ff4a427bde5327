import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { DebugEvent, InvocationRecord, RunDetail } from '../api/types';
import { fakeApi } from '../test/fake-api';
import { useDebugStore } from './debug';
import { useLiveStore } from './live';
import { useNoticesStore } from './notices';
import { useRunsStore } from './runs';

const preview = (value: unknown) => ({ json: JSON.stringify(value), truncated: false });
const message = (seq: number, flowId = 'f'): DebugEvent => ({ seq, runId: `r${seq}`, flowId, nodeId: 'show', property: 'payload', at: seq * 1000, value: preview({ n: seq }) });

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

function invocation(overrides: Partial<InvocationRecord>): InvocationRecord {
  return { id: 'i', runId: 'r2', nodeId: 'n', nodeType: 'debug', status: 'succeeded', attempt: 1, input: {}, outputs: [], error: null, parentId: 'p', seq: 1, createdAt: 1, startedAt: 1, finishedAt: 2, ...overrides };
}

describe('live store', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
  });

  it('says so when the runtime drops a live view because access changed', () => {
    const live = useLiveStore();
    live.onSubscriptionDropped({ room: 'flow:orders', reason: 'no longer allowed: flow:read' });
    expect(useNoticesStore().notices).toEqual([
      expect.objectContaining({ kind: 'error', text: 'Live updates of flow orders stopped', detail: expect.stringContaining('no longer allowed: flow:read') }),
    ]);
  });

  it('reloads the waiting questions when the live connection first comes up (a question asked before it reached no socket)', () => {
    const live = useLiveStore();
    const before = live.waitsChanged;
    live.onConnectionState('connecting');
    expect(live.waitsChanged).toBe(before);
    live.onConnectionState('connected');
    expect(live.waitsChanged).toBe(before + 1);
    // Later connections catch up through the client's resync, not here.
    live.onConnectionState('reconnecting');
    live.onConnectionState('connected');
    expect(live.waitsChanged).toBe(before + 1);
  });

  it('shows running, then the outcome and a message count per node', () => {
    const live = useLiveStore();
    live.onNodeStarted({ runId: 'r1', flowId: 'f', nodeId: 'a', invocationId: 'i1', attempt: 1, input: preview({}) });
    expect(live.nodes.f!.a).toMatchObject({ state: 'running', count: 0 });
    live.onNodeFinished({ runId: 'r1', flowId: 'f', nodeId: 'a', invocationId: 'i1', attempt: 1, status: 'succeeded', error: null, durationMs: 3, outputs: [] });
    live.onNodeFinished({ runId: 'r2', flowId: 'f', nodeId: 'a', invocationId: 'i2', attempt: 1, status: 'failed', error: 'boom', durationMs: 3, outputs: [] });
    expect(live.nodes.f!.a).toMatchObject({ state: 'failed', count: 2, error: 'boom' });
  });

  it('leaves no node "running" once its run is cancelled, even when the node never reported its end', () => {
    const live = useLiveStore();
    live.onNodeStarted({ runId: 'r1', flowId: 'f', nodeId: 'wait', invocationId: 'i1', attempt: 1, input: preview({}) });
    live.onNodeStarted({ runId: 'r2', flowId: 'f', nodeId: 'other', invocationId: 'i2', attempt: 1, input: preview({}) });
    live.onRunFinished({ runId: 'r1', flowId: 'f', status: 'cancelled', error: 'cancelled', startedAt: 1, finishedAt: 2 });
    expect(live.nodes.f!.wait!.state).toBe('cancelled');
    // Another run's node is still running.
    expect(live.nodes.f!.other!.state).toBe('running');
  });

  it('counts a retried invocation once, and shows a scheduled retry as running', () => {
    const live = useLiveStore();
    live.onNodeFinished({ runId: 'r', flowId: 'f', nodeId: 'a', invocationId: 'i', attempt: 1, status: 'pending', error: 'timeout', durationMs: 3, outputs: [] });
    expect(live.nodes.f!.a).toMatchObject({ state: 'running', count: 0 });
    live.onNodeFinished({ runId: 'r', flowId: 'f', nodeId: 'a', invocationId: 'i', attempt: 2, status: 'succeeded', error: null, durationMs: 3, outputs: [] });
    live.onNodeFinished({ runId: 'r', flowId: 'f', nodeId: 'a', invocationId: 'i', attempt: 2, status: 'succeeded', error: null, durationMs: 3, outputs: [] });
    expect(live.nodes.f!.a).toMatchObject({ state: 'succeeded', count: 1 });
  });

  it('sends debug output and errors to the debug sidebar, a failed run once', () => {
    const live = useLiveStore();
    const debug = useDebugStore();
    live.onDebug({ seq: 1, runId: 'r', flowId: 'f', nodeId: 'd', property: 'payload', at: 5, value: preview({ ok: 1 }) });
    live.onNodeFinished({ runId: 'r', flowId: 'f', nodeId: 'x', invocationId: 'i', attempt: 1, status: 'failed', error: 'bad input', durationMs: 1, outputs: [] });
    live.onRunFinished({ runId: 'r', flowId: 'f', status: 'failed', error: 'bad input', startedAt: 1, finishedAt: 2 });
    live.onRunFinished({ runId: 'r2', flowId: 'f', status: 'failed', error: 'cancelled by timeout', startedAt: 1, finishedAt: 2 });
    expect(debug.entries.map((e) => [e.kind, e.nodeId, e.text])).toEqual([
      ['debug', 'd', '{"ok":1}'],
      ['error', 'x', 'bad input'],
      ['error', undefined, 'Run failed: cancelled by timeout'],
    ]);
  });

  it("shows a test run's live events marked, without moving the debug catch-up cursor", () => {
    const live = useLiveStore();
    const debug = useDebugStore();
    live.onDebug(message(7));
    live.onRunStarted({ runId: 't1', flowId: 'f', triggerNodeId: 'in', status: 'running', createdAt: 1, startedAt: 1, test: true });
    live.onDebug({ runId: 't1', flowId: 'f', nodeId: 'show', at: 9, value: preview({ n: 'test' }), test: true });
    live.onNodeFinished({ runId: 't1', flowId: 'f', nodeId: 'x', invocationId: 'ti', attempt: 1, status: 'failed', error: 'boom', durationMs: 1, outputs: [], test: true });
    expect(debug.entries.map((e) => [e.kind, e.text, e.test ?? false])).toEqual([
      ['debug', '{"n":7}', false],
      ['debug', '{"n":"test"}', true],
      ['error', 'boom', true],
    ]);
    expect(debug.lastSeq('f')).toBe(7);
    expect(live.nodes.f!.x).toMatchObject({ state: 'failed', count: 1 });
  });

  it('shows a trigger that fired (webhook, cron, inject timer) as succeeded, one message per firing', () => {
    const live = useLiveStore();
    const runs = useRunsStore();
    runs.byFlow.f = [];
    // What the runtime sends when a webhook is called: run:started naming the trigger, then the trigger's own step.
    live.onRunStarted({ runId: 'r1', flowId: 'f', triggerNodeId: 'hook', status: 'running', createdAt: 1, startedAt: 1 });
    live.onNodeFinished({ runId: 'r1', flowId: 'f', nodeId: 'hook', invocationId: 'r1-hook', attempt: 1, status: 'succeeded', error: null, durationMs: 0, outputs: [{ port: 0, msg: preview({ payload: 1 }) }] });
    expect(live.nodes.f!.hook).toMatchObject({ state: 'succeeded', count: 1 });
    live.onRunStarted({ runId: 'r2', flowId: 'f', triggerNodeId: 'hook', status: 'running', createdAt: 2, startedAt: 2 });
    live.onNodeFinished({ runId: 'r2', flowId: 'f', nodeId: 'hook', invocationId: 'r2-hook', attempt: 1, status: 'succeeded', error: null, durationMs: 0, outputs: [{ port: 0, msg: preview({ payload: 2 }) }] });
    expect(live.nodes.f!.hook).toMatchObject({ state: 'succeeded', count: 2 });
    expect(runs.byFlow.f!.map((r) => [r.id, r.triggerNodeId])).toEqual([['r2', 'hook'], ['r1', 'hook']]);
  });

  it('counts a manual run’s entry node once: run:started names it, its own node events count it', () => {
    const live = useLiveStore();
    live.onRunStarted({ runId: 'r', flowId: 'f', triggerNodeId: 'inj', status: 'running', createdAt: 1, startedAt: 1 });
    expect(live.nodes.f?.inj?.count ?? 0).toBe(0);
    live.onNodeStarted({ runId: 'r', flowId: 'f', nodeId: 'inj', invocationId: 'r-inj', attempt: 1, input: preview({ payload: 'x' }) });
    expect(live.nodes.f!.inj).toMatchObject({ state: 'running', count: 0 });
    live.onNodeFinished({ runId: 'r', flowId: 'f', nodeId: 'inj', invocationId: 'r-inj', attempt: 1, status: 'succeeded', error: null, durationMs: 1, outputs: [] });
    expect(live.nodes.f!.inj).toMatchObject({ state: 'succeeded', count: 1 });
  });

  it('catches up from the REST API after a reconnection, without counting twice', async () => {
    const live = useLiveStore();
    const runs = useRunsStore();
    runs.byFlow.f = [];
    fakeApi({});
    live.watchFlow('f');
    // Seen live before the connection dropped:
    live.onNodeFinished({ runId: 'r1', flowId: 'f', nodeId: 'hook', invocationId: 'r1-hook', attempt: 1, status: 'succeeded', error: null, durationMs: 0, outputs: [] });
    live.onNodeFinished({ runId: 'r1', flowId: 'f', nodeId: 'show', invocationId: 'r1-show', attempt: 1, status: 'succeeded', error: null, durationMs: 1, outputs: [] });
    const missed: RunDetail = {
      id: 'r2', flowId: 'f', flowVersion: 1, status: 'failed', triggerNodeId: 'hook', input: { payload: 1 }, error: 'boom', parentRunId: null, createdAt: 10_000, startedAt: 10_000, finishedAt: 10_001,
      invocations: [
        invocation({ id: 'r2-hook', nodeId: 'hook', nodeType: 'webhook', input: null, parentId: null, seq: 0 }),
        invocation({ id: 'r2-show', nodeId: 'show', status: 'failed', error: 'boom', parentId: 'r2-hook' }),
      ],
    };
    // Finished just before the drop, so the catch-up reads it too: its invocations were already counted live.
    const seen: RunDetail = {
      ...missed, id: 'r1', status: 'succeeded', error: null, createdAt: 9_000, startedAt: 9_000, finishedAt: 9_001,
      invocations: [
        invocation({ id: 'r1-hook', runId: 'r1', nodeId: 'hook', nodeType: 'webhook', input: null, parentId: null, seq: 0 }),
        invocation({ id: 'r1-show', runId: 'r1', nodeId: 'show', parentId: 'r1-hook' }),
      ],
    };
    fakeApi({
      'GET /runs': { body: [missed, seen, { ...seen, id: 'r0', createdAt: 10, startedAt: 10, finishedAt: 11 }] },
      'GET /runs/r2': { body: missed },
      'GET /runs/r1': { body: seen },
    });
    await live.resync(9_500, []); // no debug catch-up awaited here
    expect(live.nodes.f!.show).toMatchObject({ state: 'failed', count: 2 });
    expect(live.nodes.f!.hook).toMatchObject({ state: 'succeeded', count: 2 });
    expect(runs.byFlow.f!.map((r) => [r.id, r.status])).toEqual([['r2', 'failed'], ['r1', 'succeeded']]);
    expect(useDebugStore().entries.map((e) => e.text)).toEqual(['boom']);
    // A second catch-up over the same runs changes nothing.
    await live.resync(9_500, []); // no debug catch-up awaited here
    expect(live.nodes.f!.show!.count).toBe(2);
    expect(live.nodes.f!.hook!.count).toBe(2);
  });

  it('shows the debug messages the runtime pushes with a subscription, each once, in seq order', () => {
    const live = useLiveStore();
    const debug = useDebugStore();
    live.watchFlow('f');
    live.onDebugCatchUp({ flowId: 'f', messages: [message(1), message(2)] });
    expect(debug.entries.map((e) => e.seq)).toEqual([1, 2]);
    // What the next subscription asks for (debugAfter): after the last one seen.
    expect(debug.lastSeq('f')).toBe(2);
    // Subscribed again: a message that came live meanwhile is in the catch-up too, and shows once.
    live.onDebug(message(4));
    live.onDebugCatchUp({ flowId: 'f', messages: [message(3), message(4)] });
    expect(debug.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(debug.lastSeq('f')).toBe(4);
  });

  it('says so when the runtime could not list a flow’s debug messages', () => {
    const live = useLiveStore();
    live.onDebugCatchUp({ flowId: 'f', messages: [], error: 'Redis is not reachable' });
    expect(useNoticesStore().notices).toEqual([expect.objectContaining({ kind: 'error', text: 'Could not fetch the recent debug messages of flow "f"', detail: 'Redis is not reachable' })]);
  });

  it('after a reconnection, reports the debug messages pushed with the new subscriptions beside the runs caught up', async () => {
    fakeApi({ 'GET /runs': { body: [] } });
    const live = useLiveStore();
    const debug = useDebugStore();
    live.watchFlow('f');
    live.watchFlow('g');
    live.onConnectionState('connected');
    live.onDebugCatchUp({ flowId: 'f', messages: [message(1)] });
    live.onConnectionState('reconnecting');
    live.onConnectionState('connected');
    // The catch-ups of the new subscriptions may come before or after the resync starts: it waits for both flows'.
    live.onDebugCatchUp({ flowId: 'f', messages: [message(2), message(3)] });
    const resynced = live.resync(Date.now(), ['f', 'g']);
    await flush();
    live.onDebugCatchUp({ flowId: 'g', messages: [message(4, 'g')] });
    await resynced;
    expect(debug.entries.map((e) => [e.flowId, e.seq])).toEqual([['f', 1], ['f', 2], ['f', 3], ['g', 4]]);
    expect(useNoticesStore().notices.at(-1)).toMatchObject({ kind: 'success', text: 'Live connection restored', detail: 'Caught up on 3 debug messages from while it was down.' });
  });
});
