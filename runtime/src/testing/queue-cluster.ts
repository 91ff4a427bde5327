/**
 * Queue-mode test set-up on the real PostgreSQL and Redis (beside storage-backends.ts): a schema of its own, a Redis
 * database of its own (one per test file: the files run at the same time; optionally a key/channel prefix, to put two
 * installations on one database), mains (HTTP + Socket.IO, startTestServer) and workers (Runtime) sharing them, and
 * everything stopped, emptied and dropped again in close().
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import pg from 'pg';
import { loadConfig } from '../config.ts';
import { Runtime } from '../runtime.ts';
import { QUEUE_NAME } from '../queue/worker.ts';
import { startTestServer, type TestServer } from './server.ts';

/** Polls `check` every 50 ms until it gives a value (not undefined), which it returns; fails naming `what` after timeoutMs. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
import { TEST_DATABASE_URL } from './storage-backends.ts';

const REDIS_BASE = process.env.FLOWCREW_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** One statement on the test database (its own connection). */
export async function onPg(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Empty the run queue of a Redis database (under `prefix`, else BullMQ's default). */
export async function clearQueue(redisDb: number, prefix?: string): Promise<void> {
  const url = new URL(REDIS_BASE);
  const queue = new Queue(QUEUE_NAME, { connection: { host: url.hostname, port: Number(url.port || 6379), db: redisDb }, ...(prefix ? { prefix } : {}) });
  await queue.obliterate({ force: true });
  await queue.close();
}

export interface QueueClusterOptions {
  /** Names the schema and the temporary directory. */
  name: string;
  /** The Redis database of this test file. */
  redisDb: number;
  /** FLOWCREW_REDIS_PREFIX of this installation (none: BullMQ's own keys, channels by database number). */
  redisPrefix?: string;
  /** More environment for every process (e.g. FLOWCREW_OUTBOUND_ALLOW). */
  env?: Record<string, string>;
}

export class QueueCluster {
  readonly schema: string;
  readonly redisUrl: string;
  private readonly mains: TestServer[] = [];
  private readonly workers: Runtime[] = [];

  private constructor(
    readonly options: QueueClusterOptions,
    readonly dir: string,
  ) {
    this.schema = `${options.name.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(3).toString('hex')}`;
    this.redisUrl = `${REDIS_BASE}/${options.redisDb}`;
  }

  /** A fresh schema, an empty queue; no process yet. */
  static async create(options: QueueClusterOptions): Promise<QueueCluster> {
    const cluster = new QueueCluster(options, await mkdtemp(path.join(tmpdir(), `flowcrew-${options.name}-`)));
    await clearQueue(options.redisDb, options.redisPrefix);
    await onPg(`CREATE SCHEMA ${cluster.schema}`);
    return cluster;
  }

  /** The environment of one process of this installation (instance ids carry the schema: unique per run). */
  env(instance: string, mode: 'main' | 'worker'): Record<string, string> {
    return {
      DATABASE_URL: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${this.schema}`)}`,
      FLOWCREW_MODE: mode,
      FLOWCREW_REDIS_URL: this.redisUrl,
      FLOWCREW_INSTANCE_ID: `${instance}-${this.schema}`,
      FLOWCREW_KEYRING_FILE: path.join(this.dir, 'keyring.json'),
      FLOWCREW_FLOWS_DIR: '',
      ...(this.options.redisPrefix ? { FLOWCREW_REDIS_PREFIX: this.options.redisPrefix } : {}),
      ...this.options.env,
    };
  }

  /** A main: HTTP API and Socket.IO (the first one migrates the schema). */
  async main(instance: string): Promise<TestServer> {
    const server = await startTestServer({}, { env: this.env(instance, 'main') });
    this.mains.push(server);
    return server;
  }

  /** A worker, taking runs from the queue. */
  async worker(instance: string): Promise<Runtime> {
    const config = loadConfig({ ...process.env, ...this.env(instance, 'worker') }, { dataDir: path.join(this.dir, instance), logLevel: 'error' });
    const worker = await Runtime.create(config, { loadExamples: false });
    this.workers.push(worker);
    await worker.resumeRuns();
    return worker;
  }

  /** Workers first (they drain), then mains; then the queue emptied, the schema dropped, the directory removed. */
  async close(): Promise<void> {
    for (const worker of this.workers.splice(0).reverse()) await worker.close().catch(() => {});
    for (const main of this.mains.splice(0).reverse()) await main.stop().catch(() => {});
    await clearQueue(this.options.redisDb, this.options.redisPrefix).catch(() => {});
    await onPg(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
    await rm(this.dir, { recursive: true, force: true });
  }
}
