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

describe('debug buffer entry size', () => {
  const timed = (value: unknown, max = 2048) => {
    const buffer = new DebugBuffer(max);
    const started = performance.now();
    const message = buffer.add(event('big', value));
    return { message, ms: performance.now() - started };
  };

  it('keeps a preview of at most previewChars of a 200 MB message, without serialising all of it', () => {
    const { message, ms } = timed({ payload: 'x'.repeat(200 * 1048576), topic: 't' });
    expect(message.value.truncated).toBe(true);
    expect(message.value.json.length).toBe(2048);
    expect(message.value.json.startsWith('{"payload":"xxx')).toBe(true);
    expect(ms).toBeLessThan(500);
  });

  it('bounds huge arrays, objects, buffers and deep nesting too', () => {
    const array = timed(Array.from({ length: 2_000_000 }, (_, i) => i));
    expect(array.message.value).toMatchObject({ truncated: true });
    expect(array.ms).toBeLessThan(500);
    const wide = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`k${i}`, i]));
    const preview = timed(wide).message.value;
    expect(preview.truncated).toBe(true);
    expect(preview.json.length).toBeGreaterThan(1900);
    expect(preview.json.length).toBeLessThanOrEqual(2048);
    const buffer = timed({ payload: Buffer.alloc(100 * 1048576, 1) });
    expect(buffer.message.value.json.startsWith('{"payload":{"type":"Buffer","data":[1,1,')).toBe(true);
    expect(buffer.ms).toBeLessThan(500);
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(timed(deep).message.value).toMatchObject({ truncated: true });
  });

  it('shows small messages exactly as JSON does, and survives cycles', () => {
    const value = { a: [1, 'two', null, true], at: new Date(0), nested: { x: { y: 1 } } };
    expect(timed(value).message.value).toEqual({ json: JSON.stringify(value), truncated: false });
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(timed(cyclic).message.value).toEqual({ json: '{"name":"loop","self":"[Circular]"}', truncated: false });
  });

  it('cuts a long property name', () => {
    const buffer = new DebugBuffer(100);
    const message = buffer.add({ ...event('p', 1), property: 'p'.repeat(10_000) });
    expect(message.property).toHaveLength(256);
  });
});
