/**
 * Webhook replies across processes: the worker executing a run publishes its answer (a response node's ctx.reply, or
 * the run's end without one) to the main holding the request. A main hands its runs to the queue with its own reply
 * channel in the job for those it waits on (queue/relay.ts), so such a reply reaches that main only, not every main
 * of the installation. Every other answer (a run the job does not say anyone waits on: a parked run answered on
 * another main, a run swept from the outbox by another main, an answer by reply handle from another run) goes to the
 * run's (or handle's) own channel, which every main hears through ONE pattern subscription. Both subscriptions are
 * made once per main: subscribing and unsubscribing per run was ~15 % of a busy main's time (session 8). Redis
 * pub/sub is fire-and-forget: a main that died meanwhile has no request left to answer.
 * A worker sends the answers of one event-loop turn together (ReplyPublisher): ONE socket write for all of them, and
 * ONE message per main channel, a list, for a main that reads lists (its jobs say so). A PUBLISH per run, each its own
 * write on the loopback socket, was ~11 % of a busy worker's CPU (session 11).
 */
import type { Logger, TriggerReply } from '@flowcrew/sdk';
import { Redis } from 'ioredis';
import type { ReplyWaiter } from '../executor/types.ts';
import type { RedisNames } from '../cluster/redis-names.ts';

type Answer = { reply: TriggerReply } | { error: string };
/** On a main's own channel: the answer and the run it is for; or a list of them (a main whose jobs say `lists`). */
type AddressedAnswer = Answer & { runId: string };

/** Where a worker sends a run's answer: the waiting main's channel, and whether that main reads lists of answers. */
export interface ReplyRoute {
  channel: string;
  lists?: boolean;
}

/** Glob characters of a Redis pattern taken literally (an installation prefix may contain them). */
const literal = (text: string) => text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

/** On a main: one subscriber connection, its own reply channel and one pattern subscription for every run's channel. */
export class ReplyListener {
  private readonly waiting = new Map<string, (answer: Answer) => void>();
  private readonly channelStart: string;
  private readonly pattern: string;
  /** This main's own channel (carried in the jobs of the runs it waits on). */
  readonly channel: string;
  /** The subscriptions, made once (again by ioredis after a reconnection). */
  private subscribed: Promise<unknown> | null = null;

  constructor(
    private readonly subscriber: Redis,
    names: RedisNames,
    instance: string,
    private readonly log?: Logger,
  ) {
    this.channelStart = names.reply('');
    this.pattern = `${literal(this.channelStart)}*`;
    this.channel = names.mainReplies(instance);
    subscriber.on('pmessage', (pattern: string, name: string, text: string) => {
      if (pattern !== this.pattern || !name.startsWith(this.channelStart)) return;
      const runId = name.slice(this.channelStart.length);
      const deliver = this.waiting.get(runId);
      if (deliver) this.deliver(deliver, text);
    });
    subscriber.on('message', (name: string, text: string) => {
      if (name !== this.channel) return;
      let answers: AddressedAnswer | AddressedAnswer[];
      try {
        answers = JSON.parse(text) as AddressedAnswer | AddressedAnswer[];
      } catch (error) {
        this.log?.warn(`unreadable reply on ${name}: ${(error as Error).message}`);
        return; // whose it was cannot be told: that request ends at its timeout
      }
      for (const answer of Array.isArray(answers) ? answers : [answers]) this.waiting.get(answer.runId)?.(answer);
    });
  }

  private deliver(deliver: (answer: Answer) => void, text: string): void {
    try {
      deliver(JSON.parse(text) as Answer);
    } catch (error) {
      deliver({ error: `unreadable reply from the worker: ${(error as Error).message}` });
    }
  }

