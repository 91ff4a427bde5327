/**
 * Liveness and readiness in queue mode when Redis or PostgreSQL goes away: a redis-server of this test's own (its own
 * port: the shared Redis of scripts/services is never stopped), and the real PostgreSQL reached through a TCP relay
 * this test can cut (the shared PostgreSQL is never stopped). A main (/api/v1/health/*) and a worker
 * (its probe port, queue/worker-health.ts) are ready with Redis up and report the backlog; with Redis stopped both
 * answer 503 "not ready" with the queue check failed while liveness stays 200; with Redis back both are ready again.
 * The worker's container health check as docker/compose.yaml writes it runs against the worker too (outside Docker).
 * With the database cut, both answer 503 with the storage check failed, and are ready again once it is back. Queue
 * lag (runs waiting, no worker) is reported by readiness and /metrics without making the main "not ready".
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import YAML from 'yaml';
import type { Runtime } from '../runtime.ts';
import { QueueCluster, until } from '../testing/queue-cluster.ts';
import { TEST_DATABASE_URL } from '../testing/storage-backends.ts';
import type { TestServer } from '../testing/server.ts';
import type { RunsJob } from './relay.ts';
import { QUEUE_NAME } from './worker.ts';
import { startWorkerHealth, type WorkerHealth } from './worker-health.ts';
import { TEST_REDIS_DB } from '../testing/redis-databases.ts';
import { OwnRedis } from '../testing/own-redis.ts';

let cluster: QueueCluster;
let main: TestServer;
let worker: Runtime;
let workerHealth: WorkerHealth;
let redis: OwnRedis | undefined;
let redisDir: string;

/** A TCP relay to the real PostgreSQL: cut() drops every connection and refuses new ones until restore(). */
class CuttableRelay {
  private readonly sockets = new Set<Socket>();
  private down = false;
  private readonly server: Server;
  port = 0;
  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => {
      if (this.down) return void client.destroy();
      const upstream = connect(this.target.port, this.target.host);
      for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
        this.sockets.add(a);
        a.on('close', () => {
          this.sockets.delete(a);
          b.destroy();
        });
        a.on('error', () => b.destroy());
        a.pipe(b);
      }
    });
  }
  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }
  cut(): void {
    this.down = true;
    for (const socket of this.sockets) socket.destroy();
  }
  restore(): void {
    this.down = false;
  }
  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
const pgTarget = new URL(TEST_DATABASE_URL);
const relay = new CuttableRelay({ host: pgTarget.hostname, port: Number(pgTarget.port || 5432) });

const workerProbe = async (what: 'live' | 'ready') => {
  const res = await fetch(`http://127.0.0.1:${workerHealth.port}/health/${what}`);
  return { status: res.status, body: (await res.json()) as any };
};

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
/** The worker's compose health check command (CMD-SHELL), pointed at this test's worker port. */
const composeWorkerCheck = (): string => {
  const compose = YAML.parse(readFileSync(path.join(repoRoot, 'docker', 'compose.yaml'), 'utf8'), { merge: true }) as { services: { worker: { healthcheck: { test: string[] } } } };
  const [kind, command] = compose.services.worker.healthcheck.test;
  expect(kind).toBe('CMD-SHELL');
  expect(command).toContain('127.0.0.1:8421/');
  return command!.replace('127.0.0.1:8421/', `127.0.0.1:${workerHealth.port}/`);
};
/** Runs it as Docker would (sh -c, from the image's working directory: the repository root); its exit code. */
const runCheck = (command: string) => new Promise<number>((resolve) => execFile('sh', ['-c', command], { cwd: repoRoot }, (error) => resolve(error ? Number(error.code ?? 1) : 0)));

