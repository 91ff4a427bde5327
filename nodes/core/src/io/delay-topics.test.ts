import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import type { FlowMessage } from '@flowcrew/sdk';
import { delayNode } from './delay.ts';

/** Feed messages without waiting for each; collect what each invocation sent, with its port, in the order they settle. */
function feedAll(node: Awaited<ReturnType<typeof createTestNode>>, msgs: FlowMessage[]) {
  const out: Array<[number, unknown, unknown]> = [];
  return Promise.all(msgs.map((msg) => node.input(msg).then((sent) => sent.forEach((s) => out.push([s.port, s.msg.topic, s.msg.payload]))))).then(() => out);
}

describe('delay node: per-topic queue and timed modes (Node-RED pauseType queue / timed)', () => {
  it('queue: one message per topic waits, the newest replacing the older; one topic released per period', async () => {
    const node = await createTestNode(delayNode, { pauseType: 'queue', rate: 20, rateUnits: 'second', outputs: 2 });
    const out = await feedAll(node, [
      { topic: 'a', payload: 1 },
      { topic: 'b', payload: 2 },
      { topic: 'a', payload: 3 },
    ]);
    // The replaced message leaves on output 2 first; then a (3), then b, one per 50 ms period.
    expect(out).toEqual([
      [1, 'a', 1],
      [0, 'a', 3],
      [0, 'b', 2],
    ]);
    await node.stop();
  });

  it('timed: every period releases all waiting topics; a missing topic becomes "_none_"', async () => {
    const node = await createTestNode(delayNode, { pauseType: 'timed', rate: 20, rateUnits: 'second' });
    const out = await feedAll(node, [{ payload: 1 }, { topic: 'x', payload: 2 }, { payload: 3 }]);
    // Both waiting topics leave on the same tick (the first message of the default topic was replaced and dropped).
    expect(out).toEqual(expect.arrayContaining([
      [0, 'x', 2],
      [0, '_none_', 3],
    ]));
    expect(out).toHaveLength(2);
  });

  it('flush sends what waits now; reset drops it', async () => {
    const node = await createTestNode(delayNode, { pauseType: 'queue', rate: 1, rateUnits: 'hour' });
    const waiting = feedAll(node, [{ topic: 'a', payload: 1 }, { topic: 'b', payload: 2 }]);
    await new Promise((r) => setTimeout(r, 10));
    // The flush message waits too, so it leaves with the others.
    expect((await node.input({ topic: 'c', flush: true, payload: 3 })).map((s) => s.msg.payload)).toEqual([3]);
    expect(await waiting).toEqual([
      [0, 'a', 1],
      [0, 'b', 2],
    ]);
    const dropped = feedAll(node, [{ topic: 'a', payload: 4 }]);
    await new Promise((r) => setTimeout(r, 10));
    expect(await node.input({ topic: 'z', reset: true })).toEqual([]);
    expect(await dropped).toEqual([]);
    await node.stop();
  });

  it('accepts the new modes in its schema', () => {
    expect((delayNode.props as { properties: { pauseType: { enum: string[] } } }).properties.pauseType.enum).toEqual(expect.arrayContaining(['queue', 'timed']));
  });
});
