/**
 * One contract, two ways a run executes: in-process (an embedded runtime on PostgreSQL) and queued (a main accepting
 * into the outbox, a worker executing from BullMQ), on a real PostgreSQL and Redis. Each case starts runs the same
 * way (runNow on the runtime that accepts them) and checks what storage holds afterwards, so both must behave alike:
 * order along wires, fan-out, a failure failing the run with the node and its reason, a failure routed to an error
 * handler, a webhook reply reaching the waiting trigger, and each node recorded exactly once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { Runtime } from '../runtime.ts';
import type { RunRecord } from '../storage/types.ts';
import { QUEUE_NAME } from './worker.ts';
import { TEST_REDIS_DB } from '../testing/redis-databases.ts';

const pgUrl = process.env.FLOWCREW_TEST_DATABASE_URL ?? 'postgres://flowcrew:flowcrew@127.0.0.1:5432/flowcrew_test';
const REDIS_DB = TEST_REDIS_DB.dispatcherContract;
const redisUrl = `${process.env.FLOWCREW_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'}/${REDIS_DB}`;
let dir: string;
const schemas: string[] = [];

interface Cluster {
  /** Where runs are accepted. */
  entry: Runtime;
  close(): Promise<void>;
}

async function runtime(schema: string, mode: 'embedded' | 'main' | 'worker', name: string): Promise<Runtime> {
  const env = {
    ...process.env,
    DATABASE_URL: `${pgUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    FLOWCREW_MODE: mode,
    FLOWCREW_REDIS_URL: redisUrl,
    FLOWCREW_INSTANCE_ID: name,
    FLOWCREW_KEYRING_FILE: path.join(dir, `${schema}.keyring.json`),
    FLOWCREW_FLOWS_DIR: '',
  };
  const r = await Runtime.create(loadConfig(env, { dataDir: path.join(dir, `${schema}-${name}`), logLevel: 'error' }), { loadExamples: false });
  await r.resumeRuns();
  return r;
}

async function freshSchema(): Promise<string> {
  const schema = `contract_${randomBytes(3).toString('hex')}`;
  schemas.push(schema);
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
  return schema;
}

const setups: Array<[string, () => Promise<Cluster>]> = [
  [
    'in-process (embedded)',
    async () => {
      const r = await runtime(await freshSchema(), 'embedded', 'solo');
      return { entry: r, close: () => r.close() };
    },
  ],
  [
    'queued (main + worker)',
    async () => {
      const schema = await freshSchema();
      const main = await runtime(schema, 'main', 'main');
      const worker = await runtime(schema, 'worker', 'worker');
      return {
        entry: main,
        close: async () => {
          await worker.close();
          await main.close();
        },
      };
    },
  ],
];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-contract-'));
  const queue = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: 6379, db: REDIS_DB } });
  await queue.obliterate({ force: true });
  await queue.close();
});

afterAll(async () => {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
  await rm(dir, { recursive: true, force: true });
});

const setTo = (id: string, field: string, value: number, wires: string[][] = []) => ({ id, type: 'change', props: { rules: [{ t: 'set', p: `payload.${field}`, pt: 'msg', to: String(value), tot: 'num' }] }, wires });

describe.each(setups)('dispatcher contract: %s', (_name, setup) => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await setup();
  }, 60_000);
  afterAll(async () => cluster?.close());

  async function flow(id: string, nodes: unknown[]): Promise<void> {
    await cluster.entry.createFlow({ id, name: id, version: 0, nodes });
    await cluster.entry.deployFlow(id);
  }

  async function finished(runId: string): Promise<RunRecord> {
    for (;;) {
      const run = await cluster.entry.storage.getRun(runId);
      if (run && ['succeeded', 'failed', 'cancelled'].includes(run.status)) return run;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async function nodesRun(runId: string): Promise<string[]> {
    return (await cluster.entry.storage.listInvocations(runId)).map((i) => `${i.nodeId}:${i.status}`).sort();
  }

  it('runs a chain in order, each node once, and stores what the last node made', async () => {
    await flow('chain', [{ id: 'in', type: 'inject', wires: [['a']] }, setTo('a', 'a', 1, [['b']]), setTo('b', 'b', 2, [['c']]), setTo('c', 'c', 3)]);
    const { runId } = await cluster.entry.executor.runNow('chain', { payload: {} });
    expect((await finished(runId)).status).toBe('succeeded');
    const invocations = await cluster.entry.storage.listInvocations(runId);
    expect(invocations.map((i) => i.nodeId)).toEqual(['in', 'a', 'b', 'c']); // by seq: the order along the wires
    expect(invocations.at(-1)?.outputs?.[0]?.msg).toMatchObject({ payload: { a: 1, b: 2, c: 3 } });
  });

  it('fans out to every wired branch', async () => {
    await flow('fan', [{ id: 'in', type: 'inject', wires: [['l', 'r']] }, setTo('l', 'l', 1), setTo('r', 'r', 2)]);
    const { runId } = await cluster.entry.executor.runNow('fan', { payload: {} });
    expect((await finished(runId)).status).toBe('succeeded');
    expect(await nodesRun(runId)).toEqual(['in:succeeded', 'l:succeeded', 'r:succeeded']);
  });

  it('a failing node fails the run with the node and its reason', async () => {
    await flow('fails', [{ id: 'in', type: 'inject', wires: [['parse']] }, { id: 'parse', type: 'json', props: { action: 'obj' }, wires: [] }]);
    const { runId } = await cluster.entry.executor.runNow('fails', { payload: '{not json' });
    const run = await finished(runId);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/^node "parse" failed: /);
  });

  it('routes a failure to an error handler, and the run succeeds', async () => {
    await flow('caught', [
      { id: 'in', type: 'inject', wires: [['parse']] },
      { id: 'parse', type: 'json', props: { action: 'obj' }, wires: [] },
      { id: 'catch', type: 'catch', wires: [['after']] },
      setTo('after', 'handled', 1),
    ]);
    const { runId } = await cluster.entry.executor.runNow('caught', { payload: '{not json' });
    expect((await finished(runId)).status).toBe('succeeded');
    expect(await nodesRun(runId)).toEqual(['after:succeeded', 'catch:succeeded', 'in:succeeded', 'parse:failed']);
  });

  it("answers a waiting trigger with the flow's response", async () => {
    await flow('answer', [
      { id: 'in', type: 'inject', wires: [['out']] },
      { id: 'out', type: 'webhook-response', props: { statusCode: 201 }, wires: [] },
    ]);
    const { reply } = await cluster.entry.executor.runNow('answer', { payload: { hello: 'contract' }, _webhook: true }, { nodeId: 'in', awaitReply: true });
    expect(await reply).toMatchObject({ status: 201, body: { hello: 'contract' } });
  });
});
