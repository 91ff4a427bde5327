/**
 * Reply routing on a real Redis: a run's answer whose job named the waiting main's channel reaches that main only
 * (another main's connection receives nothing of it); without a channel (a run swept or re-enqueued by another main,
 * an answer by reply handle) it goes to the run's own channel, which every main hears. And the relay names the
 * channel in a job only for the runs a request on that main waits on.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { redisNames } from '../cluster/redis-names.ts';
import { replyToOf, runJobs } from './relay.ts';
import { ReplyListener, ReplyPublisher, publishingWaiter } from './replies.ts';
import { TEST_REDIS_DB } from '../testing/redis-databases.ts';

const redisUrl = `${process.env.FLOWCREW_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'}/${TEST_REDIS_DB.replies}`;
const connections: Redis[] = [];
const connect = () => {
  const redis = new Redis(redisUrl);
  connections.push(redis);
  return redis;
};

afterEach(() => {
  for (const redis of connections.splice(0)) redis.disconnect();
});

/** Every message the installation's channels carry, seen by a connection of its own. */
async function tap(prefix: string): Promise<string[]> {
  const seen: string[] = [];
  const monitor = connect();
  monitor.on('pmessage', (_pattern: string, channel: string) => seen.push(channel));
  await monitor.psubscribe(`${prefix}:*`);
  return seen;
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function mains() {
  const prefix = `replies-test-${randomBytes(3).toString('hex')}`;
  const names = redisNames(prefix);
  const subscriberB = connect();
  const heardByB: string[] = [];
  subscriberB.on('message', (channel: string) => heardByB.push(channel));
  subscriberB.on('pmessage', (_p: string, channel: string) => heardByB.push(channel));
  return { prefix, names, a: new ReplyListener(connect(), names, 'main-a'), b: new ReplyListener(subscriberB, names, 'main-b'), heardByB };
}

describe('webhook replies across processes (real Redis)', () => {
  it("a reply whose job named the waiting main's channel reaches that main only", async () => {
    const { prefix, names, a, b, heardByB } = mains();
    const seen = await tap(prefix);
    const { reply } = await a.awaitReply('run-1', 20_000);
    await b.awaitReply('run-other', 20_000); // B listens too (its subscriptions are made)
    expect(a.waits('run-1')).toBe(true);
    expect(b.waits('run-1')).toBe(false);

    publishingWaiter(new ReplyPublisher(connect(), names), 'run-1', { channel: a.channel, lists: true }).resolve({ status: 201, body: 'done' });
    expect(await reply).toEqual({ status: 201, body: 'done' });
    await until('the tap to see the reply', () => seen.length > 0);
    expect(seen).toEqual([names.mainReplies('main-a')]);
    expect(heardByB).toEqual([]);
    b.close();
  });

  it("without a channel in its job, a run's reply goes to its own channel and the waiting main hears it there", async () => {
    const { prefix, names, a, b, heardByB } = mains();
    const seen = await tap(prefix);
    await b.awaitReply('run-other', 20_000);
    const { reply } = await a.awaitReply('run-2', 20_000);
    publishingWaiter(new ReplyPublisher(connect(), names), 'run-2').reject(new Error('node "x" failed'));
    await expect(reply).rejects.toThrow('node "x" failed');
    await until('the tap to see the reply', () => seen.length > 0);
    expect(seen).toEqual([names.reply('run-2')]);
    await until('main B to hear it too (every main listens to the runs\' channels)', () => heardByB.length > 0);
    expect(heardByB).toEqual([names.reply('run-2')]);
    b.close();
  });

  it('the relay names its channel in a job only for the runs a request on this main waits on', () => {
    const waited = new Set(['r1', 'r3', 'r4']);
    const jobs = runJobs(['r1', 'r2', 'r3', 'r4', 'r5'], 3, 3, { channel: 'chan-a', waits: (id) => waited.has(id) });
    expect(jobs.map((j) => j.data)).toEqual([
      { runIds: ['r1', 'r2', 'r3'], replyTo: { channel: 'chan-a', runIds: ['r1', 'r3'], lists: true } },
      { runIds: ['r4', 'r5'], replyTo: { channel: 'chan-a', runIds: ['r4'], lists: true } },
    ]);
    expect(runJobs(['r2', 'r5'], 16, 3, { channel: 'chan-a', waits: (id) => waited.has(id) }).map((j) => j.data)).toEqual([{ runIds: ['r2', 'r5'] }]);
    // A job split or retried with fewer runs keeps the channel for those it still carries.
    expect(replyToOf({ channel: 'chan-a', runIds: ['r1', 'r3'], lists: true }, ['r3', 'r2'])).toEqual({ channel: 'chan-a', runIds: ['r3'], lists: true });
    expect(replyToOf({ channel: 'chan-a', runIds: ['r1', 'r3'] }, ['r3'])).toEqual({ channel: 'chan-a', runIds: ['r3'] });
    expect(replyToOf({ channel: 'chan-a', runIds: ['r1'] }, ['r2'])).toBeUndefined();
  });

  it("a worker's answers of one turn go out together: one message, a list, to a main that reads lists; one each to an older main", async () => {
    const { prefix, names, a, b } = mains();
    const seen = await tap(prefix);
    const raw: unknown[] = [];
    const rawTap = connect();
    rawTap.on('message', (_channel: string, text: string) => raw.push(JSON.parse(text)));
    await rawTap.subscribe(names.mainReplies('main-b'));
    // Waiting (subscribed) before anything is published; an async function would wait for the reply it returns.
    const replies = (await Promise.all(['run-a1', 'run-a2', 'run-a3'].map((id) => a.awaitReply(id, 20_000)))).map((w) => w.reply);
    const older = (await Promise.all(['run-b1', 'run-b2'].map((id) => b.awaitReply(id, 20_000)))).map((w) => w.reply);
    const publisher = new ReplyPublisher(connect(), names);
    publishingWaiter(publisher, 'run-a1', { channel: a.channel, lists: true }).resolve({ status: 200, body: 1 });
    publishingWaiter(publisher, 'run-a2', { channel: a.channel, lists: true }).reject(new Error('node "y" failed'));
    publishingWaiter(publisher, 'run-a3', { channel: a.channel, lists: true }).resolve({ status: 202, body: 3 });
    publishingWaiter(publisher, 'run-b1', { channel: b.channel }).resolve({ status: 200, body: 'b1' });
    publishingWaiter(publisher, 'run-b2', { channel: b.channel }).resolve({ status: 200, body: 'b2' });
    await expect(replies[0]).resolves.toEqual({ status: 200, body: 1 });
    await expect(replies[1]).rejects.toThrow('node "y" failed');
    await expect(replies[2]).resolves.toEqual({ status: 202, body: 3 });
    expect(await Promise.all(older)).toEqual([{ status: 200, body: 'b1' }, { status: 200, body: 'b2' }]);
    await until('the taps to see the messages', () => seen.length >= 3 && raw.length >= 2);
    // Five answers, one write, three messages: one list for main A, one object each for main B (which may be older).
    expect(publisher.stats).toEqual({ answers: 5, writes: 1 });
    expect(seen.sort()).toEqual([names.mainReplies('main-a'), names.mainReplies('main-b'), names.mainReplies('main-b')]);
    expect(raw).toEqual([{ runId: 'run-b1', reply: { status: 200, body: 'b1' } }, { runId: 'run-b2', reply: { status: 200, body: 'b2' } }]);
    b.close();
  });

  it("answers settled in later turns while a write is in flight all arrive, none left waiting for a next write", async () => {
    const { names, a } = mains();
    const ids = Array.from({ length: 40 }, (_, i) => `run-t${i}`);
    const replies = (await Promise.all(ids.map((id) => a.awaitReply(id, 20_000)))).map((w) => w.reply);
    const publisher = new ReplyPublisher(connect(), names);
    // One answer per event-loop turn: each turn's answer waits for the write in flight, if any, and goes with the next.
    for (const [i, id] of ids.entries()) {
      publishingWaiter(publisher, id, { channel: a.channel, lists: true }).resolve({ status: 200, body: i });
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await Promise.all(replies)).toEqual(ids.map((_, i) => ({ status: 200, body: i })));
    expect(publisher.stats.answers).toBe(40);
    expect(publisher.stats.writes).toBeGreaterThanOrEqual(1);
    expect(publisher.stats.writes).toBeLessThanOrEqual(40);
  });
});
