/**
 * Message-queue connector figures (printed, never asserted): messages/s through consume → transform → publish with
 * durability on, beside the raw client library doing the same work in a plain script in the same run.
 *   - raw amqplib: a consumer (prefetch P) that parses the JSON, adds a field, publishes it on a confirm channel
 *     (persistent), waits for the confirm, then acks the input: the same guarantees, without a workflow engine;
 *   - the flow: rabbitmq-consume → change → rabbitmq-publish in a real runtime (SQLite storage in a temp dir):
 *     every message is a durable run, acked only after its run is committed, published with a confirm.
 * Needs the RabbitMQ broker of `scripts/services rabbitmq`.
 * Usage: node --import tsx bench/connectors-mq.ts [--messages 5000] [--prefetch 10]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import amqp, { type Channel } from 'amqplib';
import { loadConfig } from '../runtime/src/config.ts';
import { Runtime } from '../runtime/src/runtime.ts';
import { RABBIT_URL, rabbitFields } from '../nodes/mq/src/rabbitmq/testing.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : fallback;
};
const MESSAGES = option('messages', 5000);
const PREFETCH = option('prefetch', 10);
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

console.log(`RabbitMQ consume → transform → publish: ${fmt(MESSAGES)} persistent JSON messages, quorum queues, prefetch ${PREFETCH}, publisher confirms`);
await raw(); // warm-up (broker, JIT)
const rawRate = await raw();
const flowRate = await flow();
console.log(`  raw amqplib (ack after confirm)        ${fmt(rawRate).padStart(8)} msgs/s`);
console.log(`  flow in a runtime (ack after commit)   ${fmt(flowRate).padStart(8)} msgs/s   ratio to raw ${(flowRate / rawRate).toFixed(2)}`);
await admin.close();
