/**
 * The Kafka nodes against the real single-node KRaft broker `scripts/services kafka` starts (Apache Kafka from the
 * Maven Central jars): the credential test, keyed/batched produce with headers, the consumer group committing an
 * offset only after the run is committed, retries, dead letters, poison records, no connection leak (the crash test
 * is kafka-crash.test.ts: a group rebalance after a killed member takes most of the file's time budget).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Consumer, type Admin } from '@platformatic/kafka';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import type { RuntimeServices } from '@flowcrew/sdk';
import { closeTestServices, createTestNode, setTestServiceDefaults } from '@flowcrew/sdk/testing';
import { openConnections, until, waitForConnections } from '../shared/testing.ts';
import { kafkaConsumeNode } from './consume.ts';
import type { KafkaConsumeProps } from './consume-props.ts';
import { kafkaCredential } from './credential.ts';
import { kafkaProduceNode } from './produce.ts';
import { adminKafka, KAFKA_PORT, kafkaFields } from './testing.ts';

const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
setTestServiceDefaults({ outbound });

const run = randomBytes(4).toString('hex');
let admin: Admin;
const topics: string[] = [];
beforeAll(async () => {
  admin = adminKafka();
});
afterAll(async () => {
  await closeTestServices();
  if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.close();
  await outbound.close();
});

async function topic(name: string) {
  const t = `flowcrew-test-${run}-${name}`;
  topics.push(t);
  await admin.createTopics({ topics: [t], partitions: 1, replicas: 1 });
  return t;
}
let seq = 0;
const credential = () => ({ credentials: kafkaFields(), credential: { id: `kafka-${++seq}` } });
const consumeProps = (t: string, overrides: Partial<KafkaConsumeProps> = {}): KafkaConsumeProps => ({ topics: [t], groupId: `g-${run}-${++seq}`, fromBeginning: true, payloadAs: 'auto', maxDeliveries: 5, deadLetterTopic: '', ...overrides });

/** Everything on topic `t` from the start, read by a consumer of the test's own. */
async function readAll(t: string, count: number) {
  const consumer = new Consumer({ clientId: 'flowcrew-test-reader', groupId: `reader-${run}-${++seq}`, bootstrapBrokers: [`127.0.0.1:${KAFKA_PORT}`] });
  const stream = await consumer.consume({ topics: [t], mode: 'earliest', autocommit: false });
  const got: Array<{ key?: string; value: string; headers: Record<string, string> }> = [];
  for await (const m of stream) {
    got.push({ key: m.key?.toString(), value: m.value.toString(), headers: Object.fromEntries([...m.headers].map(([k, v]) => [k.toString(), v.toString()])) });
    if (got.length >= count) break;
  }
  await stream.close();
  await consumer.close(true);
  return got;
}

describe('kafka credential type', () => {
  const services = { outbound } as unknown as RuntimeServices;
  it('connects and names the cluster', async () => {
    expect(await kafkaCredential.test!(kafkaFields(), services, new AbortController().signal)).toEqual({ ok: true, message: expect.stringMatching(/^connected to Kafka cluster \S+ at 127\.0\.0\.1:9092 \(1 broker\)$/) });
  });
  it('refuses a cluster that advertises a broker the outbound guard does not allow (bootstrap by an allowed name, advertised 127.0.0.1)', async () => {
    const byName = createOutboundGuard({ allow: [`localhost:${KAFKA_PORT}`] });
    try {
      const result = await kafkaCredential.test!(kafkaFields({ brokers: [`localhost:${KAFKA_PORT}`] }), { outbound: byName } as unknown as RuntimeServices, new AbortController().signal);
      expect(result).toMatchObject({ ok: false, message: expect.stringContaining(`the cluster advertises broker 127.0.0.1:${KAFKA_PORT}, which the outbound guard refuses`) });
      const producer = await createTestNode(kafkaProduceNode, { topic: 'never-written' }, { credentials: kafkaFields({ brokers: [`localhost:${KAFKA_PORT}`] }), credential: { id: 'kafka-advertised' }, services: { outbound: byName } });
      await expect(producer.input({ payload: 1 })).rejects.toThrow(/advertises broker 127\.0\.0\.1:\d+, which the outbound guard refuses/);
      await producer.stop();
    } finally {
      await byName.close();
    }
  });
  it('fails, naming the broker, where nothing listens', async () => {
    expect(await kafkaCredential.test!(kafkaFields({ brokers: ['127.0.0.1:9'] }), services, new AbortController().signal)).toMatchObject({ ok: false, message: expect.stringMatching(/^Kafka 127\.0\.0\.1:9: connection test failed: /) });
  });
});

