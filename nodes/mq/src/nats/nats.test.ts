/**
 * The NATS nodes against the real nats-server `scripts/services` starts (Debian's, JetStream on): the credential
 * test, core publish, request/reply, JetStream publish with de-duplication, the durable consumer's ack after
 * commit (a killed consumer's message comes again after the ack wait, an acknowledged one does not), nak, dead
 * letters, poison messages, no connection leak.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import type { RuntimeServices } from '@flowcrew/sdk';
import { closeTestServices, createTestNode, setTestServiceDefaults } from '@flowcrew/sdk/testing';
import { startCrashConsumer } from '../shared/crash.ts';
import { until, waitForConnections } from '../shared/testing.ts';
import { natsConsumeNode } from './consume.ts';
import type { NatsConsumeProps } from './consume-props.ts';
import { natsCredential } from './credential.ts';
import { natsPublishNode } from './publish.ts';
import { adminNats, NATS_PORT, natsFields } from './testing.ts';

const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
setTestServiceDefaults({ outbound });

const run = randomBytes(4).toString('hex');
let nc: NatsConnection;
let jsm: JetStreamManager;
const streams: string[] = [];
beforeAll(async () => {
  nc = await adminNats();
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  await closeTestServices();
  for (const s of streams) await jsm.streams.delete(s).catch(() => undefined);
  await nc?.close();
  await outbound.close();
});

let seq = 0;
const credential = () => ({ credentials: natsFields(), credential: { id: `nats-${++seq}` } });
/** A stream of this test file capturing `<name>.>` (deleted after). */
async function stream(name: string) {
  const streamName = `FLOWCREW_TEST_${run}_${name}`.toUpperCase();
  streams.push(streamName);
  await jsm.streams.add({ name: streamName, subjects: [`${streamName}.>`] });
  return streamName;
}
const consumeProps = (streamName: string, overrides: Partial<NatsConsumeProps> = {}): NatsConsumeProps => ({
  stream: streamName,
  createStream: false,
  streamSubjects: [],
  durable: `c${++seq}`,
  maxAckPending: 5,
  ackWaitSeconds: 30,
  payloadAs: 'auto',
  maxDeliveries: 5,
  deadLetterSubject: '',
  ...overrides,
});
const pending = async (streamName: string, durable: string) => {
  const info = await jsm.consumers.info(streamName, durable);
  return info.num_pending + info.num_ack_pending;
};

describe('nats credential type', () => {
  const services = { outbound } as unknown as RuntimeServices;
  const test = (fields = natsFields()) => natsCredential.test!(fields, services, new AbortController().signal);

  it('connects, naming the server version and JetStream', async () => {
    expect(await test()).toEqual({ ok: true, message: expect.stringMatching(/^connected to NATS 2\.\d+\.\d+ at flowcrew@127\.0\.0\.1:4222 \(JetStream on\)$/) });
  });

  it('says the authorization failed for a wrong password, without the password', async () => {
    const result = await test(natsFields({ password: 'wrong-secret-42' }));
    expect(result).toMatchObject({ ok: false, message: expect.stringMatching(/^NATS flowcrew@127\.0\.0\.1:4222: connect failed: .*[Aa]uthorization/) });
    expect(result.message).not.toContain('wrong-secret-42');
  });

  it('fails fast, naming host and port, where nothing listens', async () => {
    expect(await test(natsFields({ port: 9 }))).toMatchObject({ ok: false, message: expect.stringMatching(/^NATS flowcrew@127\.0\.0\.1:9: connect failed: /) });
  });
});

describe('nats publish', () => {
  it('publishes (core), asks (request/reply), and names the subject when nobody answers', async () => {
    const subject = `flowcrew.test.${run}.rpc`;
    const sub = nc.subscribe(subject);
    void (async () => {
      for await (const m of sub) m.respond(JSON.stringify({ echo: m.json(), header: m.headers?.get('tenant') }));
    })();
    await nc.flush();
    const asker = await createTestNode(natsPublishNode, { subject, mode: 'request', timeoutMs: 2000, replyAs: 'auto' }, credential());
    const [out] = await asker.input({ payload: { q: 1 }, headers: { tenant: 'acme' } });
    expect(out!.msg.payload).toEqual({ echo: { q: 1 }, header: 'acme' });
    sub.unsubscribe();
    await nc.flush(); // the server must have processed the UNSUB, or it still routes the request to the dropped subscriber
    await expect(asker.input({ payload: 1, topic: 'nobody.listens' })).rejects.toThrow(/^NATS flowcrew@127\.0\.0\.1:4222: request on "flowcrew\.test\.[0-9a-f]+\.rpc" failed: .*no responders/);
    await asker.stop();
  });

  it('stores JetStream publishes, a retried step once (its message id), and fails when no stream captures the subject', async () => {
    const s = await stream('pub');
    const publisher = await createTestNode(natsPublishNode, { subject: `${s}.orders`, mode: 'jetstream', timeoutMs: 2000 }, credential());
    const [first] = await publisher.input({ payload: { id: 1 } }, { invocationId: 'inv-order' });
    expect(first!.msg.nats).toEqual({ subject: `${s}.orders`, stream: s, seq: 1, duplicate: false });
    const [again] = await publisher.input({ payload: { id: 1 } }, { invocationId: 'inv-order' }); // the same step replayed: same idempotency key
    expect(again!.msg.nats).toMatchObject({ seq: 1, duplicate: true });
    expect((await jsm.streams.info(s)).state.messages).toBe(1);
    const lost = await createTestNode(natsPublishNode, { subject: `no.stream.${run}`, mode: 'jetstream', timeoutMs: 2000 }, credential());
    await expect(lost.input({ payload: 1 })).rejects.toThrow(new RegExp(`^NATS flowcrew@127\\.0\\.0\\.1:4222: JetStream publish to "no\\.stream\\.${run}" failed: `));
    await lost.stop();
    await publisher.stop();
  });
});