beforeAll(async () => {
  redisDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-health-redis-'));
  redis = await OwnRedis.start(redisDir);
  await relay.listen();
  const relayed = new URL(TEST_DATABASE_URL);
  relayed.port = String(relay.port);
  // redisDb only names the shared Redis database QueueCluster empties around the test; every process of this
  // installation talks to the redis-server above.
  cluster = await QueueCluster.create({ name: 'healthdeps', redisDb: TEST_REDIS_DB.healthDependenciesDown, env: { FLOWCREW_REDIS_URL: `${redis.url}/0` } });
  // Every process of the installation reaches PostgreSQL through the relay (the schema as QueueCluster sets it).
  cluster.options.env!.DATABASE_URL = cluster.env('any', 'main').DATABASE_URL!.replace(TEST_DATABASE_URL, relayed.toString());
  main = await cluster.main('main-1');
  worker = await cluster.worker('worker-1');
  workerHealth = await startWorkerHealth(worker, 0, '127.0.0.1');
}, 120_000);

afterAll(async () => {
  await workerHealth?.close();
  // Redis must answer for the workers to drain and the mains to stop cleanly.
  if (redis && !redis.running) await redis.start().catch(() => {});
  relay.restore();
  await cluster?.close();
  await relay.close();
  await redis?.stop();
  if (redisDir) await rm(redisDir, { recursive: true, force: true });
}, 60_000);

