/**
 * The RabbitMQ nodes against the real broker `scripts/services` starts (Debian's rabbitmq-server): the credential
 * test, confirmed publishes, the consume trigger's ack-after-commit (a killed consumer's message is redelivered, a
 * committed one is not), redelivery, dead letters, poison messages, errors, and no connection leak.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Channel, ChannelModel } from 'amqplib';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import type { RuntimeServices } from '@flowcrew/sdk';
import { closeTestServices, createTestNode, setTestServiceDefaults } from '@flowcrew/sdk/testing';
import { startCrashConsumer } from '../shared/crash.ts';
import { openConnections, until, waitForConnections } from '../shared/testing.ts';
import { rabbitConsumeNode, type RabbitConsumeProps } from './consume.ts';
import { rabbitCredential } from './credential.ts';
import { rabbitPublishNode } from './publish.ts';
import { adminConnection, RABBIT_PORT, rabbitFields, uniqueName } from './testing.ts';

const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
setTestServiceDefaults({ outbound });

let admin: ChannelModel;
let ch: Channel;
const queues: string[] = [];
const exchanges: string[] = [];
beforeAll(async () => {
  admin = await adminConnection();
  ch = await admin.createChannel();
});
afterAll(async () => {
  await closeTestServices();
  for (const q of queues) await ch.deleteQueue(q).catch(() => undefined);
  for (const e of exchanges) await ch.deleteExchange(e).catch(() => undefined);
  await admin?.close();
  await outbound.close();
});

/** A queue of this test file (deleted after). */
function queueName(prefix = 'q') {
  const name = uniqueName(`flowcrew-test-${prefix}`);
  queues.push(name);
  return name;
}
let credentialSeq = 0;
const credential = () => ({ credentials: rabbitFields(), credential: { id: `rabbit-${++credentialSeq}` } });
const messageCount = async (queue: string) => (await ch.checkQueue(queue)).messageCount;

describe('rabbitmq credential type', () => {
  const services = { outbound } as unknown as RuntimeServices;
  const test = (fields = rabbitFields()) => rabbitCredential.test!(fields, services, new AbortController().signal);

  it('connects and names the server', async () => {
    expect(await test()).toEqual({ ok: true, message: expect.stringMatching(/^connected to RabbitMQ 3\.\d+\.\d+ at flowcrew@127\.0\.0\.1:5672$/) });
  });

  it('says the login was refused for a wrong password, without the password', async () => {
    const result = await test(rabbitFields({ password: 'wrong-secret-42' }));
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(/^RabbitMQ flowcrew@127\.0\.0\.1:5672: connect failed: .*ACCESS_REFUSED/);
    expect(result.message).not.toContain('wrong-secret-42');
  });

  it('fails fast, naming host and port, where nothing listens', async () => {
    expect(await test(rabbitFields({ port: 9 }))).toEqual({ ok: false, message: expect.stringMatching(/127\.0\.0\.1:9: connect failed: .*ECONNREFUSED/) });
  });

  it('is refused by the outbound guard for a destination the administrator did not allow', async () => {
    const strict = createOutboundGuard();
    try {
      const result = await rabbitCredential.test!(rabbitFields(), { outbound: strict } as unknown as RuntimeServices, new AbortController().signal);
      expect(result).toMatchObject({ ok: false, message: expect.stringMatching(/127\.0\.0\.1.*FLOWCREW_OUTBOUND_ALLOW/) });
    } finally {
      await strict.close();
    }
  });
});

