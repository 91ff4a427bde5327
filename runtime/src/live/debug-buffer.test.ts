import { describe, expect, it } from 'vitest';
import { DebugBuffer } from './debug-buffer.ts';

const event = (flowId: string, value: unknown) => ({ flowId, runId: 'r', nodeId: 'n', value, at: 1 });

describe('debug buffer', () => {
  it('numbers messages in order, keeps the newest per flow, and answers what came after a seq', () => {
    const buffer = new DebugBuffer(10, 3);
    const first = buffer.add(event('a', 1));
    for (let i = 2; i <= 5; i++) buffer.add(event('a', i));
    buffer.add(event('b', 'other flow'));
    const kept = buffer.since('a');
    expect(kept.map((m) => JSON.parse(m.value.json))).toEqual([3, 4, 5]);
    expect(buffer.since('a', kept[1]!.seq).map((m) => m.value.json)).toEqual(['5']);
    expect(kept[0]!.seq).toBeGreaterThan(first.seq);
    expect(buffer.add(event('a', 'x'.repeat(50))).value).toEqual({ json: `"${'x'.repeat(9)}`, truncated: true });
  });

  it('keeps numbering upward across a restart, so a client catching up with an old seq misses nothing', async () => {
    const before = new DebugBuffer(100);
    const old = before.add(event('a', 'before restart'));
    await new Promise((r) => setTimeout(r, 2));
    const after = new DebugBuffer(100);
    after.add(event('a', 'after restart'));
    expect(after.since('a', old.seq).map((m) => JSON.parse(m.value.json))).toEqual(['after restart']);
  });
});
