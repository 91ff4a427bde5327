import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { DebugEvent } from '../api/types';
import { fakeApi } from '../test/fake-api';
import { useDebugStore } from './debug';

const message = (seq: number, flowId = 'f'): DebugEvent => ({ seq, runId: `r${seq}`, flowId, nodeId: 'show', at: seq, value: { json: String(seq), truncated: false } });

describe('debug store', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
  });

  it('keeps debug messages in seq order, errors where they arrived, each message once', () => {
    const debug = useDebugStore();
    debug.addMessages([message(1)], { live: true });
    debug.add({ kind: 'error', at: 2, flowId: 'f', runId: 'r1', nodeId: 'x', text: 'boom' });
    debug.addMessages([message(4)], { live: true });
    expect(debug.addMessages([message(2), message(3), message(4)])).toBe(2);
    expect(debug.entries.map((e) => e.seq ?? e.text)).toEqual([1, 'boom', 2, 3, 4]);
    expect(debug.lastSeq('f')).toBe(4);
    expect(debug.lastSeq('other')).toBeUndefined();
  });

  it('does not fetch cleared messages again', async () => {
    const server = fakeApi({ 'GET /flows/f/debug': (request) => ({ body: [message(1), message(2)].filter((m) => m.seq > Number(request.query.get('after') ?? 0)) }) });
    const debug = useDebugStore();
    expect(await debug.catchUp('f')).toBe(2);
    debug.clear();
    expect(await debug.catchUp('f')).toBe(0);
    expect(server.called('GET /flows/f/debug')[1]!.query.get('after')).toBe('2');
    expect(debug.entries).toEqual([]);
  });

  it('treats a flow the runtime does not know as having no messages', async () => {
    fakeApi({});
    expect(await useDebugStore().catchUp('unsaved')).toBe(0);
  });

  it('starts numbering again when the runtime restarted', () => {
    const debug = useDebugStore();
    debug.addMessages([message(1), message(2)], { live: true });
    // A restarted runtime numbers from 1: not duplicates, and newer than what is shown.
    debug.addMessages([message(1)], { live: true });
    debug.addMessages([message(2)], { live: true });
    expect(debug.entries.map((e) => [e.text, e.seq])).toEqual([['1', undefined], ['2', undefined], ['1', 1], ['2', 2]]);
    expect(debug.lastSeq('f')).toBe(2);
  });
});
