/**
 * Webhook replies across processes: the worker executing a run publishes its answer (a response node's ctx.reply, or
 * the run's end without one) on the run's Redis channel; every main listens to all reply channels of its installation
 * with ONE pattern subscription, made once, and answers the requests it holds. Subscribing and unsubscribing per run
 * was ~15 % of a busy main's time (two Redis round trips and socket writes per run, bench/queue.ts profiles, session
 * 8). Each main now receives every reply and drops those it holds no request for: fine for a few mains; with many, a
 * per-main channel carried in the job is the next step. Redis pub/sub is fire-and-forget: a main that died meanwhile
 * has no request left to answer.
 */
import type { TriggerReply } from '@flowcrew/sdk';
import { Redis } from 'ioredis';
import type { ReplyWaiter } from '../executor/types.ts';
import type { RedisNames } from '../cluster/redis-names.ts';

type Answer = { reply: TriggerReply } | { error: string };

/** Glob characters of a Redis pattern taken literally (an installation prefix may contain them). */
const literal = (text: string) => text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

/** On a main: one subscriber connection, one pattern subscription for every reply channel. */
export class ReplyListener {
  private readonly waiting = new Map<string, (answer: Answer) => void>();
  private readonly channelStart: string;
  private readonly pattern: string;
  /** The pattern subscription, made once (again by ioredis after a reconnection). */
  private subscribed: Promise<unknown> | null = null;

  constructor(private readonly subscriber: Redis, names: RedisNames) {
    this.channelStart = names.reply('');
    this.pattern = `${literal(this.channelStart)}*`;
    subscriber.on('pmessage', (pattern: string, name: string, text: string) => {
      if (pattern !== this.pattern || !name.startsWith(this.channelStart)) return;
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
        if ('reply' in answer) resolve(answer.reply);
        else reject(new Error(answer.error));
      };
    });
    reply.catch(() => {}); // awaited by the trigger only after acceptance
    this.waiting.set(runId, settle);
    // Before the run is committed, so no answer can come before the main listens; a failed subscription is tried again.
    this.subscribed ??= this.subscriber.psubscribe(this.pattern).catch((error: unknown) => {
      this.subscribed = null;
      throw error;
    });
    try {
      await this.subscribed;
    } catch (error) {
      this.waiting.delete(runId);
      throw error;
    }
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
