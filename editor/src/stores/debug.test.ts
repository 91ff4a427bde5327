import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import type { DebugEvent } from '../api/types';
import { useDebugStore } from './debug';

const message = (seq: number, flowId = 'f'): DebugEvent => ({ seq, runId: `r${seq}`, flowId, nodeId: 'show', at: seq, value: { json: String(seq), truncated: false } });

describe('debug store', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
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

  it('keeps its cursor when cleared, so cleared messages are not asked for again', () => {
    const debug = useDebugStore();
    debug.addMessages([message(1), message(2)]);
    debug.clear();
    // lastSeq is what the next subscription sends as debugAfter (stores/live.ts).
    expect(debug.lastSeq('f')).toBe(2);
    expect(debug.addMessages([message(1), message(2)])).toBe(0);
    expect(debug.entries).toEqual([]);
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
