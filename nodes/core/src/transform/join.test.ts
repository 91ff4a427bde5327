import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FlowMessage } from '@flowcrew/sdk';
import { createTestNode, type TestNode } from '@flowcrew/sdk/testing';
import { joinNode, type JoinProps } from './join.ts';
import { splitNode, type SplitProps } from './split.ts';

/** Feed every message; return what the node sent, in order. */
async function feed(node: TestNode, msgs: FlowMessage[]) {
  const out: FlowMessage[] = [];
  for (const msg of msgs) out.push(...(await node.input(msg)).map((s) => s.msg));
  return out;
}

async function splitThenJoin(payload: unknown, splitProps: Partial<SplitProps> = {}, order?: number[]) {
  const splitter = await createTestNode(splitNode, splitProps);
  let parts = (await splitter.input({ payload, topic: 'whole' })).map((s) => s.msg);
  if (order) parts = order.map((i) => parts[i]!);
  const joiner = await createTestNode(joinNode, { mode: 'auto' });
  return feed(joiner, parts);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('join node: automatic mode', () => {
  it('rebuilds a split string, array, chunked array, object and buffer', async () => {
    expect(await splitThenJoin('a\nb\nc')).toEqual([{ payload: 'a\nb\nc', topic: 'whole' }]);
    expect(await splitThenJoin('a,b', { splt: ',' })).toEqual([{ payload: 'a,b', topic: 'whole' }]);
    expect((await splitThenJoin([1, 2, 3]))[0]!.payload).toEqual([1, 2, 3]);
    expect((await splitThenJoin([1, 2, 3, 4, 5], { arraySplt: 2 }))[0]!.payload).toEqual([1, 2, 3, 4, 5]);
    expect((await splitThenJoin({ a: 1, b: [2] }))[0]!.payload).toEqual({ a: 1, b: [2] });
    expect(((await splitThenJoin(Buffer.from('x\ny\nz')))[0]!.payload as Buffer).toString()).toBe('x\ny\nz');
  });

  it('puts parts arriving out of order back in place, and sends only once all have arrived', async () => {
    const joined = await splitThenJoin(['a', 'b', 'c'], {}, [2, 0, 1]);
    expect(joined).toHaveLength(1);
    expect(joined[0]!.payload).toEqual(['a', 'b', 'c']);
  });

  it('restores the enclosing sequence of a nested split', async () => {
    const joiner = await createTestNode(joinNode, { mode: 'auto' });
    const outer = { id: 'outer', index: 1, count: 2 };
    const out = await feed(joiner, [
      { payload: 'a', parts: { id: 'in', index: 0, count: 2, type: 'string', ch: '-', parts: outer } },
      { payload: 'b', parts: { id: 'in', index: 1, count: 2, type: 'string', ch: '-', parts: outer } },
    ]);
    expect(out).toEqual([{ payload: 'a-b', parts: outer }]);
  });

  it('warns about and drops messages without msg.parts', async () => {
    const joiner = await createTestNode(joinNode, { mode: 'auto' });
    expect(await joiner.input({ payload: 1 })).toEqual([]);
    expect(joiner.logs[0]!.message).toBe("Message missing msg.parts property - cannot join in 'auto' mode");
  });
});

describe('join node: custom mode', () => {
  const custom = (props: Partial<JoinProps>) => createTestNode(joinNode, { mode: 'custom', ...props });

  it('builds an array from a count of messages, merging their other properties', async () => {
    const joiner = await custom({ build: 'array', count: 3 });
    const out = await feed(joiner, [
      { payload: 1, topic: 'a', first: true },
      { payload: 2, topic: 'b' },
      { payload: 3, topic: 'c' },
      { payload: 4, topic: 'd' },
    ]);
    expect(out).toEqual([{ payload: [1, 2, 3], topic: 'c', first: true }]);
  });

  it('builds a string with a joiner, escapes understood', async () => {
    const joiner = await custom({ build: 'string', joiner: '\\n', count: 2 });
    expect(await feed(joiner, [{ payload: 'x' }, { payload: 'y' }])).toEqual([{ payload: 'x\ny' }]);
  });

  it('builds a buffer with a byte joiner', async () => {
    const joiner = await custom({ build: 'buffer', joiner: '[44]', joinerType: 'bin', count: 2 });
    const [out] = await feed(joiner, [{ payload: Buffer.from('a') }, { payload: 'b' }]);
    expect((out!.payload as Buffer).toString()).toBe('a,b');
  });

  it('builds an object keyed by msg.topic, and a merged object', async () => {
    const keyed = await custom({ build: 'object', count: 2 });
    expect(await feed(keyed, [{ topic: 'temp', payload: 20 }, { topic: 'hum', payload: 55 }])).toEqual([{ topic: 'hum', payload: { temp: 20, hum: 55 } }]);
    // As in Node-RED, a merged object's count is its number of keys.
    const merged = await custom({ build: 'merged', count: 3 });
    expect((await feed(merged, [{ payload: { a: 1, b: 1 } }, { payload: { b: 2, c: 3 } }]))[0]!.payload).toEqual({ a: 1, b: 2, c: 3 });
  });

  it('collects whole messages', async () => {
    const joiner = await custom({ build: 'array', propertyType: 'full', count: 2 });
    const [out] = await feed(joiner, [{ payload: 1, topic: 'a' }, { payload: 2, topic: 'b' }]);
    expect(out!.payload).toEqual([{ payload: 1, topic: 'a' }, { payload: 2, topic: 'b' }]);
  });

  it('sends what it has when msg.complete arrives; msg.reset discards the group', async () => {
    const joiner = await custom({ build: 'array', count: 10 });
    expect(await feed(joiner, [{ payload: 1 }, { payload: 2 }, { payload: 3, complete: true }])).toEqual([{ payload: [1, 2, 3] }]);
    expect(await feed(joiner, [{ payload: 4 }, { reset: true }, { payload: 5 }, { complete: true }])).toEqual([{ payload: [5] }]);
  });

  it('with an empty count, uses msg.parts.count', async () => {
    const joiner = await custom({ build: 'array', count: '' });
    const out = await feed(joiner, [
      { payload: 'a', parts: { id: 'p', index: 0, count: 2 } },
      { payload: 'b', parts: { id: 'p', index: 1, count: 2 } },
    ]);
    expect(out).toEqual([{ payload: ['a', 'b'] }]);
  });

  it('keeps accumulating after each send when accumulate is true', async () => {
    const joiner = await custom({ build: 'object', count: 2, accumulate: true });
    const out = await feed(joiner, [
      { topic: 'a', payload: 1 },
      { topic: 'b', payload: 2 },
      { topic: 'a', payload: 3 },
    ]);
    expect(out.map((m) => m.payload)).toEqual([{ a: 1, b: 2 }, { a: 3, b: 2 }]);
  });

  it('on timeout sends the partial group as a new run started by the node', async () => {
    vi.useFakeTimers();
    const joiner = await custom({ build: 'array', count: 5, timeout: 2 });
    await joiner.start();
    expect(await feed(joiner, [{ payload: 1 }, { payload: 2 }])).toEqual([]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(joiner.emitted.map((e) => e.msg)).toEqual([{ payload: [1, 2] }]);
    // The group is over: the next message starts a new one.
    expect(await feed(joiner, [{ payload: 3 }])).toEqual([]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(joiner.emitted.map((e) => e.msg)).toEqual([{ payload: [1, 2] }, { payload: [3] }]);
    await joiner.stop();
  });
});

describe('join node: reduce mode', () => {
  const sequence = (values: number[]) => values.map((payload, index) => ({ payload, parts: { id: 'r', index, count: values.length } }));

  it('folds a sequence with JSONata, with an initial value and a fix-up', async () => {
    const joiner = await createTestNode(joinNode, { mode: 'reduce', reduceExp: '$A + payload', reduceInit: '0', reduceInitType: 'num', reduceFixup: '$A / $N' });
    // as Node-RED 4: the last message folded, carrying the result (its other properties, e.g. a reply handle, kept)
    expect(await feed(joiner, sequence([2, 4, 9]).map((m) => ({ ...m, topic: `t${m.parts.index}` })))).toEqual([{ payload: 5, topic: 't2', parts: { id: 'r', index: 2, count: 3 } }]);
  });

  it('processes in index order, or last to first, whatever the arrival order', async () => {
    const msgs = sequence([1, 2, 3]);
    const shuffled = [msgs[2]!, msgs[0]!, msgs[1]!];
    const forward = await createTestNode(joinNode, { mode: 'reduce', reduceExp: '$append($A, payload)', reduceInit: '[]', reduceInitType: 'json' });
    expect((await feed(forward, shuffled))[0]!.payload).toEqual([1, 2, 3]);
    const backward = await createTestNode(joinNode, { mode: 'reduce', reduceExp: '$A & $string(msg.payload) & $string($I)', reduceInit: '', reduceInitType: 'str', reduceRight: true });
    expect((await feed(backward, shuffled))[0]!.payload).toBe('322110');
  });

  it('passes messages without msg.parts through, and rejects a bad expression at deploy', async () => {
    const joiner = await createTestNode(joinNode, { mode: 'reduce', reduceExp: '$A + payload', reduceInit: '0', reduceInitType: 'num' });
    expect(await feed(joiner, [{ payload: 7 }])).toEqual([{ payload: 7 }]);
    await expect(createTestNode(joinNode, { mode: 'reduce', reduceExp: '$A +', reduceInit: '0', reduceInitType: 'num' })).rejects.toThrow(/Invalid JSONata expression/);
  });
});

describe('join node: state survives a restart', () => {
  /** A new instance of the same node, whose context holds what the old one left (as after a restart). */
  async function restart(old: TestNode, props: Partial<JoinProps>) {
    const fresh = await createTestNode(joinNode, props);
    for (const key of old.context.node.keys()) fresh.context.node.set(key, JSON.parse(JSON.stringify(old.context.node.get(key))));
    return fresh;
  }

  it('finishes a split sequence begun before the restart', async () => {
    const splitter = await createTestNode(splitNode, {});
    const parts = (await splitter.input({ payload: 'a\nb\nc' })).map((s) => s.msg);
    const before = await createTestNode(joinNode, { mode: 'auto' });
    expect(await feed(before, parts.slice(0, 2))).toEqual([]);
    expect(before.context.node.keys()).toHaveLength(1);
    const after = await restart(before, { mode: 'auto' });
    expect(await feed(after, parts.slice(2))).toEqual([{ payload: 'a\nb\nc' }]);
    expect(after.context.node.keys()).toEqual([]);
  });

  it('finishes a reduce sequence and a buffer join begun before the restart', async () => {
    const props: Partial<JoinProps> = { mode: 'reduce', reduceExp: '$A + payload', reduceInit: '0', reduceInitType: 'num' };
    const before = await createTestNode(joinNode, props);
    await feed(before, [{ payload: 1, parts: { id: 'r', index: 0, count: 2 } }]);
    const after = await restart(before, props);
    expect(await feed(after, [{ payload: 2, parts: { id: 'r', index: 1, count: 2 } }])).toEqual([{ payload: 3, parts: { id: 'r', index: 1, count: 2 } }]);

    const buffers = await createTestNode(joinNode, { mode: 'custom', build: 'buffer', count: 2 });
    await feed(buffers, [{ payload: Buffer.from('ab') }]);
    const resumed = await restart(buffers, { mode: 'custom', build: 'buffer', count: 2 });
    const [out] = await feed(resumed, [{ payload: Buffer.from('cd') }]);
    expect((out!.payload as Buffer).toString()).toBe('abcd');
  });

  it('sends a timed-out group when the restarted node starts', async () => {
    vi.useFakeTimers();
    const props: Partial<JoinProps> = { mode: 'custom', build: 'array', count: 3, timeout: 5 };
    const before = await createTestNode(joinNode, props);
    await before.start();
    await feed(before, [{ payload: 'kept' }]);
    await before.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(before.emitted).toEqual([]);
    const after = await restart(before, props);
    await after.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(after.emitted.map((e) => e.msg)).toEqual([{ payload: ['kept'] }]);
    await after.stop();
  });
});

describe('join node: Node-RED 4 "use existing msg.parts" off (useparts: false)', () => {
  it('ignores the sequence a message is part of: the count alone completes a group, and no parts remain', async () => {
    const splitter = await createTestNode(splitNode, {});
    const parts = (await splitter.input({ payload: [1, 2, 3, 4] })).map((s) => s.msg);
    const joiner = await createTestNode(joinNode, { mode: 'custom', build: 'array', count: 2, useparts: false });
    const out = await feed(joiner, parts);
    expect(out.map((m) => m.payload)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(out.every((m) => !('parts' in m))).toBe(true);
    // With parts used (the default), the count comes from the sequence when empty.
    const fresh = (await splitter.input({ payload: [1, 2, 3, 4] })).map((s) => s.msg);
    const using = await createTestNode(joinNode, { mode: 'custom', build: 'array', count: '' });
    expect((await feed(using, fresh)).map((m) => m.payload)).toEqual([[1, 2, 3, 4]]);
  });
});

describe('split and join of another property than payload (Node-RED 4)', () => {
  it('splits msg.<property>, names it in msg.parts.property, and an automatic join puts the whole back there', async () => {
    const splitter = await createTestNode(splitNode, { property: 'data.items' });
    const parts = (await splitter.input({ payload: 'kept', data: { items: ['a', 'b'] } })).map((s) => s.msg);
    expect(parts.map((m) => [m.payload, (m.data as { items: unknown }).items, (m.parts as { property?: string }).property])).toEqual([
      ['kept', 'a', 'data.items'],
      ['kept', 'b', 'data.items'],
    ]);
    const joiner = await createTestNode(joinNode, { mode: 'auto' });
    const [joined] = await feed(joiner, parts);
    expect(joined).toEqual({ payload: 'kept', data: { items: ['a', 'b'] } });
    expect(await (await createTestNode(splitNode, { property: 'missing' })).input({ payload: [1] })).toEqual([]);
  });
});
