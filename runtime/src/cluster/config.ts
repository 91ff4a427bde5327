/**
 * Settings for several runtimes sharing one PostgreSQL: run leases (FLOWCREW_INSTANCE_ID, FLOWCREW_LEASE_TTL_MS) and
 * queue mode (FLOWCREW_MODE=main|worker, FLOWCREW_REDIS_URL, FLOWCREW_WORKER_CONCURRENCY, FLOWCREW_QUEUE_ATTEMPTS,
 * FLOWCREW_QUEUE_BATCH, FLOWCREW_REDIS_PREFIX, FLOWCREW_WORKER_PORT).
 */
import { hostname } from 'node:os';

export interface ClusterConfig {
  /**
   * This runtime's name as an owner of run leases. Stable across restarts by default (host and data directory), so
   * a runtime restarted after a crash resumes its own runs at once instead of waiting for their leases to expire.
   * Two runtimes must never share it: set FLOWCREW_INSTANCE_ID when they share a host and a data directory.
   */
  instanceId: string;
  /** How long a run lease lasts without renewal; renewed every third of it. A dead runtime's runs move after this. */
  leaseTtlMs: number;
  /**
   * embedded: one process does everything (default). main: API, editor, webhooks and triggers; accepted runs go to
   * the queue. worker: executes queued runs, starts no triggers and serves no HTTP.
   */
  mode: 'embedded' | 'main' | 'worker';
  redisUrl: string;
  /** Runs a worker executes at once. */
  workerConcurrency: number;
  /** FLOWCREW_QUEUE_BATCH: runs committed together go to the workers as one job of at most this many runs. Default 16. */
  queueBatch: number;
  /**
   * FLOWCREW_REDIS_PREFIX: what sets this installation's Redis keys and pub/sub channels apart from another's on the
   * same Redis server. Pub/sub ignores the database number, so channels always carry a prefix: this one, else the
   * database number ("flowcrew:db<n>"); the queue's keys use it when set (else BullMQ's own, in this database).
   */
  redisPrefix: string | undefined;
  /** A queued run whose job fails this many times (its worker died or could not run it) is failed, visibly. */
  queueAttempts: number;
  /** FLOWCREW_WORKER_PORT: a worker's small HTTP port for probes and Prometheus (/health/live, /health/ready, /metrics); 0 = none. Default 8421. */
  workerPort: number;
  /**
   * FLOWCREW_QUEUE_REQUEUE_MS: a run still queued and nobody's this long after it was accepted is enqueued again (its
   * job was lost: Redis restarted without persistence). Default 30 s.
   */
  requeueAfterMs: number;
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer (got "${value}")`);
  return n;
}

function prefixOf(value: string | undefined): string | undefined {
  const prefix = value?.trim();
  if (!prefix) return undefined;
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) throw new Error(`FLOWCREW_REDIS_PREFIX must be 1-64 letters, digits or _ . : - (got "${value}")`);
  return prefix;
}

/** The prefix of this installation's pub/sub channels (see ClusterConfig.redisPrefix). */
export function channelPrefix(config: Pick<ClusterConfig, 'redisPrefix' | 'redisUrl'>): string {
  return config.redisPrefix ?? `flowcrew:db${Number(new URL(config.redisUrl).pathname.slice(1) || 0)}`;
}

/** BullMQ's `prefix` option for this installation's queue: none (BullMQ's own) unless FLOWCREW_REDIS_PREFIX is set. */
export function queuePrefix(config: Pick<ClusterConfig, 'redisPrefix'>): { prefix?: string } {
  return config.redisPrefix ? { prefix: config.redisPrefix } : {};
}

export function parseClusterConfig(env: NodeJS.ProcessEnv, dataDir: string): ClusterConfig {
  const ttl = env.FLOWCREW_LEASE_TTL_MS === undefined || env.FLOWCREW_LEASE_TTL_MS === '' ? 30_000 : Number(env.FLOWCREW_LEASE_TTL_MS);
  if (!Number.isInteger(ttl) || ttl < 1_000) throw new Error(`FLOWCREW_LEASE_TTL_MS must be an integer of at least 1000 (ms) (got "${env.FLOWCREW_LEASE_TTL_MS}")`);
  const instanceId = env.FLOWCREW_INSTANCE_ID?.trim() || `${hostname()}:${dataDir}`;
  if (instanceId.length > 200) throw new Error('FLOWCREW_INSTANCE_ID must be at most 200 characters');
  const mode = env.FLOWCREW_MODE || 'embedded';
  if (mode !== 'embedded' && mode !== 'main' && mode !== 'worker') throw new Error(`FLOWCREW_MODE must be embedded, main or worker (got "${mode}")`);
  if (mode !== 'embedded' && !/^postgres(ql)?:/.test(env.DATABASE_URL ?? '')) throw new Error(`FLOWCREW_MODE=${mode} needs a shared PostgreSQL (DATABASE_URL=postgres://...)`);
  return {
    instanceId,
    leaseTtlMs: ttl,
    mode,
    redisUrl: env.FLOWCREW_REDIS_URL || 'redis://127.0.0.1:6379',
    workerConcurrency: positive('FLOWCREW_WORKER_CONCURRENCY', env.FLOWCREW_WORKER_CONCURRENCY, 10),
    queueBatch: positive('FLOWCREW_QUEUE_BATCH', env.FLOWCREW_QUEUE_BATCH, 16),
    redisPrefix: prefixOf(env.FLOWCREW_REDIS_PREFIX),
    queueAttempts: positive('FLOWCREW_QUEUE_ATTEMPTS', env.FLOWCREW_QUEUE_ATTEMPTS, 3),
    requeueAfterMs: positive('FLOWCREW_QUEUE_REQUEUE_MS', env.FLOWCREW_QUEUE_REQUEUE_MS, 30_000),
    workerPort: env.FLOWCREW_WORKER_PORT === '0' ? 0 : positive('FLOWCREW_WORKER_PORT', env.FLOWCREW_WORKER_PORT, 8421),
  };
}
