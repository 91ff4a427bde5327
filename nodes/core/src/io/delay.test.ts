import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTestNode, type Sent } from '@flowcrew/sdk/testing';
import { delayNode } from './delay.ts';

/** Follow a pending input: what it sent once it settles. */
function track(pending: Promise<Sent[]>) {
  const state: { sent?: Sent[]; error?: Error } = {};
  pending.then(
    (sent) => (state.sent = sent),
    (error: Error) => (state.error = error),
  );
  return state;
}
const payloads = (sent: Sent[] | undefined) => sent?.map((s) => [s.port, s.msg.payload]);

describe('delay node', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds a message for the configured time, in the configured units', async () => {
    const node = await createTestNode(delayNode, { pauseType: 'delay', timeout: 2, timeoutUnits: 'minutes' });
    const held = track(node.input({ payload: 'later' }));
    await vi.advanceTimersByTimeAsync(119_999);
    expect(held.sent).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(payloads(held.sent)).toEqual([[0, 'later']]);
  });

  it('uses msg.delay (ms) with delayv, and the fixed delay without it', async () => {
    const node = await createTestNode(delayNode, { pauseType: 'delayv', timeout: 1, timeoutUnits: 'hours' });
    const quick = track(node.input({ payload: 'quick', delay: 50 }));
    const slow = track(node.input({ payload: 'slow' }));
    await vi.advanceTimersByTimeAsync(50);
    expect(payloads(quick.sent)).toEqual([[0, 'quick']]);
    expect(slow.sent).toBeUndefined();
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(payloads(slow.sent)).toEqual([[0, 'slow']]);
  });

  it('waits a random time between the bounds', async () => {
    const node = await createTestNode(delayNode, { pauseType: 'random', randomFirst: 1, randomLast: 2, randomUnits: 'seconds' });
    const held = track(node.input({ payload: 'r' }));
    await vi.advanceTimersByTimeAsync(999);
    expect(held.sent).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1001);
    expect(payloads(held.sent)).toEqual([[0, 'r']]);
  });

  it('drops held messages on msg.reset, and sends them at once on msg.flush', async () => {
    const node = await createTestNode(delayNode, { pauseType: 'delay', timeout: 1, timeoutUnits: 'hours' });
    const a = track(node.input({ payload: 'a' }));
    const reset = track(node.input({ reset: true }));
    await vi.advanceTimersByTimeAsync(0);
    expect([a.sent, reset.sent]).toEqual([[], []]);

    const b = track(node.input({ payload: 'b' }));
    const c = track(node.input({ payload: 'c' }));
    const flushOne = track(node.input({ flush: 1 }));
    await vi.advanceTimersByTimeAsync(0);
    expect([payloads(b.sent), c.sent, flushOne.sent]).toEqual([[[0, 'b']], undefined, []]);
    const d = track(node.input({ payload: 'd', flush: true }));
    await vi.advanceTimersByTimeAsync(0);
    expect([payloads(c.sent), payloads(d.sent)]).toEqual([[[0, 'c']], [[0, 'd']]]);
  });

  it('fails a held message when its run is cancelled, or when the node stops', async () => {
    const node = await createTestNode(delayNode, { pauseType: 'delay', timeout: 10 });
    const controller = new AbortController();
    const cancelled = track(node.input({ payload: 'x' }, { signal: controller.signal }));
    const stopped = track(node.input({ payload: 'y' }));
    controller.abort(new Error('run cancelled'));
    await vi.advanceTimersByTimeAsync(0);
    expect(cancelled.error?.message).toBe('run cancelled');
    await node.stop();
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped.error?.message).toMatch(/delay node stopped/);
  });

  it('rate limits to evenly spaced messages, queueing in order across runs', async () => {
    const node = await createTestNode(delayNode, { pauseType: 'rate', rate: 2, nbRateUnits: 1, rateUnits: 'second' });
    const first = track(node.input({ payload: 1 }));
    const second = track(node.input({ payload: 2 }));
    const third = track(node.input({ payload: 3 }));
    await vi.advanceTimersByTimeAsync(0);
    expect([payloads(first.sent), second.sent, third.sent]).toEqual([[[0, 1]], undefined, undefined]);
    await vi.advanceTimersByTimeAsync(500);
    expect([payloads(second.sent), third.sent]).toEqual([[[0, 2]], undefined]);
    await vi.advanceTimersByTimeAsync(500);
    expect(payloads(third.sent)).toEqual([[0, 3]]);
    // After a quiet spell the next message goes straight through.
    await vi.advanceTimersByTimeAsync(5000);
    const fourth = track(node.input({ payload: 4 }));
    await vi.advanceTimersByTimeAsync(0);
    expect(payloads(fourth.sent)).toEqual([[0, 4]]);
  });

  it('lets msg.toFront jump the queue, and msg.reset empty it', async () => {
    const node = await createTestNode(delayNode, { pauseType: 'rate', rate: 1, rateUnits: 'minute' });
    const first = track(node.input({ payload: 1 }));
    const queued = track(node.input({ payload: 2 }));
    const urgent = track(node.input({ payload: 3, toFront: true }));
    await vi.advanceTimersByTimeAsync(60_000);
    expect([payloads(first.sent), queued.sent, payloads(urgent.sent)]).toEqual([[[0, 1]], undefined, [[0, 3]]]);
    const reset = track(node.input({ reset: true }));
    await vi.advanceTimersByTimeAsync(0);
    expect([queued.sent, reset.sent]).toEqual([[], []]);
  });

  it('drops messages over the rate with `drop`, or sends them to output 2', async () => {
    const node = await createTestNode(delayNode, { pauseType: 'rate', rate: 1, rateUnits: 'second', drop: true });
    expect(payloads(await node.input({ payload: 1 }))).toEqual([[0, 1]]);
    expect(await node.input({ payload: 2 })).toEqual([]);
    await vi.advanceTimersByTimeAsync(1001);
    expect(payloads(await node.input({ payload: 3 }))).toEqual([[0, 3]]);

    const twoOutputs = await createTestNode(delayNode, { pauseType: 'rate', rate: 1, rateUnits: 'second', drop: true, outputs: 2 });
    await twoOutputs.input({ payload: 1 });
    expect(payloads(await twoOutputs.input({ payload: 2 }))).toEqual([[1, 2]]);
  });

  it('changes the spacing with msg.rate when allowrate is set', async () => {
    const node = await createTestNode(delayNode, { pauseType: 'rate', rate: 1, rateUnits: 'second', drop: true, allowrate: true });
    await node.input({ payload: 1 });
    await vi.advanceTimersByTimeAsync(101);
    expect(payloads(await node.input({ payload: 2, rate: 100 }))).toEqual([[0, 2]]);
  });

  it('lets a burst of `rate` messages through per period, dropping the rest', async () => {
    const node = await createTestNode(delayNode, { pauseType: 'burst', rate: 2, nbRateUnits: 1, rateUnits: 'second' });
    const sent = [];
    for (let i = 1; i <= 3; i++) sent.push(payloads(await node.input({ payload: i })));
    expect(sent).toEqual([[[0, 1]], [[0, 2]], []]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(payloads(await node.input({ payload: 4 }))).toEqual([[0, 4]]);
  });

  it('reports how many messages it holds', async () => {
    const node = await createTestNode(delayNode, { pauseType: 'delay', timeout: 5 });
    void node.input({ payload: 1 });
    void node.input({ payload: 2 });
    await vi.advanceTimersByTimeAsync(600);
    expect(node.statuses.at(-1)).toEqual({ fill: 'blue', shape: 'dot', text: '2' });
  });

  it('rejects an unusable rate at deploy', async () => {
    await expect(createTestNode(delayNode, { pauseType: 'rate', rate: 0 })).rejects.toThrow(/invalid rate/);
  });
});
