/**
 * The MQTT nodes against the real broker `scripts/services` starts (Debian's mosquitto 2, MQTT 5): the credential
 * test, QoS 0/1/2 and retained publishes, the subscribe trigger's PUBACK after commit (a killed subscriber's
 * message comes again, an acknowledged one does not), redelivery, dead letters, poison messages, no connection leak.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import type { RuntimeServices } from '@flowcrew/sdk';
import { closeTestServices, createTestNode, setTestServiceDefaults } from '@flowcrew/sdk/testing';
import { startCrashConsumer } from '../shared/crash.ts';
import { until, waitForConnections } from '../shared/testing.ts';
import { mqttCredential } from './credential.ts';
import { mqttPublishNode } from './publish.ts';
import { mqttSubscribeNode } from './subscribe.ts';
import type { MqttSubscribeProps } from './subscribe-props.ts';
import { adminClient, MQTT_PORT, mqttFields } from './testing.ts';

const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
setTestServiceDefaults({ outbound });

const run = randomBytes(4).toString('hex');
const topicOf = (name: string) => `flowcrew-test/${run}/${name}`;
let admin: MqttClient;
beforeAll(async () => {
  admin = await adminClient();
});
afterAll(async () => {
  await closeTestServices();
  await admin?.endAsync();
  await outbound.close();
});

let seq = 0;
const credential = () => ({ credentials: mqttFields(), credential: { id: `mqtt-${++seq}` } });
const subscribeProps = (topic: string, overrides: Partial<MqttSubscribeProps> = {}): MqttSubscribeProps => ({
  topic,
  qos: 1,
  clientId: `flowcrew-test-${run}-${++seq}`,
  sessionExpirySeconds: 60,
  payloadAs: 'auto',
  maxDeliveries: 5,
  deadLetterTopic: '',
  ...overrides,
});

/** Messages arriving at the test's own client on `topic`. */
async function collect(topic: string) {
  const got: Array<{ topic: string; payload: string; retain: boolean; userProperties?: Record<string, unknown> }> = [];
  admin.on('message', (t, payload, packet) => {
    if (t === topic || topic.endsWith('#')) got.push({ topic: t, payload: payload.toString(), retain: packet.retain, userProperties: packet.properties?.userProperties as Record<string, unknown> });
  });
  await admin.subscribeAsync(topic, { qos: 1 });
  return got;
}

describe('mqtt credential type', () => {
  const services = { outbound } as unknown as RuntimeServices;
  const test = (fields = mqttFields()) => mqttCredential.test!(fields, services, new AbortController().signal);

  it('connects and names the broker', async () => {
    expect(await test()).toEqual({ ok: true, message: 'connected to the MQTT broker at flowcrew@127.0.0.1:1883 (MQTT 5)' });
  });

  it('says the user name or password is wrong, without the password', async () => {
    const result = await test(mqttFields({ password: 'wrong-secret-42' }));
    expect(result).toMatchObject({ ok: false, message: expect.stringMatching(/^MQTT flowcrew@127\.0\.0\.1:1883: connect failed: .*(Bad User Name or Password|Not authorized)/) });
    expect(result.message).not.toContain('wrong-secret-42');
  });

  it('fails fast, naming host and port, where nothing listens', async () => {
    expect(await test(mqttFields({ port: 9 }))).toEqual({ ok: false, message: expect.stringMatching(/127\.0\.0\.1:9: connect failed: .*ECONNREFUSED/) });
  });
});

