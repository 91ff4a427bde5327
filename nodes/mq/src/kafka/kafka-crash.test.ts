/**
 * The Kafka consume trigger's durability against the real KRaft broker: a consumer killed (SIGKILL) before its run
 * was committed leaves the offset uncommitted, so the group delivers the record again; once committed, it does not.
 * A file of its own: the group waits out the killed member's session (6 s) before it rebalances.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin } from '@platformatic/kafka';
import { startCrashConsumer } from '../shared/crash.ts';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import { closeTestServices, createTestNode, setTestServiceDefaults } from '@flowcrew/sdk/testing';
import { until } from '../shared/testing.ts';
import { kafkaConsumeNode } from './consume.ts';
import type { KafkaConsumeProps } from './consume-props.ts';
import { kafkaProduceNode } from './produce.ts';
import { adminKafka, kafkaFields } from './testing.ts';

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
describe('kafka consume durability', () => {
  it('delivers again the record of a consumer killed before its run was committed, and not one whose offset was committed', async () => {
    const t = await topic('crash');
    const props = consumeProps(t, { payloadAs: 'json' });
    const crashing = startCrashConsumer('kafka-consume', { ...props }, kafkaFields());
    try {
      await crashing.line('started');
      const producer = await createTestNode(kafkaProduceNode, { topic: t, batch: false, keyFrom: 'key' }, credential());
      await producer.input({ payload: { n: 1 } });
      await producer.stop();
      expect(await crashing.line('received', 20_000)).toBe('received {"n":1}');
    } finally {
      await crashing.kill();
    }
    const consumer = await createTestNode(kafkaConsumeNode, props, credential());
    await consumer.start();
    expect(await until(() => consumer.emitted[0]?.msg, 20_000)).toMatchObject({ payload: { n: 1 }, kafka: { offset: '0' } });
    await new Promise((resolve) => setTimeout(resolve, 300)); // its commit
    await consumer.stop();
    const later = await createTestNode(kafkaConsumeNode, props, credential());
    await later.start();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(later.emitted).toHaveLength(0);
    await later.stop();
  });

});
