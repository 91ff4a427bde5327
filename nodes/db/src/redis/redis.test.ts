/**
 * The Redis node and stream trigger against the real Redis 7 `scripts/services redis` starts, as an ACL user of the
 * test file's own (keys under its own prefix): commands, TTLs, errors, the credential test, connections closed,
 * and the stream consumer's acknowledge-after-commit, redelivery and dead letters.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import { NodeInputError, type EmitResult, type FlowMessage, type RuntimeServices } from '@flowcrew/sdk';
import { closeTestServices, createTestNode, setTestServiceDefaults } from '@flowcrew/sdk/testing';
import type { RedisFields } from './connect.ts';
import { redisCredential } from './credential.ts';
import { redisNode, type RedisProps } from './node.ts';
import { redisStreamNode, type StreamProps } from './stream.ts';

const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
setTestServiceDefaults({ outbound });

const port = Number(process.env.FLOWCREW_TEST_REDIS_PORT ?? 6379);
const suffix = randomBytes(4).toString('hex');
const prefix = `fc${suffix}:`;
const user = `fc_${suffix}`;
const password = `pw-${randomBytes(8).toString('hex')}`;
const name = `fc-test-${suffix}`;
const fields: RedisFields = { host: '127.0.0.1', port, username: user, password, connectionName: name };
let admin: Redis;

beforeAll(async () => {
  admin = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`Redis test server not reachable on 127.0.0.1:${port} (${(error as Error).message}): run scripts/services redis`);
  }
  // Only its own keys and channels: a test cannot touch another file's data.
  await admin.call('ACL', 'SETUSER', user, 'on', `>${password}`, `~${prefix}*`, `&${prefix}*`, '+@all');
});
afterAll(async () => {
  await closeTestServices();
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length) await admin.del(...keys);
  await admin.call('ACL', 'DELUSER', user);
  admin.disconnect();
  await outbound.close();
});

/** Connections open under a client name (CLIENT LIST). */
async function connections(clientName = name): Promise<number> {
  const list = (await admin.client('LIST')) as string;
  return list.split('\n').filter((line) => line.includes(` name=${clientName} `)).length;
}
async function waitConnections(expected: number, clientName = name): Promise<number> {
  const until = Date.now() + 5000;
  let n = await connections(clientName);
  while (n !== expected && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    n = await connections(clientName);
  }
  return n;
}

let seq = 0;
const node = (props: Partial<RedisProps>, credentialId = `r-${++seq}`) => createTestNode(redisNode, props, { credentials: fields, credential: { id: credentialId } });
const out = async (n: Awaited<ReturnType<typeof node>>, msg: FlowMessage) => (await n.input(msg))[0]!.msg;