describe('mqtt publish and subscribe', () => {
  it('publishes with QoS 0, 1 and 2 and retain; the subscriber turns them into runs with topic and QoS', async () => {
    const topic = topicOf('basic');
    const subscriber = await createTestNode(mqttSubscribeNode, subscribeProps(`${topicOf('basic')}/#`, { qos: 2 }), credential());
    await subscriber.start();
    for (const qos of [0, 1, 2] as const) {
      const publisher = await createTestNode(mqttPublishNode, { topic: `${topic}/q${qos}`, qos, retain: false }, credential());
      const out = await publisher.input({ payload: { qos } });
      expect(out[0]!.msg.mqtt).toEqual({ topic: `${topic}/q${qos}`, qos, retain: false });
      await publisher.stop();
    }
    const emitted = await until(() => (subscriber.emitted.length >= 3 ? subscriber.emitted.map((e) => e.msg) : undefined));
    expect(emitted.map((m) => [m.topic, m.payload, m.qos]).sort()).toEqual([
      [`${topic}/q0`, { qos: 0 }, 0],
      [`${topic}/q1`, { qos: 1 }, 1],
      [`${topic}/q2`, { qos: 2 }, 2],
    ]);
    await subscriber.stop();
    // Retained: a later subscriber gets the last one at once.
    const retained = await createTestNode(mqttPublishNode, { topic: `${topic}/state`, qos: 1, retain: true }, credential());
    await retained.input({ payload: 'on' });
    await retained.stop();
    const got = await collect(`${topic}/state`);
    expect((await until(() => got[0])).retain).toBe(true);
    expect(got[0]!.payload).toBe('on');
    await admin.publishAsync(`${topic}/state`, '', { qos: 1, retain: true }); // clear it
  });

  it('sends a killed subscriber its unacknowledged message again, and not one whose run was committed', async () => {
    const topic = topicOf('crash');
    const props = subscribeProps(topic, { payloadAs: 'json' });
    const crashing = startCrashConsumer('mqtt-subscribe', { ...props }, mqttFields());
    try {
      await crashing.line('started');
      await admin.publishAsync(topic, '{"n":1}', { qos: 1 });
      expect(await crashing.line('received')).toBe('received {"n":1}');
    } finally {
      await crashing.kill();
    }
    const subscriber = await createTestNode(mqttSubscribeNode, props, credential());
    await subscriber.start();
    expect(await until(() => subscriber.emitted[0]?.msg)).toMatchObject({ payload: { n: 1 }, mqtt: { dup: true } });
    await subscriber.stop();
    const later = await createTestNode(mqttSubscribeNode, props, credential());
    await later.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(later.emitted).toHaveLength(0);
    await later.stop();
  });

  it('does not acknowledge a message whose run could not be stored: it comes again, then is dead-lettered after N', async () => {
    const topic = topicOf('dl');
    const dead = await collect(topicOf('dead'));
    let calls = 0;
    const subscriber = await createTestNode(mqttSubscribeNode, subscribeProps(topic, { maxDeliveries: 3, deadLetterTopic: topicOf('dead'), payloadAs: 'json' }), {
      ...credential(),
      onEmit: async () => {
        calls++;
        throw new Error('storage is full');
      },
    });
    await subscriber.start();
    await admin.publishAsync(topic, '{"id":7}', { qos: 1 });
    await admin.publishAsync(topic, 'not json', { qos: 1 });
    await until(() => (dead.length >= 2 ? true : undefined), 15_000, 'two dead letters');
    const failing = dead.find((d) => d.payload === '{"id":7}')!;
    expect(failing.userProperties).toMatchObject({ 'x-flowcrew-death-reason': 'delivery 3 of 3 failed: storage is full', 'x-flowcrew-deliveries': '3', 'x-flowcrew-topic': topic });
    const poison = dead.find((d) => d.payload === 'not json')!;
    expect(poison.userProperties!['x-flowcrew-death-reason']).toMatch(/^refused: the message is not JSON/);
    expect(calls).toBe(3);
    expect(subscriber.emitted.map((e) => (e.msg.mqtt as { dup: boolean }).dup)).toEqual([false, true, true]);
    await subscriber.stop();
  });

  it('names the topic when a publish is impossible, and leaks no connection over 1,000 publishes and a redeploy', async () => {
    const bad = await createTestNode(mqttPublishNode, { topic: 'a/+/b', qos: 1, retain: false }, credential());
    await expect(bad.input({ payload: 1 })).rejects.toThrow('MQTT flowcrew@127.0.0.1:1883: publish to "a/+/b" (QoS 1) failed: a topic to publish to cannot contain the wildcards + or #');
    await bad.stop();
    const baseline = await waitForConnections(MQTT_PORT, 1); // the test's own client
    const topic = topicOf('leak');
    const got = await collect(topic);
    for (let deploy = 0; deploy < 2; deploy++) {
      const nodes = await Promise.all([1, 2].map(() => createTestNode(mqttPublishNode, { topic, qos: 1, retain: false }, { credentials: mqttFields(), credential: { id: 'leak' } })));
      for (let i = 0; i < 500; i++) await nodes[i % 2]!.input({ payload: i });
      expect(await waitForConnections(MQTT_PORT, baseline + 1)).toBe(baseline + 1);
      for (const n of nodes) await n.stop();
      expect(await waitForConnections(MQTT_PORT, baseline)).toBe(baseline);
    }
    await until(() => (got.length >= 1000 ? true : undefined));
  });
});
