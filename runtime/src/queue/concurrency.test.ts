/**
 * A flow's concurrency limit in queue mode holds across workers (not per worker): a main and two workers (whole
 * runtimes, each with its own executor, pool and BullMQ worker) on a real PostgreSQL and Redis. Each run's time as
 * 'running' is read back from storage (started_at is the database's clock when the run took a slot, after the commit
 * that freed it), and the most runs of the flow running at once is computed from those intervals. Runs waiting for a
 * slot start in the order they were accepted (FIFO across workers: queue/slot-handover.ts), not at a timed retry.
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
import { TEST_DATABASE_URL as pgUrl } from '../testing/storage-backends.ts';
import { QUEUE_NAME } from './worker.ts';
import { TEST_REDIS_DB } from '../testing/redis-databases.ts';

const REDIS_DB = TEST_REDIS_DB.concurrency;
const redisUrl = `${process.env.FLOWCREW_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'}/${REDIS_DB}`;
const schema = `queue_slots_${randomBytes(3).toString('hex')}`;
let dir: string;
const runtimes: Runtime[] = [];

async function runtimeIn(mode: 'main' | 'worker', name: string): Promise<Runtime> {
  const env = {
    DATABASE_URL: `${pgUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    FLOWCREW_MODE: mode,
    FLOWCREW_REDIS_URL: redisUrl,
    FLOWCREW_INSTANCE_ID: `${schema}-${name}`,
    FLOWCREW_KEYRING_FILE: path.join(dir, 'keyring.json'),
    FLOWCREW_FLOWS_DIR: '',
    FLOWCREW_WORKER_CONCURRENCY: '6',
  };
  const runtime = await Runtime.create(loadConfig(env, { dataDir: path.join(dir, name), logLevel: 'error' }), { loadExamples: false });
  runtimes.push(runtime);
  await runtime.resumeRuns();
  return runtime;
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The most intervals open at one instant (an end at the same instant as a start closes first). */
function mostAtOnce(intervals: Array<[number, number]>): number {
  const edges = intervals.flatMap(([start, end]): Array<[number, number]> => [[start, 1], [end, -1]]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let most = 0;
  for (const [, step] of edges) most = Math.max(most, (open += step));
  return most;
}

/**
 * Runs (in acceptance order) that started while older runs were still waiting and did not all fit beside it: at its
 * start, the runs running plus the older ones not yet started plus itself exceed the limit.
 */
function overtakesBeyondLimit(intervals: Array<[number, number]>, limit: number): string[] {
  return intervals.flatMap(([start], i) => {
    const olderWaiting = intervals.slice(0, i).filter(([olderStart]) => olderStart > start).length;
    if (olderWaiting === 0) return [];
    const running = intervals.filter(([s, e], j) => j !== i && s <= start && start < e).length;
    return running + olderWaiting + 1 > limit ? [`run ${i} started with ${olderWaiting} older waiting and ${running} running`] : [];
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-slots-'));
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
  const queue = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: 6379, db: REDIS_DB } });
  await queue.obliterate({ force: true });
  await queue.close();
  await runtimeIn('main', 'main'); // migrates the schema first
  await Promise.all([runtimeIn('worker', 'worker-1'), runtimeIn('worker', 'worker-2')]);
}, 120_000);

afterAll(async () => {
  for (const runtime of runtimes.reverse()) await runtime.close().catch(() => {});
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('per-flow concurrency limit in queue mode', () => {
  it('holds across two workers: never more runs of the flow running at once than its limit, and waiting runs start in arrival order', async () => {
    const [main, ...workers] = runtimes as [Runtime, Runtime, Runtime];
    await main.createFlow({
      id: 'limited',
      name: 'limited',
      version: 0,
      settings: { concurrency: 2 },
      nodes: [
        { id: 'in', type: 'inject', wires: [['wait']] },
        { id: 'wait', type: 'delay', props: { pauseType: 'delay', timeout: 300, timeoutUnits: 'milliseconds' }, wires: [] },
      ],
    });
    await main.deployFlow('limited');
    const runIds: string[] = [];
    for (let i = 0; i < 12; i++) runIds.push((await main.executor.runNow('limited', { payload: i })).runId);
    await until(async () => (await Promise.all(runIds.map((id) => main.storage.getRun(id)))).every((r) => r?.status === 'succeeded'), 'every run to succeed');

    const runs = await Promise.all(runIds.map(async (id) => (await main.storage.getRun(id))!));
    const most = mostAtOnce(runs.map((r) => [r.startedAt!, r.finishedAt!]));
    const perWorker = workers.map((w) => w.queue!.workerStats!);
    const span = Math.max(...runs.map((r) => r.finishedAt!)) - Math.min(...runs.map((r) => r.startedAt!));
    console.log(
      `concurrency limit 2, 12 runs of 300 ms on 2 workers: at most ${most} running at once, all done in ${span} ms; runs per worker from jobs ${perWorker.map((s) => s.runs).join('/')}, ` +
        `handed a freed slot ${perWorker.map((s) => s.handedOver).join('/')}, jobs deferred for want of a slot ${perWorker.map((s) => s.noSlot).join('/')}`,
    );
    expect(most).toBeLessThanOrEqual(2);
    // Every run ran on a worker (from its job, or handed a freed slot; a run can be both when its job came back meanwhile).
    expect(perWorker.reduce((n, s) => n + s.runs + s.handedOver, 0)).toBeGreaterThanOrEqual(12);
    // FIFO as storage keeps it (RunLeases.start): a run may start before an older one only while both fit in the
    // limit (two free slots taken by two workers in either order); it never takes a slot an older waiting run needed.
    expect(overtakesBeyondLimit(runs.map((r) => [r.startedAt!, r.finishedAt!]), 2)).toEqual([]);
  }, 150_000);
});
