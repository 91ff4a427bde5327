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
  const previewOf = (value: unknown, max = 2048) => ({ message: new DebugBuffer(max).add(event('big', value)) });
  /** The value behind a proxy that counts the elements and properties read: the preview must read what it shows. */
  const counted = <T extends object>(value: T) => {
    const reads = { count: 0 };
    const proxy = new Proxy(value, {
      get(target, key, receiver) {
        if (typeof key === 'string' && key !== 'length' && key !== 'toJSON') reads.count++;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    return { proxy, reads };
  };

  it('keeps a preview of at most previewChars of a 200 MB message', () => {
    const { message } = previewOf({ payload: 'x'.repeat(200 * 1048576), topic: 't' });
    expect(message.value.truncated).toBe(true);
    expect(message.value.json.length).toBe(2048);
    expect(message.value.json.startsWith('{"payload":"xxx')).toBe(true);
  });

  it('reads only the part of a huge array or object that it shows (cost bounded by the preview, not the value)', () => {
    const array = counted(Array.from({ length: 2_000_000 }, (_, i) => i));
    expect(previewOf(array.proxy).message.value).toMatchObject({ truncated: true });
    expect(array.reads.count).toBeLessThan(2048);
    const wide = counted(Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`k${i}`, i])));
    expect(previewOf(wide.proxy).message.value).toMatchObject({ truncated: true });
    expect(wide.reads.count).toBeLessThan(2048);
  });

  it('bounds huge arrays, objects, buffers and deep nesting too', () => {
    const array = previewOf(Array.from({ length: 2_000_000 }, (_, i) => i));
    expect(array.message.value).toMatchObject({ truncated: true });
    const wide = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`k${i}`, i]));
    const preview = previewOf(wide).message.value;
    expect(preview.truncated).toBe(true);
    expect(preview.json.length).toBeGreaterThan(1900);
    expect(preview.json.length).toBeLessThanOrEqual(2048);
    const buffer = previewOf({ payload: Buffer.alloc(100 * 1048576, 1) });
    expect(buffer.message.value.json.startsWith('{"payload":{"type":"Buffer","data":[1,1,')).toBe(true);
    expect(buffer.message.value.json.length).toBeLessThanOrEqual(2048);
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(previewOf(deep).message.value).toMatchObject({ truncated: true });
  });

  it('shows small messages exactly as JSON does, and survives cycles', () => {
    const value = { a: [1, 'two', null, true], at: new Date(0), nested: { x: { y: 1 } } };
    expect(previewOf(value).message.value).toEqual({ json: JSON.stringify(value), truncated: false });
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(previewOf(cyclic).message.value).toEqual({ json: '{"name":"loop","self":"[Circular]"}', truncated: false });
  });

  it('cuts a long property name', () => {
    const buffer = new DebugBuffer(100);
    const message = buffer.add({ ...event('p', 1), property: 'p'.repeat(10_000) });
    expect(message.property).toHaveLength(256);
  });
});
