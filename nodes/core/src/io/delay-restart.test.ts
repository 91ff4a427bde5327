/**
 * A delay node restarted while messages wait: the new instance gets the old one's node context (as after a restart)
 * and the waiting invocations are replayed with their ids (as the executor's resume does).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTestNode, type Sent, type TestNode } from '@flowcrew/sdk/testing';
import { delayNode, type DelayProps } from './delay.ts';

function track(pending: Promise<Sent[]>) {
  const state: { sent?: Sent[]; error?: Error } = {};
  pending.then(
    (sent) => (state.sent = sent),
    (error: Error) => (state.error = error),
  );
  return state;
}
const payloads = (sent: Sent[] | undefined) => sent?.map((s) => [s.port, s.msg.payload]);

async function restart(old: TestNode, props: Partial<DelayProps>): Promise<TestNode> {
  await old.stop();
  return createTestNode(delayNode, props, { context: { node: old.context.node } });
}

describe('delay node across a restart', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('waits only for the time a delayed message had left', async () => {
    const props: Partial<DelayProps> = { pauseType: 'delay', timeout: 10, timeoutUnits: 'seconds' };
    const before = await createTestNode(delayNode, props);
    const stopped = track(before.input({ payload: 'x' }, { invocationId: 'a' }));
    await vi.advanceTimersByTimeAsync(4000);
    const after = await restart(before, props);
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped.error?.message).toMatch(/delay node stopped/);
    const replayed = track(after.input({ payload: 'x' }, { invocationId: 'a' }));
    await vi.advanceTimersByTimeAsync(5999);
    expect(replayed.sent).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(payloads(replayed.sent)).toEqual([[0, 'x']]);
    // Sent: its deadline is gone from context.
    expect(after.context.node.keys()).toEqual([]);
  });

  it('drops the deadline of a message that does not come back (its run failed on a redeploy)', async () => {
    const props: Partial<DelayProps> = { pauseType: 'delay', timeout: 1, timeoutUnits: 'minutes' };
    const before = await createTestNode(delayNode, props);
    track(before.input({ payload: 'gone' }, { invocationId: 'gone' }));
    const after = await restart(before, props);
    expect(after.context.node.keys()).toEqual(['delay:due:run-1:n1:gone']);
    await vi.advanceTimersByTimeAsync(3000);
    expect(after.context.node.keys()).toEqual([]);
  });

  it('keeps the rate queue in its order and the spacing from the last message sent before the restart', async () => {
    const props: Partial<DelayProps> = { pauseType: 'rate', rate: 1, nbRateUnits: 10, rateUnits: 'second' };
    const before = await createTestNode(delayNode, props);
    const first = track(before.input({ payload: 1 }, { invocationId: 'one' }));
    track(before.input({ payload: 2 }, { invocationId: 'two' }));
    track(before.input({ payload: 3 }, { invocationId: 'three' }));
    await vi.advanceTimersByTimeAsync(2000);
    expect(payloads(first.sent)).toEqual([[0, 1]]);
    const after = await restart(before, props);
    // The resume replays them in another order; the queue still sends 2 before 3, 10 s after 1 left.
    const third = track(after.input({ payload: 3 }, { invocationId: 'three' }));
    await vi.advanceTimersByTimeAsync(100);
    const second = track(after.input({ payload: 2 }, { invocationId: 'two' }));
    await vi.advanceTimersByTimeAsync(7800);
    expect([second.sent, third.sent]).toEqual([undefined, undefined]);
    await vi.advanceTimersByTimeAsync(100);
    expect([payloads(second.sent), third.sent]).toEqual([[[0, 2]], undefined]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(payloads(third.sent)).toEqual([[0, 3]]);
  });

  it('does not wait for a queued message that does not come back for longer than the grace time', async () => {
    const props: Partial<DelayProps> = { pauseType: 'rate', rate: 1, rateUnits: 'second' };
    const before = await createTestNode(delayNode, props);
    track(before.input({ payload: 1 }, { invocationId: 'one' }));
    track(before.input({ payload: 2 }, { invocationId: 'lost' }));
    track(before.input({ payload: 3 }, { invocationId: 'three' }));
    await vi.advanceTimersByTimeAsync(10);
    const after = await restart(before, props);
    const third = track(after.input({ payload: 3 }, { invocationId: 'three' }));
    await vi.advanceTimersByTimeAsync(2900);
    expect(third.sent).toBeUndefined();
    await vi.advanceTimersByTimeAsync(200);
    expect(payloads(third.sent)).toEqual([[0, 3]]);
  });

  it('keeps a rate set by msg.rate, and a burst already passed in its period', async () => {
    const rate: Partial<DelayProps> = { pauseType: 'rate', rate: 1, rateUnits: 'second', drop: true, allowrate: true };
    const before = await createTestNode(delayNode, rate);
    expect(payloads(await before.input({ payload: 1, rate: 60_000 }))).toEqual([[0, 1]]);
    const after = await restart(before, rate);
    await vi.advanceTimersByTimeAsync(5000);
    expect(await after.input({ payload: 2 })).toEqual([]);

    const burst: Partial<DelayProps> = { pauseType: 'burst', rate: 2, rateUnits: 'minute' };
    const burstBefore = await createTestNode(delayNode, burst);
    await burstBefore.input({ payload: 'a' });
    await burstBefore.input({ payload: 'b' });
    const burstAfter = await restart(burstBefore, burst);
    expect(await burstAfter.input({ payload: 'c' })).toEqual([]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(payloads(await burstAfter.input({ payload: 'd' }))).toEqual([[0, 'd']]);
  });
});

describe('delay per-topic queue across a restart', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('gives the replayed topics their old places, waiting for one still on its way back', async () => {
    const props: Partial<DelayProps> = { pauseType: 'queue', rate: 1, nbRateUnits: 1, rateUnits: 'second' };
    const before = await createTestNode(delayNode, props);
    const stopped = [track(before.input({ topic: 'a', payload: 1 }, { invocationId: 'a' })), track(before.input({ topic: 'b', payload: 2 }, { invocationId: 'b' }))];
    await vi.advanceTimersByTimeAsync(10);
    const after = await restart(before, props);
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped.map((s) => s.error?.message)).toEqual([expect.stringMatching(/delay node stopped/), expect.stringMatching(/delay node stopped/)]);
    // "b" comes back first; the tick does not release it while "a", ahead of it, is on its way.
    const b = track(after.input({ topic: 'b', payload: 2 }, { invocationId: 'b' }));
    await vi.advanceTimersByTimeAsync(1000);
    expect(b.sent).toBeUndefined();
    const a = track(after.input({ topic: 'a', payload: 1 }, { invocationId: 'a' }));
    await vi.advanceTimersByTimeAsync(1000);
    expect([payloads(a.sent), b.sent]).toEqual([[[0, 1]], undefined]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(payloads(b.sent)).toEqual([[0, 2]]);
  });
});
