/**
 * Consumer triggers (a queue, a stream, a topic): acknowledge a message only after the run it started is durable.
 *
 * The contract of `TriggerContext.emit`: it resolves once the run and its first step are committed to storage, and
 * rejects when they could not be (storage down, the message cannot be stored, the flow is being undeployed). So:
 *   - resolved  → acknowledge (AMQP ack, Kafka offset commit, MQTT PUBACK, JetStream ack): a crash from now on
 *                 resumes the run, it is never lost;
 *   - rejected  → do NOT acknowledge: negative-acknowledge / let the broker redeliver;
 *   - a message that keeps failing (delivered `maxDeliveries` times, or refused for good: `retryable === false`)
 *                 → dead-letter it (publish it to a dead-letter destination with the reason), then acknowledge it.
 * A crash between emit and ack redelivers a message whose run exists already: consumers that must not start a
 * second run de-duplicate by the broker's message id (pass it as `msg._msgid`).
 *
 * `deliver` implements exactly this for one message; a trigger calls it from its consume callback.
 */
import { LRUCache } from 'lru-cache';
import type { EmitOptions, EmitResult, FlowMessage, TriggerContext } from './index.ts';

export interface Delivery {
  /** The message to start a run with. */
  msg: FlowMessage;
  /**
   * How many times the broker has delivered this message, this time included (1 the first time): the broker's own
   * count when it keeps one (RabbitMQ quorum queues' x-delivery-count + 1, JetStream's numDelivered), else the
   * consumer's (see DeliveryCounter).
   */
  deliveries: number;
  /** Commit the delivery (the run is durable). */
  ack(): Promise<void> | void;
  /** Give it back for redelivery (the run could not be stored). */
  nack(error: Error): Promise<void> | void;
  /**
   * Move it to the dead-letter destination, with why (`reason`) and how often it was delivered; `ack` is called
   * after it resolves. Without one, a dead message is acknowledged and logged (dropped, not redelivered forever).
   */
  deadLetter?(reason: string, deliveries: number): Promise<void> | void;
}

export interface DeliveryPolicy {
  /** Dead-letter a message delivered this many times without a run accepted (default 5). */
  maxDeliveries?: number;
  emitOptions?: EmitOptions;
}

export type DeliveryOutcome = { outcome: 'accepted'; runId: string } | { outcome: 'redeliver'; error: Error } | { outcome: 'dead-lettered'; reason: string };

/**
 * Start a run for one delivered message and settle the delivery by the rule above. Never throws for the message's
 * own failure (that is the outcome); throws only when ack/nack/deadLetter themselves fail (the broker is gone: the
 * message will be redelivered when the consumer reconnects).
 */
export async function deliver(trigger: Pick<TriggerContext, 'emit' | 'log'>, delivery: Delivery, policy: DeliveryPolicy = {}): Promise<DeliveryOutcome> {
  const maxDeliveries = policy.maxDeliveries ?? 5;
  if (delivery.deliveries > maxDeliveries) {
    const reason = `delivered ${delivery.deliveries} times without a run being accepted (the limit is ${maxDeliveries})`;
    await deadLetter(trigger, delivery, reason);
    return { outcome: 'dead-lettered', reason };
  }
  let result: EmitResult;
  try {
    result = await trigger.emit(delivery.msg, policy.emitOptions);
  } catch (caught) {
    const error = caught instanceof Error ? caught : new Error(String(caught));
    // Refused for good (too large, not JSON...): redelivering would fail the same way every time.
    if ((error as { retryable?: boolean }).retryable === false || delivery.deliveries >= maxDeliveries) {
      const reason = (error as { retryable?: boolean }).retryable === false ? `refused: ${error.message}` : `delivery ${delivery.deliveries} of ${maxDeliveries} failed: ${error.message}`;
      await deadLetter(trigger, delivery, reason);
      return { outcome: 'dead-lettered', reason };
    }
    await delivery.nack(error);
    return { outcome: 'redeliver', error };
  }
  await delivery.ack();
  return { outcome: 'accepted', runId: result.runId };
}

async function deadLetter(trigger: Pick<TriggerContext, 'log'>, delivery: Delivery, reason: string): Promise<void> {
  if (delivery.deadLetter) await delivery.deadLetter(reason, delivery.deliveries);
  else trigger.log.error(`message dropped (no dead-letter destination configured): ${reason}`);
  await delivery.ack();
}

/**
 * Counts deliveries of message ids in this process, for brokers that do not count them (Kafka, MQTT, core NATS).
 * Bounded: the oldest ids are forgotten past `max`. A count restarts at 1 after a restart of the process.
 */
export class DeliveryCounter {
  private readonly counts: LRUCache<string, number>;

  constructor(max = 10_000) {
    this.counts = new LRUCache({ max });
  }

  /** Count one more delivery of `id` and return the total. */
  delivered(id: string): number {
    const count = (this.counts.get(id) ?? 0) + 1;
    this.counts.set(id, count);
    return count;
  }

  /** The message is settled (accepted or dead-lettered): forget it. */
  settled(id: string): void {
    this.counts.delete(id);
  }
}
