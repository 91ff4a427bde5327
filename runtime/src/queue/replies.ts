/**
 * Webhook replies across processes: the main holding the HTTP request listens on the run's Redis channel before the
 * run is committed; the worker executing the run publishes its answer (a response node's ctx.reply, or the run's end
 * without one) there. Redis pub/sub is fire-and-forget: a main that died meanwhile has no request left to answer.
 */
import type { TriggerReply } from '@flowcrew/sdk';
import { Redis } from 'ioredis';
import type { ReplyWaiter } from '../executor/types.ts';
import type { RedisNames } from '../cluster/redis-names.ts';

type Answer = { reply: TriggerReply } | { error: string };

/** On a main: one subscriber connection, one channel per waiting request. */
export class ReplyListener {
  private readonly waiting = new Map<string, (answer: Answer) => void>();

  private readonly channelStart: string;

  constructor(private readonly subscriber: Redis, private readonly names: RedisNames) {
    this.channelStart = names.reply('');
    subscriber.on('message', (name: string, text: string) => {
      if (!name.startsWith(this.channelStart)) return;
      const runId = name.slice(this.channelStart.length);
      const deliver = this.waiting.get(runId);
      if (!deliver) return;
      try {
        deliver(JSON.parse(text) as Answer);
      } catch (error) {
        deliver({ error: `unreadable reply from the worker: ${(error as Error).message}` });
      }
    });
  }

  /** Subscribed once this resolves; `reply` settles with the worker's answer or after `timeoutMs`. */
  async awaitReply(runId: string, timeoutMs: number): Promise<{ reply: Promise<TriggerReply> }> {
    let settle!: (answer: Answer) => void;
    const reply = new Promise<TriggerReply>((resolve, reject) => {
      const timer = setTimeout(() => settle({ error: `no response within ${timeoutMs} ms` }), timeoutMs);
      timer.unref();
      settle = (answer) => {
        clearTimeout(timer);
        this.waiting.delete(runId);
        void this.subscriber.unsubscribe(this.names.reply(runId)).catch(() => {});
        if ('reply' in answer) resolve(answer.reply);
        else reject(new Error(answer.error));
      };
    });
    reply.catch(() => {}); // awaited by the trigger only after acceptance
    this.waiting.set(runId, settle);
    await this.subscriber.subscribe(this.names.reply(runId));
    return { reply };
  }

  close(): void {
    for (const settle of [...this.waiting.values()]) settle({ error: 'runtime shutting down' });
  }
}

/** A main waits this long at most (a trigger's reply timeout); a worker forgets a waiter no answer settled by then. */
const WAITER_TTL_MS = 10 * 60_000;

/** On a worker: the waiter of a run taken from the queue publishes what the run answers. */
export function publishingWaiter(publisher: Redis, names: RedisNames, runId: string): ReplyWaiter {
  const publish = (answer: Answer) => void publisher.publish(names.reply(runId), JSON.stringify(answer)).catch(() => {});
  const waiter: ReplyWaiter = {
    settled: false,
    resolve: (reply) => publish({ reply }),
    reject: (error) => publish({ error: error.message }),
  };
  // Registered by handle on the worker (executor/resume.ts): not kept for ever when nothing answers it.
  waiter.timer = setTimeout(() => {
    waiter.settled = true;
    waiter.handles?.forget(waiter);
  }, WAITER_TTL_MS);
  waiter.timer.unref();
  return waiter;
}

/** On a worker: a response node answered a request (its handle) that a run executed elsewhere started. */
export function publishReply(publisher: Redis, names: RedisNames, handle: string, reply: TriggerReply): void {
  void publisher.publish(names.reply(handle), JSON.stringify({ reply } satisfies Answer)).catch(() => {});
}
