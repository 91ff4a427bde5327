import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTestNode, type TestNode } from '@flowcrew/sdk/testing';
import type { FlowMessage } from '@flowcrew/sdk';
import { batchNode, type BatchProps } from './batch.ts';

const started: TestNode[] = [];
afterEach(async () => {
  for (const node of started.splice(0)) await node.stop();
});

async function feed(props: Partial<BatchProps>, msgs: FlowMessage[]) {
  const node = await createTestNode(batchNode, props);
  const out: FlowMessage[][] = [];
  for (const msg of msgs) out.push((await node.input(msg)).map((s) => s.msg));
  return out;
}
const parts = (msgs: FlowMessage[]) => msgs.map((m) => [m.payload, (m.parts as { index: number; count: number }).index, (m.parts as { count: number }).count]);

describe('batch node', () => {
  it('groups by count, with parts for a join', async () => {
    const out = await feed({ mode: 'count', count: 2 }, [1, 2, 3, 4].map((payload) => ({ payload })));
    expect(out.map((group) => parts(group))).toEqual([[], [[1, 0, 2], [2, 1, 2]], [], [[3, 0, 2], [4, 1, 2]]]);
    expect(new Set(out[1]!.map((m) => (m.parts as { id: string }).id)).size).toBe(1);
  });

  it('overlaps groups, ends a group where a sequence ends with honourParts, and msg.reset drops what waits', async () => {
    const overlap = await feed({ mode: 'count', count: 3, overlap: 1 }, [1, 2, 3, 4, 5].map((payload) => ({ payload })));
    expect(overlap.filter((g) => g.length).map((g) => g.map((m) => m.payload))).toEqual([
      [1, 2, 3],
      [3, 4, 5],
    ]);
    const honour = await feed({ mode: 'count', count: 10, honourParts: true }, [
      { payload: 'a', parts: { id: 'x', index: 0, count: 2 } },
      { payload: 'b', parts: { id: 'x', index: 1, count: 2 } },
    ]);
    expect(honour[1]!.map((m) => m.payload)).toEqual(['a', 'b']);
    const reset = await feed({ mode: 'count', count: 2 }, [{ payload: 1 }, { reset: true }, { payload: 2 }, { payload: 3 }]);
    expect(reset[3]!.map((m) => m.payload)).toEqual([2, 3]);
  });

  it('refuses an overlap not below the count', async () => {
    expect(batchNode.validate!({ mode: 'count', count: 2, overlap: 2 })).toEqual([{ pointer: '/overlap', message: 'must be less than count' }]);
    await expect(createTestNode(batchNode, { mode: 'count', count: 2, overlap: 2 })).rejects.toThrow(/greater than the overlap/);
  });

  it('sends what arrived in each interval as new runs, and an empty message when allowed', async () => {
    const node = await createTestNode(batchNode, { mode: 'interval', interval: 0.03 });
    await node.start();
    started.push(node);
    expect(await node.input({ payload: 'a' })).toEqual([]);
    await node.input({ payload: 'b' });
    await vi.waitFor(() => expect(node.emitted).toHaveLength(2));
    expect(parts(node.emitted.map((e) => e.msg))).toEqual([
      ['a', 0, 2],
      ['b', 1, 2],
    ]);
    const empty = await createTestNode(batchNode, { mode: 'interval', interval: 0.02, allowEmptySequence: true });
    await empty.start();
    started.push(empty);
    await vi.waitFor(() => expect(empty.emitted.length).toBeGreaterThan(0));
    expect(empty.emitted[0]!.msg).toMatchObject({ payload: null, parts: { index: 0, count: 1 } });
  });

  it('concatenates complete sequences of the listed topics, in their order', async () => {
    const seq = (topic: string, id: string, values: unknown[]) => values.map((payload, index) => ({ topic, payload, parts: { id, index, count: values.length } }));
    const out = await feed({ mode: 'concat', topics: [{ topic: 'a' }, { topic: 'b' }] }, [...seq('b', 'q', [3]), ...seq('a', 'p', [1, 2]), ...seq('c', 'r', [9])]);
    expect(parts(out[2]!)).toEqual([
      [1, 0, 3],
      [2, 1, 3],
      [3, 2, 3],
    ]);
    expect(out[3]).toEqual([]);
    const node = await createTestNode(batchNode, { mode: 'concat', topics: [{ topic: 'a' }] });
    await expect(node.input({ topic: 'a', payload: 1 })).rejects.toThrow(/msg.parts/);
  });
});

describe('batch node: waiting messages survive a restart', () => {
  it('a new instance with the same node context completes the group the previous one started', async () => {
    const first = await createTestNode(batchNode, { mode: 'count', count: 2 });
    expect(await first.input({ payload: 1 })).toEqual([]);
    const second = await createTestNode(batchNode, { mode: 'count', count: 2 });
    for (const key of first.context.node.keys()) second.context.node.set(key, first.context.node.get(key));
    expect((await second.input({ payload: 2 })).map((s) => s.msg.payload)).toEqual([1, 2]);
    expect(second.context.node.get('batch:pending')).toBeUndefined();
  });

  it('an interval group kept by a previous instance leaves at the next tick', async () => {
    const first = await createTestNode(batchNode, { mode: 'interval', interval: 3600 });
    await first.input({ payload: 'kept' });
    const second = await createTestNode(batchNode, { mode: 'interval', interval: 0.02 });
    for (const key of first.context.node.keys()) second.context.node.set(key, first.context.node.get(key));
    await second.start();
    started.push(second);
    await vi.waitFor(() => expect(second.emitted.map((e) => e.msg.payload)).toEqual(['kept']));
  });

  it('keeps concat sequences too', async () => {
    const first = await createTestNode(batchNode, { mode: 'concat', topics: [{ topic: 'a' }, { topic: 'b' }] });
    await first.input({ topic: 'a', payload: 1, parts: { id: 'p', index: 0, count: 1 } });
    const second = await createTestNode(batchNode, { mode: 'concat', topics: [{ topic: 'a' }, { topic: 'b' }] });
    for (const key of first.context.node.keys()) second.context.node.set(key, first.context.node.get(key));
    expect((await second.input({ topic: 'b', payload: 2, parts: { id: 'q', index: 0, count: 1 } })).map((s) => s.msg.payload)).toEqual([1, 2]);
  });
});