async function fails(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('redis credential type', () => {
  const services = { outbound } as unknown as RuntimeServices;
  it('reports the version and the ACL user', async () => {
    expect(await redisCredential.test!(fields, services, new AbortController().signal)).toEqual({ ok: true, message: expect.stringMatching(new RegExp(`^connected to Redis 7\\.\\d+\\.\\d+ at 127\\.0\\.0\\.1:${port}/0 as ${user}$`)) });
  });
  it('says what is wrong for a wrong password, without the password', async () => {
    const result = await redisCredential.test!({ ...fields, password: 'wrong-password-123' }, services, new AbortController().signal);
    expect(result.ok).toBe(false);
    expect(result.message).toBe(`Redis ${user}@127.0.0.1:${port}/0: connection test failed: WRONGPASS invalid username-password pair or user is disabled.`);
  });
  it('fails fast for a port where nothing listens, and for a destination the guard refuses', async () => {
    const refused = await redisCredential.test!({ ...fields, port: 9 }, services, new AbortController().signal);
    expect(refused.message).toMatch(/127\.0\.0\.1:9\/0: connection test failed: .*ECONNREFUSED/);
    const strict = createOutboundGuard();
    try {
      const result = await redisCredential.test!(fields, { outbound: strict } as unknown as RuntimeServices, new AbortController().signal);
      expect(result.message).toMatch(/127\.0\.0\.1.*FLOWCREW_OUTBOUND_ALLOW/);
    } finally {
      await strict.close();
    }
  });
});

describe('redis node', () => {
  it('sets with a TTL and NX, gets JSON back', async () => {
    const set = await node({ operation: 'set', key: `${prefix}user`, ttlSeconds: 60 });
    expect((await out(set, { payload: { name: 'Ada', n: 1 } })).payload).toBe('OK');
    expect(await admin.ttl(`${prefix}user`)).toBeGreaterThan(50);
    const nx = await node({ operation: 'set', key: `${prefix}user`, onlyIfAbsent: true });
    expect((await out(nx, { payload: 'other' })).payload).toBe(false);
    const get = await node({ operation: 'get', keyFrom: 'payload.key' });
    expect((await out(get, { payload: { key: `${prefix}user` } })).payload).toEqual({ name: 'Ada', n: 1 });
    expect((await out(get, { payload: { key: `${prefix}none` } })).payload).toBeNull();
    const del = await node({ operation: 'del', key: `${prefix}user` });
    expect((await out(del, {})).payload).toBe(1);
    await Promise.all([set.stop(), nx.stop(), get.stop(), del.stop()]);
  });

  it('counts in a fixed window: the TTL is set by the first increment only', async () => {
    const incr = await node({ operation: 'incr', key: `${prefix}hits`, by: 2, ttlSeconds: 100 });
    expect((await out(incr, {})).payload).toBe(2);
    await admin.expire(`${prefix}hits`, 30);
    expect((await out(incr, {})).payload).toBe(4);
    expect(await admin.ttl(`${prefix}hits`)).toBeLessThanOrEqual(30);
    await incr.stop();
  });

  it('writes and reads hashes and lists, publishes and appends to a stream', async () => {
    const hset = await node({ operation: 'hset', key: `${prefix}h`, ttlSeconds: 60 });
    expect((await out(hset, { payload: { a: 1, b: { c: true } } })).payload).toBe(2);
    const hget = await node({ operation: 'hget', key: `${prefix}h`, fieldFrom: 'payload' });
    expect((await out(hget, { payload: 'b' })).payload).toEqual({ c: true });
    const hgetall = await node({ operation: 'hgetall', key: `${prefix}h` });
    expect((await out(hgetall, {})).payload).toEqual({ a: 1, b: { c: true } });
    const push = await node({ operation: 'rpush', key: `${prefix}l` });
    expect((await out(push, { payload: ['x', { y: 1 }, 3] })).payload).toBe(3);
    const range = await node({ operation: 'lrange', key: `${prefix}l`, start: 1 });
    expect((await out(range, {})).payload).toEqual([{ y: 1 }, 3]);
    const pop = await node({ operation: 'lpop', key: `${prefix}l` });
    expect((await out(pop, {})).payload).toBe('x');

    const subscriber = new Redis({ host: '127.0.0.1', port });
    const heard = new Promise<string>((resolve) => subscriber.on('message', (_channel, message) => resolve(message)));
    await subscriber.subscribe(`${prefix}news`);
    const publish = await node({ operation: 'publish', channel: `${prefix}news` });
    expect((await out(publish, { payload: { hello: 'world' } })).payload).toBe(1);
    expect(JSON.parse(await heard)).toEqual({ hello: 'world' });
    subscriber.disconnect();

    const xadd = await node({ operation: 'xadd', key: `${prefix}s` });
    const id = (await out(xadd, { payload: { order: 7, items: [1, 2] } })).payload as string;
    expect(await admin.xrange(`${prefix}s`, '-', '+')).toEqual([[id, ['order', '7', 'items', '[1,2]']]]);
    await Promise.all([hset, hget, hgetall, push, range, pop, publish, xadd].map((n) => n.stop()));
  });

  it('fails clearly: a wrong type, a key outside what the user may touch, a missing key property', async () => {
    await admin.set(`${prefix}str`, 'text');
    const hget = await node({ operation: 'hget', key: `${prefix}str`, field: 'a' });
    const wrong = await fails(hget.input({}));
    expect(wrong.message).toBe(`Redis ${user}@127.0.0.1:${port}/0: HGET ${prefix}str failed: WRONGTYPE Operation against a key holding the wrong kind of value`);
    expect((wrong as { retryable?: boolean }).retryable).toBe(false);
    const other = await node({ operation: 'get', key: 'someone-else:key' });
    expect((await fails(other.input({}))).message).toMatch(/GET someone-else:key failed: NOPERM/);
    const get = await node({ operation: 'get', keyFrom: 'payload.key' });
    const missing = await fails(get.input({ payload: {} }));
    expect(missing).toBeInstanceOf(NodeInputError);
    expect(missing.message).toBe('the key must be a non-empty string or a number at msg.payload.key, got nothing');
    await Promise.all([hget.stop(), other.stop(), get.stop()]);
  });

  it('shares one connection per credential and closes it when the last node is undeployed', async () => {
    const a = await node({ operation: 'get', key: `${prefix}x` }, 'shared');
    const b = await node({ operation: 'get', key: `${prefix}y` }, 'shared');
    await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).input({})));
    expect(await connections()).toBe(1);
    await a.stop();
    expect(await connections()).toBe(1);
    await b.stop();
    expect(await waitConnections(0)).toBe(0);
  });
});