describe('nats JetStream consume', () => {
  it('turns stream messages into runs, acknowledged after commit; an acknowledged message is not delivered again', async () => {
    const s = await stream('basic');
    const props = consumeProps(s);
    const consumer = await createTestNode(natsConsumeNode, props, credential());
    await consumer.start();
    const publisher = await createTestNode(natsPublishNode, { subject: `${s}.a`, mode: 'jetstream', timeoutMs: 2000 }, credential());
    await publisher.input({ payload: { n: 1 }, headers: { tenant: 'acme' } });
    const msg = await until(() => consumer.emitted[0]?.msg);
    expect(msg).toMatchObject({ payload: { n: 1 }, topic: `${s}.a`, headers: { tenant: 'acme' }, nats: { stream: s, seq: 1, deliveries: 1, redelivered: false } });
    await until(async () => ((await pending(s, props.durable!)) === 0 ? true : undefined));
    await consumer.stop();
    await publisher.stop();
    const later = await createTestNode(natsConsumeNode, props, credential());
    await later.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(later.emitted).toHaveLength(0);
    await later.stop();
  });

  it('delivers again, after the ack wait, the message of a consumer killed before its run was committed', async () => {
    const s = await stream('crash');
    const props = consumeProps(s, { ackWaitSeconds: 2, payloadAs: 'json' });
    const crashing = startCrashConsumer('nats-consume', { ...props }, natsFields());
    try {
      await crashing.line('started');
      nc.publish(`${s}.x`, '{"n":1}');
      expect(await crashing.line('received')).toBe('received {"n":1}');
    } finally {
      await crashing.kill();
    }
    const consumer = await createTestNode(natsConsumeNode, props, credential());
    await consumer.start();
    expect(await until(() => consumer.emitted[0]?.msg, 10_000)).toMatchObject({ payload: { n: 1 }, nats: { deliveries: 2, redelivered: true } });
    await until(async () => ((await pending(s, props.durable!)) === 0 ? true : undefined));
    await consumer.stop();
  });

  it('naks a message whose run could not be stored, dead-letters it after N, and a poison message at once', async () => {
    const s = await stream('dl');
    const deadSubject = `flowcrew.test.${run}.dead`;
    const dead = nc.subscribe(deadSubject);
    const deadLetters: Array<{ data: string; reason?: string; deliveries?: string }> = [];
    void (async () => {
      for await (const m of dead) deadLetters.push({ data: m.string(), reason: m.headers?.get('X-Flowcrew-Death-Reason'), deliveries: m.headers?.get('X-Flowcrew-Deliveries') });
    })();
    await nc.flush();
    const props = consumeProps(s, { maxDeliveries: 3, deadLetterSubject: deadSubject, payloadAs: 'json' });
    const consumer = await createTestNode(natsConsumeNode, props, {
      ...credential(),
      onEmit: async () => {
        throw new Error('storage is full');
      },
    });
    await consumer.start();
    nc.publish(`${s}.x`, '{"id":7}');
    nc.publish(`${s}.x`, 'not json');
    await until(() => (deadLetters.length >= 2 ? true : undefined), 10_000, 'two dead letters');
    expect(deadLetters.find((d) => d.data === '{"id":7}')).toEqual({ data: '{"id":7}', reason: 'delivery 3 of 3 failed: storage is full', deliveries: '3' });
    expect(deadLetters.find((d) => d.data === 'not json')!.reason).toMatch(/^refused: the message is not JSON/);
    await until(async () => ((await pending(s, props.durable!)) === 0 ? true : undefined));
    expect(consumer.emitted.map((e) => (e.msg.nats as { deliveries: number }).deliveries)).toEqual([1, 2, 3]);
    dead.unsubscribe();
    await consumer.stop();
  });

  it('leaks no connection over 1,000 publishes and a redeploy, and closes it on undeploy', async () => {
    const s = await stream('leak');
    const baseline = await waitForConnections(NATS_PORT, 1); // the test's own connection
    for (let deploy = 0; deploy < 2; deploy++) {
      const nodes = await Promise.all([1, 2].map(() => createTestNode(natsPublishNode, { subject: `${s}.x`, mode: 'jetstream', timeoutMs: 2000 }, { credentials: natsFields(), credential: { id: 'leak' } })));
      for (let i = 0; i < 500; i++) await nodes[i % 2]!.input({ payload: i }, { attempt: deploy * 1000 + i + 1 });
      expect(await waitForConnections(NATS_PORT, baseline + 1)).toBe(baseline + 1);
      for (const n of nodes) await n.stop();
      expect(await waitForConnections(NATS_PORT, baseline)).toBe(baseline);
    }
    expect((await jsm.streams.info(s)).state.messages).toBe(1000);
  });
});
