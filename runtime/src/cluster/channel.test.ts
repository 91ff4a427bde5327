/**
 * The announcement channel's Redis transport on the real Redis (scripts/services.d/redis.sh): messages go to every
 * listener on the topic and no other, and a listener whose connection was killed is told when it is back (to catch
 * up). The PostgreSQL transport is tested through its users: packs/library-sync.test.ts, cluster/deploy-follow.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../testing/child-runtime.ts';
import { RedisChannel } from './channel.ts';

const REDIS_URL = process.env.FLOWCREW_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisUp = await (async () => {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch (error) {
    if (process.env.CI) throw new Error(`Redis not reachable at ${REDIS_URL} (${(error as Error).message}): run scripts/services`);
    return false;
  } finally {
    probe.disconnect();
  }
})();

describe.skipIf(!redisUp)('announcement channel over Redis', () => {
  const opened: Array<{ close(): void } | Redis> = [];
  afterAll(() => {
    for (const o of opened) (o instanceof Redis ? o.disconnect() : o.close());
  });

  it('delivers to every listener of its topic, and tells a listener its connection is back', async () => {
    const topic = `flowcrew:test-announce:${randomBytes(4).toString('hex')}`;
    const subscriber = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const publisher = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const admin = new Redis(REDIS_URL);
    opened.push(subscriber, publisher, admin);
    const subscriberId = Number(await subscriber.client('ID'));
    const one = new RedisChannel(topic, { publisher, subscriber });
    const other = new RedisChannel(topic, { url: REDIS_URL });
    const elsewhere = new RedisChannel(`${topic}:other`, { url: REDIS_URL });
    opened.push(one, other, elsewhere);
    const got: Record<string, string[]> = { one: [], other: [], elsewhere: [] };
    let reconnected = 0;
    await one.listen((text) => got.one!.push(text), () => reconnected++);
    await other.listen((text) => got.other!.push(text));
    await elsewhere.listen((text) => got.elsewhere!.push(text));

    await other.publish('hello');
    await waitFor('both listeners to hear it', async () => (got.one!.length === 1 && got.other!.length === 1 ? true : undefined));
    expect(got).toEqual({ one: ['hello'], other: ['hello'], elsewhere: [] });

    // Only this listener's connection is killed (not every subscriber of a Redis other tests share).
    await admin.client('KILL', 'ID', String(subscriberId));
    await waitFor('the listener told its connection is back', async () => (reconnected > 0 ? true : undefined));
    await other.publish('after');
    await waitFor('the listener subscribed again', async () => (got.one!.includes('after') ? true : undefined));
  });
});
