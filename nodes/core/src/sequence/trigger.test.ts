import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTestNode, type TestNode } from '@flowcrew/sdk/testing';
import { triggerNode, type TriggerProps } from './trigger.ts';

const nodes: TestNode[] = [];
async function trigger(props: Partial<TriggerProps>) {
  const node = await createTestNode(triggerNode, props);
  await node.start();
  nodes.push(node);
  return node;
}
const payloads = async (node: TestNode, msg: Record<string, unknown>) => (await node.input(msg)).map((s) => [s.port, s.msg.payload]);

afterEach(async () => {
  for (const node of nodes.splice(0)) await node.stop();
});

describe('trigger node', () => {
  it('sends "1" at once, then "0" after the delay as a new run, and blocks in between (Node-RED defaults)', async () => {
    const node = await trigger({ duration: 30 });
    expect(await payloads(node, { payload: 'x', topic: 't' })).toEqual([[0, '1']]);
    expect(await payloads(node, { payload: 'y' })).toEqual([]);
    await vi.waitFor(() => expect(node.emitted).toHaveLength(1));
    expect(node.emitted[0]).toMatchObject({ msg: { payload: '0', topic: 't' } });
    expect(node.emitted[0]!.options).toBeUndefined();
    // Unblocked again.
    expect(await payloads(node, { payload: 'z' })).toEqual([[0, '1']]);
  });

  it('evaluates typed values, templates and the original payload; the second message on output 2', async () => {
    const node = await trigger({ op1: '{"a":1}', op1type: 'json', op2: 'was {{payload}}', op2type: 'str', duration: 10, outputs: 2 });
    expect(await payloads(node, { payload: 'in' })).toEqual([[0, { a: 1 }]]);
    await vi.waitFor(() => expect(node.emitted).toHaveLength(1));
    expect(node.emitted[0]).toEqual({ msg: { payload: 'was in' }, options: { port: 1 } });
    const pay = await trigger({ op1type: 'pay', op2type: 'payl', duration: 30 });
    expect(await payloads(pay, { payload: 'first' })).toEqual([[0, 'first']]);
    await pay.input({ payload: 'latest' });
    await vi.waitFor(() => expect(pay.emitted).toHaveLength(1));
    expect(pay.emitted[0]!.msg.payload).toBe('latest');
  });

  it('nul sends nothing; msg.reset and a reset payload stop the wait', async () => {
    const node = await trigger({ op1type: 'nul', op2: 'late', duration: 30, reset: 'stop' });
    expect(await payloads(node, { payload: 1 })).toEqual([]);
    expect(await payloads(node, { payload: 'stop' })).toEqual([]);
    await new Promise((r) => setTimeout(r, 60));
    expect(node.emitted).toHaveLength(0);
    await node.input({ payload: 2 });
    await node.input({ reset: true });
    await new Promise((r) => setTimeout(r, 60));
    expect(node.emitted).toHaveLength(0);
  });

  it('keeps one trigger per topic with bytopic "topic"', async () => {
    const node = await trigger({ bytopic: 'topic', duration: 20 });
    expect(await payloads(node, { topic: 'a' })).toEqual([[0, '1']]);
    expect(await payloads(node, { topic: 'b' })).toEqual([[0, '1']]);
    expect(await payloads(node, { topic: 'a' })).toEqual([]);
    await vi.waitFor(() => expect(node.emitted.map((e) => e.msg.topic).sort()).toEqual(['a', 'b']));
  });

  it('extends the delay with each message and sends the second value with the last message', async () => {
    // Fake clock: with real sleeps a loaded machine let the first 40 ms delay pass before the second message came.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const node = await trigger({ extend: true, duration: 40, op2: 'done' });
      await node.input({ payload: 1, n: 1 });
      await vi.advanceTimersByTimeAsync(25);
      await node.input({ payload: 2, n: 2 });
      await vi.advanceTimersByTimeAsync(25);
      expect(node.emitted).toHaveLength(0); // 50 ms after the first message: extended by the second
      await vi.advanceTimersByTimeAsync(20);
      expect(node.emitted).toHaveLength(1);
      expect(node.emitted[0]!.msg).toMatchObject({ payload: 'done', n: 2 });
    } finally {
      vi.useRealTimers();
    }
  });

  it('resends the first message at a negative delay until reset; 0 blocks until reset', async () => {
    const node = await trigger({ duration: -10 });
    await node.input({ payload: 'x' });
    await vi.waitFor(() => expect(node.emitted.length).toBeGreaterThanOrEqual(2));
    await node.input({ reset: true });
    const count = node.emitted.length;
    await new Promise((r) => setTimeout(r, 40));
    expect(node.emitted.length).toBe(count);
    const forever = await trigger({ duration: 0 });
    expect(await payloads(forever, {})).toEqual([[0, '1']]);
    expect(await payloads(forever, {})).toEqual([]);
    await forever.input({ reset: true });
    expect(await payloads(forever, {})).toEqual([[0, '1']]);
  });

  it('waits a delay longer than a timer can hold (25 days) instead of firing at once', async () => {
    const node = await trigger({ duration: 25, units: 'hr', op2: 'late' });
    await node.input({ payload: 1 });
    await new Promise((r) => setTimeout(r, 30));
    expect(node.emitted).toHaveLength(0);
    const days = await trigger({ duration: 30 * 24, units: 'hr', op2: 'late' });
    await days.input({ payload: 1 });
    await new Promise((r) => setTimeout(r, 30));
    expect(days.emitted).toHaveLength(0);
  });

  it('msg.delay overrides the delay with overrideDelay', async () => {
    const node = await trigger({ duration: 10, units: 'hr', overrideDelay: true });
    await node.input({ delay: 5 });
    await vi.waitFor(() => expect(node.emitted).toHaveLength(1));
  });
});

describe('trigger node: waiting topics survive a restart', () => {
  async function restarted(first: TestNode, props: Partial<TriggerProps>) {
    const second = await createTestNode(triggerNode, props);
    for (const key of first.context.node.keys()) second.context.node.set(key, first.context.node.get(key));
    await first.stop();
    await second.start();
    nodes.push(second);
    return second;
  }

  it('a new instance sends the second message when the delay left runs out, and blocks meanwhile', async () => {
    const props = { duration: 60, op2: 'second' };
    const first = await trigger(props);
    await first.input({ payload: 'x', topic: 't' });
    const second = await restarted(first, props);
    expect(await second.input({ payload: 'y' })).toEqual([]);
    await vi.waitFor(() => expect(second.emitted).toHaveLength(1));
    expect(second.emitted[0]!.msg).toMatchObject({ payload: 'second', topic: 't' });
    expect(first.emitted).toHaveLength(0);
  });

  it('keeps a block until reset, and the latest message for payl', async () => {
    const blocked = await trigger({ duration: 0 });
    await blocked.input({ payload: 1 });
    const afterBlock = await restarted(blocked, { duration: 0 });
    expect(await afterBlock.input({ payload: 2 })).toEqual([]);
    await afterBlock.input({ reset: true });
    expect((await afterBlock.input({ payload: 3 })).length).toBe(1);

    const payl = await trigger({ duration: 60, op2type: 'payl' });
    await payl.input({ payload: 'first' });
    await payl.input({ payload: 'latest' });
    const afterPayl = await restarted(payl, { duration: 60, op2type: 'payl' });
    await vi.waitFor(() => expect(afterPayl.emitted).toHaveLength(1));
    expect(afterPayl.emitted[0]!.msg.payload).toBe('latest');
  });
});
