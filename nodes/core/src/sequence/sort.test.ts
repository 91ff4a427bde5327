import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import type { FlowMessage } from '@flowcrew/sdk';
import { splitNode } from '../transform/split.ts';
import { sortNode } from './sort.ts';

describe('sort node', () => {
  it('sorts an array property, as strings or numbers, either way, or by a JSONata key', async () => {
    const sort = async (props: Record<string, unknown>, payload: unknown) => (await (await createTestNode(sortNode, props)).input({ payload }))[0]?.msg.payload;
    expect(await sort({}, ['b', 'c', 'a'])).toEqual(['a', 'b', 'c']);
    expect(await sort({ order: 'descending' }, [1, 3, 2])).toEqual([3, 2, 1]);
    expect(await sort({ as_num: true }, ['10', '9', '100'])).toEqual(['9', '10', '100']);
    expect(await sort({ msgKeyType: 'jsonata', msgKey: 'age' }, [{ age: 3 }, { age: 1 }])).toEqual([{ age: 1 }, { age: 3 }]);
    expect(await (await createTestNode(sortNode, {})).input({ payload: 'not an array' })).toEqual([]);
  });

  it('holds a sequence until its last message, then sends it sorted with renumbered parts', async () => {
    const split = await createTestNode(splitNode, {});
    const parts = (await split.input({ payload: [3, 1, 2] })).map((s) => s.msg);
    const node = await createTestNode(sortNode, { targetType: 'seq', seqKeyType: 'msg', seqKey: 'payload' });
    const out: FlowMessage[] = [];
    for (const msg of [parts[2]!, parts[0]!, parts[1]!]) out.push(...(await node.input(msg)).map((s) => s.msg));
    expect(out.map((m) => [m.payload, (m.parts as { index: number }).index])).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
    ]);
    expect(await node.input({ payload: 'no parts' })).toEqual([]);
  });

  it('sorts a sequence by a JSONata key over each message', async () => {
    const node = await createTestNode(sortNode, { targetType: 'seq', seqKeyType: 'jsonata', seqKey: 'payload.n', order: 'descending' });
    const msg = (n: number, index: number): FlowMessage => ({ payload: { n }, parts: { id: 'g', index, count: 2 } });
    await node.input(msg(1, 0));
    expect((await node.input(msg(2, 1))).map((s) => (s.msg.payload as { n: number }).n)).toEqual([2, 1]);
  });
});

describe('sort node: unfinished sequences survive a restart', () => {
  it('a new instance with the same node context completes a sequence the previous one started', async () => {
    const first = await createTestNode(sortNode, { targetType: 'seq' });
    const msg = (payload: number, index: number): FlowMessage => ({ payload, parts: { id: 'g', index, count: 2 } });
    expect(await first.input(msg(2, 0))).toEqual([]);
    const second = await createTestNode(sortNode, { targetType: 'seq' });
    for (const key of first.context.node.keys()) second.context.node.set(key, first.context.node.get(key));
    expect((await second.input(msg(1, 1))).map((s) => s.msg.payload)).toEqual([1, 2]);
    expect(second.context.node.keys().filter((k) => second.context.node.get(k) !== undefined)).toEqual([]);
  });
});
