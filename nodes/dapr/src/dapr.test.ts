/**
 * The Dapr nodes against a real daprd 1.14 (its state.redis and pubsub.redis components on the Redis of
 * scripts/services), started for this file: the credential test, state get/set/delete with etags (checked in Redis
 * itself), publish → subscribe of JSON, text and bytes, redelivery of an event whose run could not be stored, drop
 * to the dead-letter topic, and a redeploy that subscribes again. Skips, saying why, where daprd is not built.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import type { RuntimeServices } from '@flowcrew/sdk';
import { closeTestServices, createTestNode, setTestServiceDefaults, type TestNode, type TestNodeOptions } from '@flowcrew/sdk/testing';
import { daprCredential } from './credential.ts';
import { daprPublishNode } from './publish.ts';
import { daprStateNode, type DaprStateProps } from './state.ts';
import { daprSubscribeNode, type DaprSubscribeProps } from './subscribe.ts';
import { daprdMissing, REDIS_PORT, startDaprd, type Daprd } from './testing.ts';

const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
setTestServiceDefaults({ outbound });
const redis = async (...args: string[]) => (await promisify(execFile)('redis-cli', ['-p', String(REDIS_PORT), '--raw', ...args])).stdout.trim();

const run = randomBytes(4).toString('hex');
const topics: string[] = [];
const topic = (name: string) => {
  const t = `flowcrew-test-${run}-${name}`;
  topics.push(t);
  return t;
};

async function until<T>(value: () => T | undefined, timeoutMs = 20_000, what = 'a condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = value();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.skipIf(daprdMissing !== undefined)('dapr nodes against a real daprd 1.14', () => {
  let daprd: Daprd;
  const fields = () => ({ host: '127.0.0.1', httpPort: daprd.httpPort, grpcPort: daprd.grpcPort });
  const credential = () => ({ credentials: fields(), credential: { id: 'dapr' } });
  const nodes: TestNode[] = [];
  const node = async (...args: Parameters<typeof createTestNode>) => {
    const n = await createTestNode(...args);
    nodes.push(n);
    return n;
  };
  const subscriber = (props: Partial<DaprSubscribeProps>, onEmit?: TestNodeOptions['onEmit']) =>
    node(daprSubscribeNode, { pubsub: 'pubsub', topic: '', deadLetterTopic: '', maxDeliveries: 5, metadata: {}, ...props }, { ...credential(), onEmit });
  const state = (props: Partial<DaprStateProps>) => node(daprStateNode, { store: 'statestore', operation: 'get', key: '', useEtag: false, ttlSeconds: 0, ...props }, credential());

  beforeAll(async () => {
    daprd = await startDaprd();
  }, 90_000);
  afterAll(async () => {
    for (const n of nodes) await n.stop().catch(() => undefined);
    await closeTestServices();
    if (process.env.DEBUG_DAPR) console.log(daprd?.output());
    await daprd?.stop();
    if (topics.length) await redis('DEL', ...topics).catch(() => undefined);
    await outbound.close();
  }, 30_000);

  it('tests the credential: version, app id and components; a port where nothing listens; a host the guard refuses', async () => {
    const services = { outbound } as unknown as RuntimeServices;
    const test = (f: Record<string, unknown>, s = services) => daprCredential.test!(f as never, s, new AbortController().signal);
    expect(await test(fields())).toEqual({
      ok: true,
      message: `connected to Dapr 1.14.0 (app ${daprd.appId}) at 127.0.0.1:${daprd.httpPort}; state stores: statestore; pub/sub: pubsub`,
    });
    expect(await test({ host: '127.0.0.1', httpPort: 9 })).toMatchObject({ ok: false, message: expect.stringMatching(/^Dapr sidecar 127\.0\.0\.1:9: read metadata failed: /) });
    const closed = createOutboundGuard({ allow: [] });
    const refused = await test(fields(), { outbound: closed } as unknown as RuntimeServices);
    await closed.close();
    expect(refused).toMatchObject({ ok: false, message: expect.stringMatching(/^Dapr sidecar 127\.0\.0\.1:\d+: read metadata failed: .*(refused|not allowed)/i) });
  });

  it('sets, gets and deletes state (stored in Redis under the app id), and refuses a write over a changed etag', async () => {
    const key = `order-${run}`;
    const set = await state({ operation: 'set' });
    const get = await state({ operation: 'get' });
    const del = await state({ operation: 'delete' });
    await set.input({ topic: key, payload: { id: 7, items: ['a', 'b'] } });
    expect(JSON.parse(await redis('HGET', `${daprd.appId}||${key}`, 'data'))).toEqual({ id: 7, items: ['a', 'b'] });
    const [read] = await get.input({ topic: key });
    expect(read!.msg).toMatchObject({ payload: { id: 7, items: ['a', 'b'] }, dapr: { store: 'statestore', key, found: true, etag: expect.any(String) } });

    // Read-modify-write with the etag: the first write wins, a second one with the same (now stale) etag is refused.
    const guarded = await state({ operation: 'set', useEtag: true });
    await guarded.input({ topic: key, payload: { id: 7, items: ['a', 'b', 'c'] }, dapr: read!.msg.dapr });
    await expect(guarded.input({ topic: key, payload: { id: 7, lost: true }, dapr: read!.msg.dapr })).rejects.toThrow(
      new RegExp(`^dapr state set "${key}" in statestore: etag mismatch, the key changed since it was read`),
    );
    const [after] = await get.input({ topic: key });
    expect(after!.msg.payload).toEqual({ id: 7, items: ['a', 'b', 'c'] });

    await del.input({ topic: key });
    const [gone] = await get.input({ topic: key });
    expect(gone!.msg).toMatchObject({ payload: null, dapr: { found: false } });
    expect(await redis('EXISTS', `${daprd.appId}||${key}`)).toBe('0');
    await del.input({ topic: key }); // deleting a missing key succeeds

    const unknown = await state({ store: 'nostore', operation: 'get' });
    const error = await unknown.input({ topic: key }).catch((e: unknown) => e as Error & { retryable: boolean });
    expect(error).toMatchObject({ message: expect.stringMatching(/^Dapr sidecar 127\.0\.0\.1:\d+: get ".*" from nostore failed: 400 ERR_STATE_STORE_NOT_FOUND: /), retryable: false });
  });

  it('publishes JSON, text and bytes that a subscribe trigger turns into runs, with the publishing step as event id', async () => {
    const t = topic('basic');
    const sub = await subscriber({ topic: t });
    await sub.start();
    expect(sub.statuses.at(-1)).toMatchObject({ fill: 'green', text: `subscribed to ${t}` });
    const pub = await node(daprPublishNode, { pubsub: 'pubsub', topic: t, metadata: {} }, credential());
    const [out] = await pub.input({ payload: { n: 1 } }, { invocationId: 'inv-json' });
    expect(out!.msg.dapr).toEqual({ pubsub: 'pubsub', topic: t, id: 'run-1:n1:inv-json:1' });
    await pub.input({ payload: 'plain text' });
    await pub.input({ payload: Buffer.from([0, 1, 2, 255]) });
    await until(() => (sub.emitted.length >= 3 ? true : undefined), 20_000, 'three events');
    const byType = (type: string) => sub.emitted.find((e) => (e.msg.dapr as { contentType: string }).contentType.startsWith(type))!.msg;
    expect(byType('application/json')).toMatchObject({ payload: { n: 1 }, topic: t, _msgid: 'run-1:n1:inv-json:1', dapr: { pubsub: 'pubsub', topic: t, type: 'com.flowcrew.message', source: 'flowcrew/test-flow/n1', deliveries: 1 } });
    expect(byType('text/plain').payload).toBe('plain text');
    expect(byType('application/octet-stream').payload).toEqual(Buffer.from([0, 1, 2, 255]));

    const nowhere = await node(daprPublishNode, { pubsub: 'nopubsub', topic: t, metadata: {} }, credential());
    await expect(nowhere.input({ payload: 1 })).rejects.toMatchObject({ message: expect.stringMatching(/publish to nopubsub\/.* failed: 404 ERR_PUBSUB_NOT_FOUND/), retryable: false });
  });

  it('gives back an event whose run could not be stored (redelivered), and drops one to the dead-letter topic', async () => {
    const t = topic('retry');
    const dlq = topic('dead');
    let failures = 1;
    const sub = await subscriber({ topic: t, deadLetterTopic: dlq, maxDeliveries: 3 }, async (msg) => {
      if (msg.payload === 'poison') throw Object.assign(new Error('the message is refused'), { retryable: false });
      if (failures-- > 0) throw new Error('storage is unavailable');
      return { runId: `run-${String(msg._msgid)}` };
    });
    const dead = await subscriber({ topic: dlq });
    await sub.start();
    await dead.start();
    const pub = await node(daprPublishNode, { pubsub: 'pubsub', topic: t, metadata: {} }, credential());
    await pub.input({ payload: { n: 2 } }, { invocationId: 'inv-retry' });
    const accepted = await until(() => sub.emitted.find((e) => (e.msg.dapr as { deliveries: number }).deliveries === 2), 30_000, 'the redelivery');
    expect(accepted.msg).toMatchObject({ payload: { n: 2 }, _msgid: 'run-1:n1:inv-retry:1' });
    expect(sub.logs.some((l) => l.level === 'warn' && /given back for redelivery: storage is unavailable/.test(l.message))).toBe(true);

    await pub.input({ payload: 'poison' }, { invocationId: 'inv-poison' });
    const deadLetter = await until(() => dead.emitted[0]?.msg, 30_000, 'the dead letter');
    expect(deadLetter).toMatchObject({
      payload: 'poison',
      _msgid: 'run-1:n1:inv-poison:1',
      dapr: { topic: dlq, extensions: { flowcrewreason: 'refused: the message is refused', flowcrewdeliveries: '1', flowcrewtopic: t } },
    });
    expect(sub.logs.some((l) => l.level === 'error' && l.message.includes(`moved to ${dlq}: refused: the message is refused`))).toBe(true);
    expect(sub.emitted.filter((e) => e.msg.payload === 'poison')).toHaveLength(1);
  });

  it('subscribes again when the sidecar comes back after a crash, and a second trigger on the same topic waits for the first', async () => {
    const t = topic('crash');
    const sub = await subscriber({ topic: t });
    await sub.start();
    const twin = await subscriber({ topic: t });
    await twin.start(); // daprd allows one stream per topic: the twin keeps retrying
    expect(twin.statuses.at(-1)).toMatchObject({ fill: 'red' });
    await twin.stop();
    await daprd.restart();
    await until(() => (sub.statuses.at(-1)?.fill === 'green' && sub.statuses.some((s) => s.fill === 'red') ? true : undefined), 30_000, 'the trigger to subscribe again');
    const pub = await node(daprPublishNode, { pubsub: 'pubsub', topic: t, metadata: {} }, credential());
    await pub.input({ payload: 'after the crash' });
    expect((await until(() => sub.emitted[0], 20_000, 'the event after the restart')).msg.payload).toBe('after the crash');
    expect(twin.emitted).toHaveLength(0);
  });

  it('subscribes again after a redeploy, and events published in between are delivered then', async () => {
    const t = topic('redeploy');
    const props = { topic: t, metadata: {} };
    const first = await subscriber(props);
    await first.start();
    const pub = await node(daprPublishNode, { pubsub: 'pubsub', topic: t, metadata: {} }, credential());
    await pub.input({ payload: 1 });
    await until(() => first.emitted[0], 20_000, 'the first event');
    await first.stop();
    await pub.input({ payload: 2 }); // nobody subscribed: the stream keeps it for the consumer group
    const second = await subscriber(props);
    await second.start();
    expect(second.statuses.at(-1)).toMatchObject({ fill: 'green' });
    expect((await until(() => second.emitted[0], 20_000, 'the event published while unsubscribed')).msg.payload).toBe(2);
    expect(first.emitted.map((e) => e.msg.payload)).toEqual([1]);
  });
});

if (daprdMissing !== undefined) {
  describe('dapr nodes (daprd not built)', () => {
    it.skip(`skipped: ${daprdMissing}`, () => undefined);
  });
}