  /** Whether a request on this main waits for this run's answer (its job then carries this main's channel). */
  waits(runId: string): boolean {
    return this.waiting.has(runId);
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
    this.subscribed ??= Promise.all([this.subscriber.psubscribe(this.pattern), this.subscriber.subscribe(this.channel)]).catch((error: unknown) => {
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

/**
 * On a worker: answers are sent once per event-loop turn, all in ONE socket write (one PUBLISH, or a pipeline): the
 * answers of the runs a group commit finished settle in the same turn; while a write is not yet answered by Redis, the
 * next turns' answers wait and go together in the next write. On a main's channel whose main reads lists, a write's
 * answers for it are ONE message (a list); for an older main, one message each (still in the one write). Answers to
 * the runs' own channels (heard by every main through its pattern subscription) are one message each.
 */
export class ReplyPublisher {
  /** Per main channel reading lists: the turn's answers; else channel and message, in order. */
  private lists = new Map<string, AddressedAnswer[]>();
  private singles: Array<[string, string]> = [];
  private scheduled = false;
  /** A write not yet answered by Redis: answers meanwhile wait for it and go in the next write together. */
  private sending = false;
  readonly stats = { answers: 0, writes: 0 };

  constructor(
    private readonly publisher: Redis,
    private readonly names: RedisNames,
  ) {}

  /** A run's answer: to `route`, the waiting main's channel, when its job named one; else to the run's own channel. */
  answer(runId: string, answer: Answer, route?: ReplyRoute): void {
    if (!route) this.singles.push([this.names.reply(runId), JSON.stringify(answer)]);
    else if (!route.lists) this.singles.push([route.channel, JSON.stringify({ runId, ...answer } satisfies AddressedAnswer)]);
    else {
      const list = this.lists.get(route.channel);
      if (list) list.push({ runId, ...answer });
      else this.lists.set(route.channel, [{ runId, ...answer }]);
    }
    this.schedule();
  }

  /** A response node answered a request (its handle) that a run executed elsewhere started: to the handle's channel. */
  answerHandle(handle: string, reply: TriggerReply): void {
    this.singles.push([this.names.reply(handle), JSON.stringify({ reply } satisfies Answer)]);
    this.schedule();
  }

  private schedule(): void {
    this.stats.answers++;
    if (this.scheduled) return;
    this.scheduled = true;
    if (!this.sending) setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const messages: Array<[string, string]> = [];
    for (const [channel, list] of this.lists) messages.push([channel, JSON.stringify(list.length === 1 ? list[0] : list)]);
    for (const single of this.singles) messages.push(single);
    this.lists = new Map();
    this.singles = [];
    this.stats.writes++;
    // Fire-and-forget, as pub/sub is: a request not answered ends at its timeout. One message (the usual case with one
    // main: the turn's list) is one PUBLISH, without a pipeline object around it; still one write.
    let sent: Promise<unknown>;
    if (messages.length === 1) sent = this.publisher.publish(messages[0]![0], messages[0]![1]);
    else {
      const pipeline = this.publisher.pipeline();
      for (const [channel, text] of messages) pipeline.publish(channel, text);
      sent = pipeline.exec();
    }
    // One write in flight at a time (as the group-commit writer commits): answers settled before Redis answered this
    // one go together in the next write, so a busy worker makes fewer, larger writes; an idle one waits for nothing.
    this.sending = true;
    void sent
      .catch(() => {})
      .then(() => {
        this.sending = false;
        if (this.scheduled) setImmediate(() => this.flush());
      });
  }
}

/** A main waits this long at most (a trigger's reply timeout); a worker forgets a waiter no answer settled by then. */
const WAITER_TTL_MS = 10 * 60_000;

/** On a worker: the waiter of a run taken from the queue publishes what the run answers (see ReplyPublisher.answer). */
export function publishingWaiter(publisher: ReplyPublisher, runId: string, route?: ReplyRoute): ReplyWaiter {
  const waiter: ReplyWaiter = {
    settled: false,
    resolve: (reply) => publisher.answer(runId, { reply }, route),
    reject: (error) => publisher.answer(runId, { error: error.message }, route),
  };
  // Registered by handle on the worker (executor/resume.ts): not kept for ever when nothing answers it.
  waiter.timer = setTimeout(() => {
    waiter.settled = true;
    waiter.handles?.forget(waiter);
  }, WAITER_TTL_MS);
  waiter.timer.unref();
  return waiter;
}