describe('redis stream trigger', () => {
  const trigger = (props: Partial<StreamProps>, onEmit: (msg: FlowMessage) => Promise<EmitResult>) =>
    createTestNode(redisStreamNode, { group: 'flows', consumer: 'c1', blockMs: 200, ...props } as StreamProps, { credentials: fields, credential: { id: `s-${++seq}` }, onEmit });
  const pendingCount = async (stream: string) => ((await admin.xpending(stream, 'flows')) as [number])[0];
  const until = async (check: () => Promise<boolean> | boolean) => {
    for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 25));
    expect(await check()).toBe(true);
  };

  it('acknowledges an entry only after its run is committed', async () => {
    const stream = `${prefix}orders`;
    let commit!: (r: EmitResult) => void;
    const t = await trigger({ stream }, () => new Promise((resolve) => (commit = resolve)));
    await t.start();
    await until(async () => ((await admin.xinfo('GROUPS', stream).catch(() => [])) as unknown[]).length === 1);
    const id = await admin.xadd(stream, '*', 'order', '{"id":1}', 'note', 'plain');
    await until(() => t.emitted.length === 1);
    expect(t.emitted[0]!.msg).toEqual({ payload: { order: { id: 1 }, note: 'plain' }, _msgid: id, id, stream, topic: stream });
    expect(await pendingCount(stream)).toBe(1); // the run is not committed yet: not acknowledged
    commit({ runId: 'run-1' });
    await until(async () => (await pendingCount(stream)) === 0);
    await t.stop();
  });

  it('delivers again an entry whose run could not be stored, then dead-letters it after maxDeliveries', async () => {
    const stream = `${prefix}poison`;
    const seen: number[] = [];
    const t = await trigger({ stream, retryAfterMs: 100, maxDeliveries: 3 }, async () => {
      seen.push(Date.now());
      throw new Error('storage unavailable');
    });
    await t.start();
    await until(async () => ((await admin.xinfo('GROUPS', stream).catch(() => [])) as unknown[]).length === 1);
    const id = await admin.xadd(stream, '*', 'data', 'bad');
    await until(async () => (await admin.xlen(`${stream}:dead`)) === 1);
    expect(seen).toHaveLength(3);
    const deadFields = ((await admin.xrange(`${stream}:dead`, '-', '+')) as Array<[string, string[]]>)[0]![1];
    expect(deadFields).toEqual(['data', 'bad', '_reason', 'delivery 3 of 3 failed: storage unavailable', '_deliveries', '3', '_id', id, '_stream', stream, '_group', 'flows']);
    expect(await pendingCount(stream)).toBe(0);
    await t.stop();
  });

  it('a run stored on the second delivery is acknowledged once, with no dead letter', async () => {
    const stream = `${prefix}flaky`;
    let calls = 0;
    const t = await trigger({ stream, retryAfterMs: 100 }, async () => {
      if (++calls === 1) throw new Error('first try failed');
      return { runId: 'run-2' };
    });
    await t.start();
    await until(async () => ((await admin.xinfo('GROUPS', stream).catch(() => [])) as unknown[]).length === 1);
    await admin.xadd(stream, '*', 'n', '1');
    await until(async () => calls === 2 && (await pendingCount(stream)) === 0);
    expect(await admin.exists(`${stream}:dead`)).toBe(0);
    expect(t.logs.some((l) => l.level === 'warn' && l.message.includes('will be delivered again in 100 ms: first try failed'))).toBe(true);
    await t.stop();
  });

  it('takes over entries a crashed consumer left pending, and closes its connection on stop', async () => {
    const stream = `${prefix}handover`;
    await admin.xgroup('CREATE', stream, 'flows', '$', 'MKSTREAM');
    const id = await admin.xadd(stream, '*', 'job', 'a');
    await admin.xreadgroup('GROUP', 'flows', 'crashed', 'COUNT', 10, 'STREAMS', stream, '>'); // read, never acknowledged
    const t = await trigger({ stream, retryAfterMs: 100 }, async () => ({ runId: 'run-3' }));
    await t.start();
    await until(() => t.emitted.length === 1);
    expect(t.emitted[0]!.msg.id).toBe(id);
    await until(async () => (await pendingCount(stream)) === 0);
    expect(await connections(`${name}-stream`)).toBe(1);
    const stopping = Date.now();
    await t.stop();
    expect(Date.now() - stopping).toBeLessThan(2000);
    expect(await waitConnections(0, `${name}-stream`)).toBe(0);
  });
});
