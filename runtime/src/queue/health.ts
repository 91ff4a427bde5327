/**
 * Queue mode's part of readiness (mains and workers): Redis answers, and the queue's backlog (jobs waiting, how long
 * the oldest has waited, runs still in the outbox). Only an unreachable Redis makes an instance "not ready": a long
 * backlog means too few workers, not a broken instance, and taking every main out of service for it would turn a
 * slowdown into an outage; the backlog goes to the metrics and the FlowcrewQueueBacklog alert instead.
 */
import type { QueueBacklog, QueueMode } from './mode.ts';

export const READY_REDIS_TIMEOUT_MS = 2_000;

export interface QueueCheck {
  ok: boolean;
  detail?: string;
  redisMs?: number;
  backlog?: QueueBacklog;
}

export async function queueCheck(queue: QueueMode, admin: boolean, timeoutMs = READY_REDIS_TIMEOUT_MS): Promise<QueueCheck> {
  let redisMs: number;
  try {
    redisMs = await queue.pingRedis(timeoutMs);
  } catch (error) {
    return { ok: false, detail: admin ? `redis: ${(error as Error).message}` : 'redis unreachable' };
  }
  // The backlog is information only, and part of it (the outbox) is in the database: when it cannot be read, the
  // storage check says why; it is left out here rather than blamed on Redis.
  let timer: NodeJS.Timeout | undefined;
  const backlog = await Promise.race([queue.backlog().catch(() => undefined), new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)))]).finally(() => clearTimeout(timer));
  return { ok: true, redisMs, ...(backlog ? { backlog } : {}) };
}
