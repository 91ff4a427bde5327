/**
 * Queue mode on a real PostgreSQL and Redis (127.0.0.1:6379, a Redis database of its own): a main accepts runs into
 * the outbox, the relay enqueues them after commit, a worker leases and executes them; a reply reaches the main's
 * waiting request over Redis pub/sub; nothing executes on the main.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { Runtime } from '../runtime.ts';
import { RuntimeMetrics } from '../metrics/metrics.ts';
import { OperationsService } from '../services/operations.ts';
import { Redis } from 'ioredis';
import { redisNames } from '../cluster/redis-names.ts';
import { QUEUE_NAME } from './worker.ts';
import type { RunsJob } from './relay.ts';
import { startWorkerHealth } from './worker-health.ts';
import { TEST_REDIS_DB } from '../testing/redis-databases.ts';

const pgUrl = process.env.FLOWCREW_TEST_DATABASE_URL ?? 'postgres://flowcrew:flowcrew@127.0.0.1:5432/flowcrew_test';
const redisUrl = `${process.env.FLOWCREW_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'}/${TEST_REDIS_DB.queue}`;
const schema = `queue_${randomBytes(3).toString('hex')}`;
let dir: string;
let main: Runtime;
let worker: Runtime;
let workerClosed = false;

async function runtimeIn(mode: 'main' | 'worker'): Promise<Runtime> {
  const env = {
    DATABASE_URL: `${pgUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    FLOWCREW_MODE: mode,
    FLOWCREW_REDIS_URL: redisUrl,
    FLOWCREW_INSTANCE_ID: `test-${mode}`,
    FLOWCREW_KEYRING_FILE: path.join(dir, 'keyring.json'),
    FLOWCREW_FLOWS_DIR: '',
    FLOWCREW_METRICS_TOKEN: 'scrape-token-for-the-queue-test',
  };
  const runtime = await Runtime.create(loadConfig(env, { dataDir: path.join(dir, mode), logLevel: 'error' }), { loadExamples: false });
  await runtime.resumeRuns();
  return runtime;
}

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-queue-'));
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
  const queue = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: 6379, db: TEST_REDIS_DB.queue } });
  await queue.obliterate({ force: true });
  await queue.close();
  main = await runtimeIn('main'); // migrates the schema first
  worker = await runtimeIn('worker');
}, 60_000);

afterAll(async () => {
  if (!workerClosed) await worker?.close();
  await main?.close();
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
  await rm(dir, { recursive: true, force: true });
});

describe('queue mode (main + worker on PostgreSQL and Redis)', () => {
  it('runs accepted on the main are executed by the worker, each once, none on the main', async () => {
    const nodes: unknown[] = [{ id: 'n0', type: 'inject', wires: [['n1']] }];
    for (let i = 1; i < 4; i++) nodes.push({ id: `n${i}`, type: 'change', props: { rules: [{ t: 'set', p: `payload.s${i}`, pt: 'msg', to: String(i), tot: 'num' }] }, wires: i < 3 ? [[`n${i + 1}`]] : [] });
    await main.createFlow({ id: 'chain', name: 'chain', version: 0, nodes });
    await main.deployFlow('chain');
    const runIds: string[] = [];
    for (let i = 0; i < 30; i++) runIds.push((await main.executor.runNow('chain', { payload: { i } })).runId);
    expect(main.executor.activeRuns).toBe(0);
    await until(async () => (await Promise.all(runIds.map((id) => main.storage.getRun(id)))).every((r) => r?.status === 'succeeded'));
    expect(worker.queue!.workerStats!.runs).toBe(30);
    for (const id of runIds.slice(0, 3)) {
      const invocations = await main.storage.listInvocations(id);
      expect(invocations.map((i) => i.nodeId).sort()).toEqual(['n0', 'n1', 'n2', 'n3']);
      expect(invocations.find((i) => i.nodeId === 'n3')?.outputs?.[0]?.msg).toMatchObject({ payload: { s1: 1, s2: 2, s3: 3 } });
    }
    // The outbox rows go once the runs are handed over (their deletes wait up to 100 ms for the main's next write).
    await until(async () => (await main.storage.outbox!.pending(10)).length === 0);
  });

  it("a reply from the worker reaches the main's waiting trigger, on that main's own channel", async () => {
    await main.createFlow({
      id: 'answer',
      name: 'answer',
      version: 0,
      nodes: [
        { id: 'in', type: 'inject', wires: [['out']] },
        { id: 'out', type: 'webhook-response', props: { statusCode: 201 }, wires: [] },
      ],
    });
    await main.deployFlow('answer');
    // Every channel of the installation, as another main's connection could hear it.
    const names = redisNames(main.config.cluster);
    const seen: string[] = [];
    const tap = new Redis(redisUrl);
    tap.on('pmessage', (_pattern: string, channel: string) => seen.push(channel));
    await tap.psubscribe(`${names.prefix}:repl*`);
    try {
      const { runId, reply } = await main.executor.runNow('answer', { payload: { hello: 'from the worker' }, _webhook: true }, { nodeId: 'in', awaitReply: true });
      expect(await reply).toMatchObject({ status: 201, body: { hello: 'from the worker' } });
      await until(() => seen.includes(names.mainReplies('test-main')));
      // The job named this main's channel: the answer went there, not to the run's channel every main hears.
      expect(seen).not.toContain(names.reply(runId));
    } finally {
      tap.disconnect();
    }
  });

  it("a request whose message a node holds is answered by another run's response node (its reply handle), through the worker", async () => {
    await main.createFlow({ id: 'held', name: 'held', version: 0, nodes: [{ id: 'in', type: 'inject', wires: [['keep']] }, { id: 'keep', type: 'debug', wires: [] }] });
    await main.createFlow({ id: 'replier', name: 'replier', version: 0, nodes: [{ id: 'in', type: 'inject', wires: [['out']] }, { id: 'out', type: 'webhook-response', props: { statusCode: 202 }, wires: [] }] });
    await main.deployFlow('held');
    await main.deployFlow('replier');
    // As a webhook trigger emits: the message carries the request's reply handle (msg._replyTo = the run's id).
    const first = await main.executor.admission.emitFromTrigger('held', 'in', { payload: 'question', _webhook: true }, { awaitReply: true, replyTimeoutMs: 60_000 });
    // The first run ends holding the request's message (no answer, no error): a later run answers it by handle.
    await until(async () => (await main.storage.getRun(first.runId))?.status === 'succeeded');
    await main.executor.runNow('replier', { payload: 'answer', _webhook: true, _replyTo: first.runId });
    expect(await first.reply).toMatchObject({ status: 202, body: 'answer' });
  });

  it('a run parked on a question on the worker, answered on the main, goes back to the worker (never resumed on the main)', async () => {
    await main.createFlow({
      id: 'ask',
      name: 'ask',
      version: 0,
      nodes: [
        { id: 'in', type: 'inject', wires: [['ask']] },
        { id: 'ask', type: 'human-input', props: { title: 'Go ahead?' }, wires: [['yes'], ['no']] },
        { id: 'yes', type: 'change', props: { rules: [{ t: 'set', p: 'payload.went', pt: 'msg', to: 'true', tot: 'bool' }] }, wires: [] },
        { id: 'no', type: 'change', props: { rules: [] }, wires: [] },
      ],
    });
    await main.deployFlow('ask');
    const before = worker.queue!.workerStats!.runs;
    const { runId } = await main.executor.runNow('ask', { payload: { asked: true } });
    await until(async () => (await main.storage.getRun(runId))?.status === 'waiting' && (await main.waiting!.store.listForRun(runId)).length === 1);
    // The worker's job for it is done (parked), not failed and retried until the run is failed.
    await until(() => worker.queue!.workerStats!.runs > before);
    const [wait] = await main.waiting!.store.listForRun(runId);
    await main.waiting!.answer(wait!.id, { approved: true }, { name: 'tester', via: 'api' });
    expect(main.executor.active.has(runId)).toBe(false);
    await until(async () => (await main.storage.getRun(runId))?.status === 'succeeded');
    expect(worker.queue!.workerStats!.runs).toBeGreaterThanOrEqual(before + 2);
    const invocations = await main.storage.listInvocations(runId);
    expect(invocations.find((i) => i.nodeId === 'yes')?.outputs?.[0]?.msg).toMatchObject({ payload: { asked: true, went: true } });
    expect(invocations.filter((i) => i.nodeId === 'ask' && i.status === 'succeeded')).toHaveLength(1);
  });

  it("a run whose flow cannot be deployed on the worker is failed with the reason, not retried nor kept leased", async () => {
    // Saved, never deployed: what a worker finds when a flow was undeployed after its run was accepted.
    await main.createFlow({ id: 'ghost', name: 'ghost', version: 0, nodes: [{ id: 'in', type: 'inject', wires: [] }] });
    const now = Date.now();
    const runId = randomUUID();
    await main.storage.acceptRun(
      { id: runId, flowId: 'ghost', flowVersion: 1, status: 'queued', triggerNodeId: 'in', input: { payload: 1 }, error: null, parentRunId: null, createdAt: now, startedAt: null, finishedAt: null },
      [{ id: randomUUID(), runId, nodeId: 'in', nodeType: 'inject', status: 'pending', attempt: 0, input: { payload: 1 }, outputs: null, error: null, parentId: null, seq: 0, createdAt: now, startedAt: null, finishedAt: null }],
      { outbox: true },
    );
    await until(async () => (await main.storage.getRun(runId))?.status === 'failed');
    expect((await main.storage.getRun(runId))?.error).toBe('flow "ghost" is not deployed');
  });

  it("a worker's health port answers probes and Prometheus; the main's readiness checks Redis; the backlog is measured", async () => {
    const health = await startWorkerHealth(worker, 0, '127.0.0.1');
    try {
      const base = `http://127.0.0.1:${health.port}`;
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).toBe(200);
      expect((await ready.json()).checks.queue).toMatchObject({ ok: true, backlog: { waiting: 0 } });
      expect((await fetch(`${base}/metrics`)).status).toBe(401);
      // The runs above were executed here: the worker's metrics count them.
      const scraped = await (await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer scrape-token-for-the-queue-test' } })).text();
      expect(scraped).toMatch(/flowcrew_queue_waiting_jobs 0/);
    } finally {
      await health.close();
    }

    // No worker now: runs accepted on the main wait in the queue, and the backlog says so.
    await worker.close();
    workerClosed = true;
    const metrics = RuntimeMetrics.attach(main);
    try {
      const runIds: string[] = [];
      for (let i = 0; i < 5; i++) runIds.push((await main.executor.runNow('chain', { payload: { waiting: i } })).runId);
      // The backlog counts jobs, and a job carries the runs handed over together: runs committed while the previous
      // hand-over was still in flight (a slow Redis round trip under load) share one job, so 5 runs may be 4 jobs or
      // fewer. Waited on: all 5 runs in waiting jobs (counting jobs for 5 hung once at load ~17).
      const queue = new Queue<RunsJob>(QUEUE_NAME, { connection: { host: '127.0.0.1', port: 6379, db: TEST_REDIS_DB.queue } });
      let jobs = 0;
      try {
        await until(async () => {
          const waiting = await queue.getJobs(['waiting', 'prioritized']);
          jobs = waiting.length;
          return runIds.every((id) => waiting.some((job) => job.data.runIds?.includes(id) || job.data.runId === id));
        });
      } finally {
        await queue.close();
      }
      expect(jobs).toBeGreaterThanOrEqual(1);
      expect(jobs).toBeLessThanOrEqual(5);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const backlog = await main.queue!.backlog();
      expect(backlog.waiting).toBe(jobs);
      expect(backlog.oldestWaitingSeconds).toBeGreaterThan(0);
      const text = await metrics.text();
      expect(text).toMatch(new RegExp(`^flowcrew_queue_waiting_jobs ${jobs}$`, 'm'));
      expect(text).toMatch(/^flowcrew_queue_oldest_waiting_seconds [0-9.]+$/m);
      const readiness = await new OperationsService(main).ready(null);
      expect(readiness).toMatchObject({ status: 'ready', checks: { queue: { ok: true, backlog: { waiting: jobs } } } });
    } finally {
      metrics.detach();
    }
  });
});
