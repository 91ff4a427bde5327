/**
 * Message-queue connector figures (printed, never asserted): messages/s through consume → transform → publish with
 * durability on, beside the raw client library doing the same work in a plain script in the same run.
 *   - raw amqplib: a consumer (prefetch P) that parses the JSON, adds a field, publishes it on a confirm channel
 *     (persistent), waits for the confirm, then acks the input: the same guarantees, without a workflow engine;
 *   - the flow: rabbitmq-consume → change → rabbitmq-publish in a real runtime (SQLite storage in a temp dir):
 *     every message is a durable run, acked only after its run is committed, published with a confirm.
 *   - Kafka: raw @platformatic/kafka (a consumer-group member that parses, adds a field, produces with acks=all,
 *     then commits the offset, one record at a time) vs kafka-consume → change → kafka-produce in a runtime
 *     (offset committed only after the run is committed). Both timed until a reader has seen every output record.
 * Needs the brokers of `scripts/services rabbitmq kafka`.
 * Usage: node --import tsx bench/connectors-mq.ts [--messages 5000] [--prefetch 10] [--only rabbitmq|kafka]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import amqp, { type Channel } from 'amqplib';
import { Admin, Consumer, Producer } from '@platformatic/kafka';
import { loadConfig } from '../runtime/src/config.ts';
import { Runtime } from '../runtime/src/runtime.ts';
import { RABBIT_URL, rabbitFields } from '../nodes/mq/src/rabbitmq/testing.ts';
import { KAFKA_PORT, kafkaFields } from '../nodes/mq/src/kafka/testing.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : fallback;
};
const MESSAGES = option('messages', 5000);
const PREFETCH = option('prefetch', 10);
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const admin = await amqp.connect(RABBIT_URL);
const ch = await admin.createChannel();

async function freshQueues(tag: string): Promise<{ input: string; output: string }> {
  const input = `bench-${tag}-in-${process.pid}`;
  const output = `bench-${tag}-out-${process.pid}`;
  for (const q of [input, output]) {
    await ch.deleteQueue(q);
    await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  }
  const loader = await admin.createConfirmChannel();
  for (let i = 0; i < MESSAGES; i++) loader.sendToQueue(input, Buffer.from(JSON.stringify({ id: i, name: `order ${i}`, qty: i % 7 })), { persistent: true });
  await loader.waitForConfirms();
  await loader.close();
  return { input, output };
}

async function waitForCount(queue: string, expected: number): Promise<void> {
  for (;;) {
    if ((await ch.checkQueue(queue)).messageCount >= expected) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function cleanup(queues: { input: string; output: string }): Promise<void> {
  await ch.deleteQueue(queues.input);
  await ch.deleteQueue(queues.output);
}

// ---- raw amqplib ----
async function raw(): Promise<number> {
  const queues = await freshQueues('raw');
  const conn = await amqp.connect(RABBIT_URL);
  const consumeCh: Channel = await conn.createChannel();
  const publishCh = await conn.createConfirmChannel();
  await consumeCh.prefetch(PREFETCH);
  const started = performance.now();
  await consumeCh.consume(queues.input, (m) => {
    if (!m) return;
    const order = JSON.parse(m.content.toString()) as Record<string, unknown>;
    order.processed = true;
    publishCh.publish('', queues.output, Buffer.from(JSON.stringify(order)), { persistent: true, contentType: 'application/json' }, (error: unknown) => {
      if (error) consumeCh.nack(m, false, true);
      else consumeCh.ack(m);
    });
  });
  await waitForCount(queues.output, MESSAGES);
  const seconds = (performance.now() - started) / 1000;
  await conn.close();
  await cleanup(queues);
  return MESSAGES / seconds;
}

// ---- the flow in a durable runtime ----
async function flow(): Promise<number> {
  const queues = await freshQueues('flow');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-bench-mq-'));
  const runtime = await Runtime.create(loadConfig({ ...process.env, DATABASE_URL: '' }, { dataDir, flowsDir: null, logLevel: 'error', outboundAllow: ['127.0.0.1'] }), { loadExamples: false });
  const credential = await runtime.vault.save({ name: 'bench', type: 'rabbitmq', fields: rabbitFields() });
  await runtime.createFlow({
    id: 'bench-mq',
    name: 'bench mq',
    nodes: [
      { id: 'in', type: 'rabbitmq-consume', credentials: credential.id, props: { queue: queues.input, declare: false, prefetch: PREFETCH, payloadAs: 'json' }, wires: [['transform']] },
      { id: 'transform', type: 'change', props: { rules: [{ t: 'set', p: 'payload.processed', pt: 'msg', to: 'true', tot: 'bool' }] }, wires: [['out']] },
      { id: 'out', type: 'rabbitmq-publish', credentials: credential.id, props: { exchange: '', routingKey: queues.output, persistent: true } },
    ],
  });
  const started = performance.now();
  await runtime.deployFlow('bench-mq');
  await waitForCount(queues.output, MESSAGES);
  const seconds = (performance.now() - started) / 1000;
  await runtime.close();
  await rm(dataDir, { recursive: true, force: true });
  const sample = await ch.get(queues.output, { noAck: true });
  if (!sample || JSON.parse(sample.content.toString()).processed !== true) console.log('  !! the flow did not transform the messages');
  await cleanup(queues);
  return MESSAGES / seconds;
}

if (only !== 'kafka') {
  console.log(`RabbitMQ consume → transform → publish: ${fmt(MESSAGES)} persistent JSON messages, quorum queues, prefetch ${PREFETCH}, publisher confirms`);
  await raw(); // warm-up (broker, JIT)
  const rawRate = await raw();
  const flowRate = await flow();
  console.log(`  raw amqplib (ack after confirm)        ${fmt(rawRate).padStart(8)} msgs/s`);
  console.log(`  flow in a runtime (ack after commit)   ${fmt(flowRate).padStart(8)} msgs/s   ratio to raw ${(flowRate / rawRate).toFixed(2)}`);
}
await admin.close();

// ---- Kafka ----
const brokers = [`127.0.0.1:${KAFKA_PORT}`];
const kafkaAdmin = new Admin({ clientId: 'bench', bootstrapBrokers: brokers });

async function kafkaTopics(tag: string): Promise<{ input: string; output: string }> {
  const input = `bench-${tag}-in-${process.pid}`;
  const output = `bench-${tag}-out-${process.pid}`;
  await kafkaAdmin.createTopics({ topics: [input, output], partitions: 1, replicas: 1 });
  const producer = new Producer({ clientId: 'bench-loader', bootstrapBrokers: brokers, acks: -1 });
  for (let i = 0; i < MESSAGES; i += 500) {
    const messages = Array.from({ length: Math.min(500, MESSAGES - i) }, (_, j) => ({ topic: input, key: Buffer.from(String(i + j)), value: Buffer.from(JSON.stringify({ id: i + j, name: `order ${i + j}`, qty: (i + j) % 7 })) }));
    await producer.send({ messages });
  }
  await producer.close();
  return { input, output };
}

/** Resolves when a reader of its own has seen `count` records on `topic`. */
async function kafkaCount(topic: string, count: number): Promise<void> {
  const reader = new Consumer({ clientId: 'bench-reader', groupId: `bench-reader-${topic}`, bootstrapBrokers: brokers });
  const stream = await reader.consume({ topics: [topic], mode: 'earliest', autocommit: false });
  let seen = 0;
  for await (const _m of stream) if (++seen >= count) break;
  await stream.close();
  await reader.close(true);
}