describe('rabbitmq publish and consume', () => {
  it('publishes confirmed, persistent messages that the consume trigger turns into runs, acknowledged after commit', async () => {
    const queue = queueName();
    const consumer = await createTestNode(rabbitConsumeNode, { queue, declare: true, queueType: 'quorum', prefetch: 5, payloadAs: 'auto', maxDeliveries: 5, bindingKey: '#', deadLetterExchange: '', deadLetterRoutingKey: '' }, credential());
    await consumer.start();
    const publisher = await createTestNode(rabbitPublishNode, { exchange: '', routingKey: queue, persistent: true }, credential());
    const sent = await publisher.input({ payload: { order: 1 }, headers: { tenant: 'acme' } });
    expect(sent[0]!.msg.rabbitmq).toEqual({ exchange: '', routingKey: queue, messageId: 'run-1:n1:inv-1:1' });
    await publisher.input({ payload: 'plain text' });
    const emitted = await until(() => (consumer.emitted.length >= 2 ? consumer.emitted.map((e) => e.msg) : undefined));
    expect(emitted.map((m) => m.payload).sort()).toEqual([{ order: 1 }, 'plain text'].sort());
    const first = emitted.find((m) => typeof m.payload === 'object')!;
    expect(first).toMatchObject({ topic: queue, headers: { tenant: 'acme' }, rabbitmq: { queue, redelivered: false, deliveries: 1, contentType: 'application/json' } });
    await until(async () => ((await messageCount(queue)) === 0 ? true : undefined));
    await consumer.stop();
    await publisher.stop();
    // Acknowledged: nothing left for the next consumer.
    expect(await messageCount(queue)).toBe(0);
  });

  it('redelivers the message of a consumer killed before its run was committed, and not one whose run was', async () => {
    const queue = queueName('crash');
    await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    const props: RabbitConsumeProps = { queue, declare: true, queueType: 'quorum', prefetch: 1, payloadAs: 'json', maxDeliveries: 5, bindingKey: '#', deadLetterExchange: '', deadLetterRoutingKey: '' };
    const crashing = startCrashConsumer('rabbitmq-consume', { ...props }, rabbitFields());
    try {
      await crashing.line('started');
      ch.sendToQueue(queue, Buffer.from('{"n":1}'), { persistent: true, messageId: 'm-1' });
      expect(await crashing.line('received')).toBe('received {"n":1}');
    } finally {
      await crashing.kill();
    }
    const consumer = await createTestNode(rabbitConsumeNode, props, credential());
    await consumer.start();
    const again = await until(() => consumer.emitted[0]?.msg);
    expect(again).toMatchObject({ payload: { n: 1 }, rabbitmq: { redelivered: true, deliveries: 2, messageId: 'm-1' } });
    await until(async () => ((await messageCount(queue)) === 0 ? true : undefined));
    await consumer.stop();
    // Committed and acknowledged: a new consumer gets nothing.
    const later = await createTestNode(rabbitConsumeNode, props, credential());
    await later.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(later.emitted).toHaveLength(0);
    await later.stop();
  });

  it('gives back a message whose run could not be stored, and acknowledges it once one is', async () => {
    const queue = queueName('retry');
    let calls = 0;
    const consumer = await createTestNode(
      rabbitConsumeNode,
      { queue, declare: true, queueType: 'classic', prefetch: 1, payloadAs: 'auto', maxDeliveries: 5, bindingKey: '#', deadLetterExchange: '', deadLetterRoutingKey: '' },
      {
        ...credential(),
        onEmit: async () => {
          if (++calls < 3) throw new Error('database is locked');
          return { runId: 'run-ok' };
        },
      },
    );
    await consumer.start();
    ch.sendToQueue(queue, Buffer.from('"x"'));
    await until(() => (calls >= 3 ? true : undefined));
    await until(async () => ((await messageCount(queue)) === 0 ? true : undefined));
    expect(consumer.emitted.map((e) => (e.msg.rabbitmq as { deliveries: number }).deliveries)).toEqual([1, 2, 3]);
    expect(consumer.logs.filter((l) => l.level === 'warn' && /not accepted \(delivery \d\): database is locked; redelivered in/.test(l.message))).toHaveLength(2);
    await consumer.stop();
  });

  it('dead-letters a message after N failed deliveries, with the reason, and a poison message at once', async () => {
    const queue = queueName('dl');
    const dlx = uniqueName('flowcrew-test-dlx');
    exchanges.push(dlx);
    const dlq = queueName('dlq');
    await ch.assertExchange(dlx, 'fanout', { durable: false });
    await ch.assertQueue(dlq, { durable: false });
    await ch.bindQueue(dlq, dlx, '');
    const consumer = await createTestNode(
      rabbitConsumeNode,
      { queue, declare: true, queueType: 'quorum', prefetch: 2, payloadAs: 'json', maxDeliveries: 3, bindingKey: '#', deadLetterExchange: dlx, deadLetterRoutingKey: '' },
      {
        ...credential(),
        onEmit: async () => {
          throw new Error('storage is full');
        },
      },
    );
    await consumer.start();
    ch.sendToQueue(queue, Buffer.from('{"id":7}'), { messageId: 'keeps-failing' });
    ch.sendToQueue(queue, Buffer.from('{not json'), { messageId: 'poison' });
    const dead = [];
    for (let i = 0; i < 2; i++) {
      const got = await until(async () => (await ch.get(dlq, { noAck: true })) || undefined);
      dead.push(got);
    }
    const poison = dead.find((m) => m.properties.messageId === 'poison')!;
    expect(poison.content.toString()).toBe('{not json');
    expect(poison.properties.headers!['x-flowcrew-death-reason']).toMatch(/^refused: the message is not JSON .*first bytes: "\{not json"/);
    expect(poison.properties.headers!['x-flowcrew-deliveries']).toBe(1);
    const failing = dead.find((m) => m.properties.messageId === 'keeps-failing')!;
    expect(failing.properties.headers).toMatchObject({ 'x-flowcrew-death-reason': 'delivery 3 of 3 failed: storage is full', 'x-flowcrew-deliveries': 3, 'x-flowcrew-queue': queue });
    await until(async () => ((await messageCount(queue)) === 0 ? true : undefined));
    // The poison message never reached emit; the other one was tried three times.
    expect(consumer.emitted.map((e) => e.msg.payload)).toEqual([{ id: 7 }, { id: 7 }, { id: 7 }]);
    await consumer.stop();
  });

  it('names the exchange and what the broker said when a publish is refused, and recovers for the next one', async () => {
    const queue = queueName('after');
    await ch.assertQueue(queue, { durable: false });
    const publisher = await createTestNode(rabbitPublishNode, { exchange: 'no-such-exchange', routingKey: 'k', persistent: true }, credential());
    await expect(publisher.input({ payload: 1 })).rejects.toThrow(/^RabbitMQ flowcrew@127\.0\.0\.1:5672: publish to exchange "no-such-exchange" with routing key "k" failed: .*NOT_FOUND - no exchange 'no-such-exchange'/);
    await publisher.stop();
    const good = await createTestNode(rabbitPublishNode, { exchange: '', routingKey: queue, persistent: false }, { credentials: rabbitFields(), credential: { id: 'shared-after' } });
    await good.input({ payload: 2 });
    expect(await messageCount(queue)).toBe(1);
    await good.stop();
  });

  it('consumes again with the new fields when the credential is edited', async () => {
    const queue = queueName('cred');
    const consumer = await createTestNode(rabbitConsumeNode, { queue, declare: true, queueType: 'classic', prefetch: 1, payloadAs: 'text', maxDeliveries: 5, bindingKey: '#', deadLetterExchange: '', deadLetterRoutingKey: '' }, credential());
    await consumer.start();
    consumer.changeCredential(rabbitFields({ heartbeatSeconds: 10 }));
    await until(() => (consumer.statuses.filter((s) => s.text === `consuming ${queue}`).length >= 2 ? true : undefined));
    ch.sendToQueue(queue, Buffer.from('after edit'));
    expect((await until(() => consumer.emitted[0]?.msg)).payload).toBe('after edit');
    await consumer.stop();
  });

  it('leaks no connection over 1,000 publishes and a redeploy, and closes it on undeploy', async () => {
    const queue = queueName('leak');
    await ch.assertQueue(queue, { durable: false });
    const baseline = await waitForConnections(RABBIT_PORT, 1); // the test's own admin connection (earlier nodes closed)
    for (let deploy = 0; deploy < 2; deploy++) {
      const nodes = await Promise.all([1, 2].map(() => createTestNode(rabbitPublishNode, { exchange: '', routingKey: queue, persistent: false }, { credentials: rabbitFields(), credential: { id: 'leak' } })));
      for (let i = 0; i < 500; i++) await nodes[i % 2]!.input({ payload: { i } });
      // Two nodes with one credential share one connection.
      expect(await openConnections(RABBIT_PORT)).toBe(baseline + 1);
      for (const n of nodes) await n.stop();
      expect(await waitForConnections(RABBIT_PORT, baseline)).toBe(baseline);
    }
    expect(await messageCount(queue)).toBe(1000);
    // The consumer of those 1,000, redeployed twice while it works: its connection goes with it each time.
    let taken = 0;
    for (let deploy = 0; deploy < 3; deploy++) {
      const consumer = await createTestNode(rabbitConsumeNode, { queue, declare: false, prefetch: 50, payloadAs: 'auto', maxDeliveries: 5, deadLetterExchange: '', deadLetterRoutingKey: '' }, { credentials: rabbitFields(), credential: { id: 'leak-consumer' } });
      await consumer.start();
      // Stopped while it works (the first deploys), then left to finish (the last).
      await until(() => (consumer.emitted.length >= (deploy < 2 ? Math.min(100, 1000 - taken) : 1000 - taken) ? true : undefined));
      expect(await openConnections(RABBIT_PORT)).toBe(baseline + 1);
      await consumer.stop();
      taken += consumer.emitted.length;
      expect(consumer.logs.filter((l) => l.level === 'error')).toEqual([]);
      expect(await waitForConnections(RABBIT_PORT, baseline)).toBe(baseline);
    }
    // Acknowledged only what became runs: nothing lost, nothing left (a message taken at a stop may come twice).
    expect(taken).toBeGreaterThanOrEqual(1000);
    expect(await messageCount(queue)).toBe(0);
  });
});