describe('health in queue mode with Redis or PostgreSQL down', () => {
  it('main and worker are ready with Redis up, and report Redis latency and the queue backlog', async () => {
    const ready = await main.apiAs(null, 'GET', '/api/v1/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
    expect(ready.body.checks.queue.ok).toBe(true);
    expect(ready.body.checks.queue.redisMs).toEqual(expect.any(Number));
    expect(ready.body.checks.queue.backlog).toEqual({ waiting: expect.any(Number), active: expect.any(Number), oldestWaitingSeconds: expect.any(Number), outboxOldestSeconds: expect.any(Number) });
    const onWorker = await workerProbe('ready');
    expect(onWorker.status).toBe(200);
    expect(onWorker.body.checks.queue.ok).toBe(true);
    expect((await workerProbe('live')).status).toBe(200);
    // Waited for, not asserted at once: the check's own 4 s timeout could run out on a very loaded machine.
    await until('the compose health check to pass', async () => ((await runCheck(composeWorkerCheck())) === 0 ? true : undefined), 30_000);
  });

  it('with Redis stopped: readiness 503 naming the queue check (details to admins only), liveness 200; ready again once Redis is back', async () => {
    await redis!.stop();

    const anonymous = await main.apiAs(null, 'GET', '/api/v1/health/ready');
    expect(anonymous.status).toBe(503);
    expect(anonymous.body.status).toBe('not ready');
    expect(anonymous.body.checks.queue).toEqual({ ok: false, detail: 'redis unreachable' });
    // The database still answers: only the queue check failed.
    expect(anonymous.body.checks.storage.ok).toBe(true);
    const admin = await main.api('GET', '/api/v1/health/ready');
    expect(admin.status).toBe(503);
    expect(admin.body.checks.queue.detail).toMatch(/^redis: /);
    expect((await main.apiAs(null, 'GET', '/api/v1/health/live')).status).toBe(200);

    const onWorker = await workerProbe('ready');
    expect(onWorker.status).toBe(503);
    expect(onWorker.body).toMatchObject({ status: 'not ready', checks: { queue: { ok: false, detail: 'redis unreachable' }, storage: { ok: true } } });
    expect((await workerProbe('live')).status).toBe(200);
    expect(await runCheck(composeWorkerCheck())).toBe(1); // the container is reported unhealthy

    await redis!.start();
    // The clients reconnect on their own; readiness follows without a restart.
    await until('the main to be ready again', async () => ((await main.apiAs(null, 'GET', '/api/v1/health/ready')).status === 200 ? true : undefined), 30_000);
    await until('the worker to be ready again', async () => ((await workerProbe('ready')).status === 200 ? true : undefined), 30_000);
    await until('the compose health check to pass again', async () => ((await runCheck(composeWorkerCheck())) === 0 ? true : undefined), 30_000);
  }, 90_000);
  it('with PostgreSQL cut off: readiness 503 naming the storage check, liveness 200; ready again once it is back', async () => {
    relay.cut();
    await until('the main to see the database gone', async () => {
      const ready = await main.apiAs(null, 'GET', '/api/v1/health/ready');
      return ready.status === 503 ? ready : undefined;
    }, 30_000).then((ready) => expect(ready.body.checks.storage).toEqual({ ok: false, detail: 'storage unreachable' }));
    const admin = await main.api('GET', '/api/v1/health/ready');
    expect(admin.status).toBe(503);
    expect(admin.body.checks.storage.detail).toMatch(/^postgres: /);
    // Redis is fine: the queue check passes (it leaves out the backlog it could not read from the outbox).
    expect(admin.body.checks.queue).toMatchObject({ ok: true, redisMs: expect.any(Number) });
    expect((await main.apiAs(null, 'GET', '/api/v1/health/live')).status).toBe(200);
    const onWorker = await until('the worker to see the database gone', async () => {
      const probe = await workerProbe('ready');
      return probe.status === 503 ? probe : undefined;
    }, 30_000);
    expect(onWorker.body).toMatchObject({ status: 'not ready', checks: { storage: { ok: false, detail: 'storage unreachable' } } });
    expect((await workerProbe('live')).status).toBe(200);
    expect(await runCheck(composeWorkerCheck())).toBe(1);

    relay.restore();
    await until('the main to be ready again', async () => ((await main.apiAs(null, 'GET', '/api/v1/health/ready')).status === 200 ? true : undefined), 30_000);
    await until('the worker to be ready again', async () => ((await workerProbe('ready')).status === 200 ? true : undefined), 30_000);
  }, 90_000);
  it('reports queue lag (runs waiting with no worker) in readiness without failing it: a backlog is an alert, not an outage', async () => {
    await workerHealth.close();
    await worker.close(); // no worker takes runs any more
    await main.runtime.createFlow({ id: 'lagging', name: 'lagging', version: 0, nodes: [{ id: 'go', type: 'inject', wires: [] }] });
    await main.runtime.deployFlow('lagging');
    const runIds: string[] = [];
    for (let i = 0; i < 3; i++) runIds.push((await main.runtime.executor.runNow('lagging', { payload: i })).runId);
    // The backlog counts jobs, and a job carries the runs handed over together: runs committed while the previous
    // hand-over was in flight (a slow Redis round trip under load) share one job, so 3 runs may be 1 to 3 jobs
    // (waiting for 3 jobs timed out once in a CI rehearsal). Waited on: the 3 runs in waiting jobs.
    const queue = new Queue<RunsJob>(QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis!.port, db: 0 } });
    let jobs = 0;
    try {
      await until('the 3 runs in waiting jobs', async () => {
        const waiting = await queue.getJobs(['waiting', 'prioritized']);
        jobs = waiting.length;
        return runIds.every((id) => waiting.some((job) => job.data.runIds?.includes(id) || job.data.runId === id)) ? true : undefined;
      }, 60_000);
    } finally {
      await queue.close();
    }
    expect(jobs).toBeGreaterThanOrEqual(1);
    const ready = await main.apiAs(null, 'GET', '/api/v1/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
    expect(ready.body.checks.queue.backlog).toMatchObject({ waiting: jobs, oldestWaitingSeconds: expect.any(Number) });
    // The same figure Prometheus scrapes (and the FlowcrewQueueBacklog alert and the worker autoscaler read).
    const scraped = /^flowcrew_queue_waiting_jobs (\d+)$/m.exec((await main.api('GET', '/metrics')).body as string);
    expect(Number(scraped?.[1])).toBe(jobs);
  }, 120_000); // the worker drains its lease work before it stops: slow on a loaded machine
});