async function kafkaRaw(): Promise<number> {
  const topics = await kafkaTopics('raw');
  const started = performance.now();
  const counted = kafkaCount(topics.output, MESSAGES);
  const consumer = new Consumer({ clientId: 'bench-raw', groupId: `bench-raw-${process.pid}`, bootstrapBrokers: brokers, sessionTimeout: 6000, heartbeatInterval: 500 });
  const producer = new Producer({ clientId: 'bench-raw', bootstrapBrokers: brokers, acks: -1 });
  const stream = await consumer.consume({ topics: [topics.input], mode: 'committed', fallbackMode: 'earliest', autocommit: false });
  let done = 0;
  for await (const m of stream) {
    const order = JSON.parse(m.value.toString()) as Record<string, unknown>;
    order.processed = true;
    await producer.send({ messages: [{ topic: topics.output, key: m.key, value: Buffer.from(JSON.stringify(order)) }] });
    await m.commit();
    if (++done >= MESSAGES) break;
  }
  await counted;
  const seconds = (performance.now() - started) / 1000;
  await stream.close();
  await consumer.close(true);
  await producer.close();
  await kafkaAdmin.deleteTopics({ topics: [topics.input, topics.output] });
  return MESSAGES / seconds;
}

async function kafkaFlow(): Promise<number> {
  const topics = await kafkaTopics('flow');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-bench-kafka-'));
  const runtime = await Runtime.create(loadConfig({ ...process.env, DATABASE_URL: '' }, { dataDir, flowsDir: null, logLevel: 'error', outboundAllow: ['127.0.0.1'] }), { loadExamples: false });
  const credential = await runtime.vault.save({ name: 'bench', type: 'kafka', fields: kafkaFields() });
  await runtime.createFlow({
    id: 'bench-kafka',
    name: 'bench kafka',
    nodes: [
      { id: 'in', type: 'kafka-consume', credentials: credential.id, props: { topics: [topics.input], groupId: `bench-flow-${process.pid}`, payloadAs: 'json' }, wires: [['transform']] },
      { id: 'transform', type: 'change', props: { rules: [{ t: 'set', p: 'payload.processed', pt: 'msg', to: 'true', tot: 'bool' }] }, wires: [['out']] },
      { id: 'out', type: 'kafka-produce', credentials: credential.id, props: { topic: topics.output } },
    ],
  });
  const started = performance.now();
  const counted = kafkaCount(topics.output, MESSAGES);
  await runtime.deployFlow('bench-kafka');
  await counted;
  const seconds = (performance.now() - started) / 1000;
  await runtime.close();
  await rm(dataDir, { recursive: true, force: true });
  await kafkaAdmin.deleteTopics({ topics: [topics.input, topics.output] });
  return MESSAGES / seconds;
}

if (only !== 'rabbitmq') {
  console.log(`Kafka consume → transform → produce: ${fmt(MESSAGES)} JSON records, 1 partition, acks=all, offsets committed after each record`);
  const rawRate = await kafkaRaw();
  const flowRate = await kafkaFlow();
  console.log(`  raw @platformatic/kafka (commit after produce)  ${fmt(rawRate).padStart(8)} msgs/s`);
  console.log(`  flow in a runtime (commit after run commit)     ${fmt(flowRate).padStart(8)} msgs/s   ratio to raw ${(flowRate / rawRate).toFixed(2)}`);
}
await kafkaAdmin.close();