describe('kafka produce and consume', () => {
  it('produces keyed records and batches with headers; the consumer group starts a run per record', async () => {
    const t = await topic('basic');
    const producer = await createTestNode(kafkaProduceNode, { topic: t, batch: false, keyFrom: 'key' }, credential());
    const [one] = await producer.input({ payload: { id: 1 }, key: 'order-1', headers: { tenant: 'acme' } });
    expect(one!.msg.kafka).toEqual({ topic: t, records: 1, offsets: [{ partition: 0, offset: '0' }] });
    await producer.stop();
    const batcher = await createTestNode(kafkaProduceNode, { topic: t, batch: true, keyFrom: 'key' }, credential());
    const [many] = await batcher.input({ payload: [{ key: 'k2', value: 'two', headers: { n: 2 } }, 'three'] });
    expect((many!.msg.kafka as { records: number }).records).toBe(2);
    await batcher.stop();
    expect(await readAll(t, 3)).toEqual([
      { key: 'order-1', value: '{"id":1}', headers: { tenant: 'acme' } },
      { key: 'k2', value: 'two', headers: { n: '2' } },
      { key: undefined, value: 'three', headers: {} },
    ]);
    const consumer = await createTestNode(kafkaConsumeNode, consumeProps(t), credential());
    await consumer.start();
    const emitted = await until(() => (consumer.emitted.length >= 3 ? consumer.emitted.map((e) => e.msg) : undefined), 15_000);
    expect(emitted[0]).toMatchObject({ payload: { id: 1 }, key: 'order-1', topic: t, headers: { tenant: 'acme' }, kafka: { partition: 0, offset: '0', deliveries: 1 } });
    expect(emitted.map((m) => m.payload)).toEqual([{ id: 1 }, 'two', 'three']);
    await consumer.stop();
  });

  it('tries a record whose run could not be stored again, then dead-letters it; a poison record at once', async () => {
    const t = await topic('dl');
    const dlt = await topic('dead');
    const producer = await createTestNode(kafkaProduceNode, { topic: t, batch: true, keyFrom: 'key' }, credential());
    await producer.input({ payload: [{ key: 'a', value: { id: 7 } }, { key: 'b', value: 'not json' }] });
    await producer.stop();
    let calls = 0;
    const consumer = await createTestNode(kafkaConsumeNode, consumeProps(t, { maxDeliveries: 3, deadLetterTopic: dlt, payloadAs: 'json' }), {
      ...credential(),
      onEmit: async () => {
        calls++;
        throw new Error('storage is full');
      },
    });
    await consumer.start();
    const dead = await readAll(dlt, 2);
    expect(dead[0]).toMatchObject({ key: 'a', value: '{"id":7}', headers: { 'x-flowcrew-death-reason': 'delivery 3 of 3 failed: storage is full', 'x-flowcrew-deliveries': '3', 'x-flowcrew-origin': `${t}[0]@0` } });
    expect(dead[1]!.headers['x-flowcrew-death-reason']).toMatch(/^refused: the message is not JSON/);
    expect(calls).toBe(3);
    await consumer.stop();
  });

  it('leaks no connection over 1,000 produced records and a redeploy', async () => {
    const t = await topic('leak');
    const baseline = await openConnections(KAFKA_PORT); // the test's admin client
    let highest = 0;
    for (let deploy = 0; deploy < 2; deploy++) {
      const nodes = await Promise.all([1, 2].map(() => createTestNode(kafkaProduceNode, { topic: t, batch: false, keyFrom: 'key' }, { credentials: kafkaFields(), credential: { id: 'leak' } })));
      for (let i = 0; i < 500; i++) await nodes[i % 2]!.input({ payload: i });
      highest = Math.max(highest, (await openConnections(KAFKA_PORT)) - baseline);
      for (const n of nodes) await n.stop();
      expect(await waitForConnections(KAFKA_PORT, baseline)).toBe(baseline);
    }
    // One shared producer: its bootstrap and broker connections, not one per node or per record.
    expect(highest).toBeLessThanOrEqual(2);
  });
});
