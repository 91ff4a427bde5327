import { describe, expect, it } from 'vitest';
import { deliver, DeliveryCounter, type Delivery } from './delivery.ts';
import type { EmitResult, FlowMessage } from './index.ts';

function delivery(msg: FlowMessage, deliveries: number, withDeadLetter = true) {
  const log: string[] = [];
  const d: Delivery = {
    msg,
    deliveries,
    ack: () => void log.push('ack'),
    nack: (error) => void log.push(`nack: ${error.message}`),
    ...(withDeadLetter ? { deadLetter: (reason: string, n: number) => void log.push(`dead-letter after ${n}: ${reason}`) } : {}),
  };
  return { d, log };
}

/** The part of a TriggerContext deliver() uses; `emit` stands for the runtime's (resolves once committed). */
async function triggerWith(onEmit: (msg: FlowMessage) => Promise<EmitResult>) {
  const order: string[] = [];
  const emitFirst = async (msg: FlowMessage) => {
    const result = await onEmit(msg);
    order.push('committed');
    return result;
  };
  return { order, trigger: { emit: emitFirst, log: { debug() {}, info() {}, warn() {}, error: (m: string) => void order.push(`log: ${m}`) } } };
}

describe('deliver: acknowledge after durability', () => {
  it('acks only after emit resolved (the run is committed)', async () => {
    const { trigger, order } = await triggerWith(async () => ({ runId: 'r1' }));
    const { d, log } = delivery({ payload: 1 }, 1);
    const ack = d.ack;
    d.ack = () => {
      order.push('ack');
      return ack();
    };
    expect(await deliver(trigger, d)).toEqual({ outcome: 'accepted', runId: 'r1' });
    expect(order).toEqual(['committed', 'ack']);
    expect(log).toEqual(['ack']);
  });

  it('nacks (redelivery) when the run could not be stored, and never acks', async () => {
    const { trigger } = await triggerWith(async () => {
      throw new Error('database is locked');
    });
    const { d, log } = delivery({ payload: 1 }, 1);
    const outcome = await deliver(trigger, d);
    expect(outcome.outcome).toBe('redeliver');
    expect(log).toEqual(['nack: database is locked']);
  });

  it('dead-letters after the last allowed delivery fails, then acks', async () => {
    const { trigger } = await triggerWith(async () => {
      throw new Error('database is locked');
    });
    const { d, log } = delivery({ payload: 1 }, 3);
    expect(await deliver(trigger, d, { maxDeliveries: 3 })).toMatchObject({ outcome: 'dead-lettered' });
    expect(log).toEqual(['dead-letter after 3: delivery 3 of 3 failed: database is locked', 'ack']);
  });

  it('dead-letters a message delivered more often than allowed without emitting it (a crash loop)', async () => {
    let emitted = 0;
    const { trigger } = await triggerWith(async () => ({ runId: `r${++emitted}` }));
    const { d, log } = delivery({ payload: 'poison' }, 6);
    expect(await deliver(trigger, d, { maxDeliveries: 5 })).toMatchObject({ outcome: 'dead-lettered' });
    expect(emitted).toBe(0);
    expect(log[0]).toMatch(/dead-letter after 6: delivered 6 times/);
  });

  it('dead-letters at once a message refused for good (retryable false), logs and acks when there is no destination', async () => {
    const refused = Object.assign(new Error('message is larger than 16 MB'), { retryable: false });
    const { trigger, order } = await triggerWith(async () => {
      throw refused;
    });
    const { d, log } = delivery({ payload: 'huge' }, 1, false);
    expect(await deliver(trigger, d)).toEqual({ outcome: 'dead-lettered', reason: 'refused: message is larger than 16 MB' });
    expect(log).toEqual(['ack']);
    expect(order).toEqual(['log: message dropped (no dead-letter destination configured): refused: message is larger than 16 MB']);
  });

  it('counts deliveries per message id for brokers that do not', () => {
    const counter = new DeliveryCounter(2);
    expect([counter.delivered('a'), counter.delivered('a'), counter.delivered('b')]).toEqual([1, 2, 1]);
    counter.settled('a');
    expect(counter.delivered('a')).toBe(1);
    counter.delivered('c'); // bounded: the oldest id is forgotten
    expect(counter.delivered('b')).toBe(1);
  });
});
