/**
 * Queue mode wiring (FLOWCREW_MODE=main|worker, see cluster/config.ts): what the executor does differently, and the
 * relay (mains) or the worker (workers) around it. Embedded mode uses none of this.
 *
 * main: runs are accepted into storage with an outbox row; the relay enqueues them after commit; webhook replies
 *   arrive over Redis pub/sub. Triggers, API and editor run here. No run executes here.
 * worker: no triggers, no HTTP; BullMQ jobs are leased and executed here; replies are published back.
 */
import type { Logger } from '@flowcrew/sdk';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { ClusterConfig } from '../cluster/config.ts';
import type { Executor } from '../executor/executor.ts';
import type { EventFanout } from '../executor/events.ts';
import type { ExecutorOptions } from '../executor/types.ts';
import type { NodeRegistry } from '../registry/registry.ts';
import type { Storage } from '../storage/types.ts';
import { OutboxRelay } from './relay.ts';
import { ReplyListener, publishingWaiter } from './replies.ts';
import { QUEUE_NAME, QueueWorker } from './worker.ts';

export class QueueMode {
  private relay: OutboxRelay | undefined;
  private worker: QueueWorker | undefined;
  private readonly queue: Queue | undefined;
  private readonly listener: ReplyListener | undefined;

  private constructor(
    readonly mode: 'main' | 'worker',
    private readonly config: ClusterConfig,
    private readonly storage: Storage,
    private readonly log: Logger,
    private readonly redis: Redis,
    private readonly subscriber: Redis | undefined,
  ) {
    if (mode === 'main') {
      this.queue = new Queue(QUEUE_NAME, { connection: this.connection() });
      this.listener = new ReplyListener(subscriber!);
    }
  }

  /** Connects to Redis (a clear error when it cannot) and checks the storage can hold leases and an outbox (PostgreSQL). */
  static async open(config: ClusterConfig, storage: Storage, log: Logger): Promise<QueueMode | null> {
    if (config.mode === 'embedded') return null;
    if (!storage.leases || !storage.outbox) throw new Error(`FLOWCREW_MODE=${config.mode} needs PostgreSQL storage (leases and the run outbox)`);
    const connect = async () => {
      const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
      redis.on('error', () => {}); // reconnects by itself; failures surface on the commands that need it
      await redis.connect().catch((error: unknown) => {
        redis.disconnect();
        throw new Error(`FLOWCREW_MODE=${config.mode}: Redis at ${config.redisUrl} is not reachable: ${(error as Error).message}`);
      });
      return redis;
    };
    const redis = await connect();
    const subscriber = config.mode === 'main' ? await connect() : undefined;
    return new QueueMode(config.mode, config, storage, log, redis, subscriber);
  }

  private connection() {
    const url = new URL(this.config.redisUrl);
    const db = Number(url.pathname.slice(1) || 0);
    return { host: url.hostname, port: Number(url.port || 6379), db, ...(url.password ? { password: decodeURIComponent(url.password) } : {}), maxRetriesPerRequest: null };
  }

  /** What the executor does differently in this mode. */
  executorOptions(): Pick<ExecutorOptions, 'triggers' | 'remote' | 'replyTo'> {
    if (this.mode === 'main') {
      const listener = this.listener!;
      return { remote: { accepted: () => this.relay?.kick(), awaitReply: (runId, timeoutMs) => listener.awaitReply(runId, timeoutMs) } };
    }
    return { triggers: false, replyTo: (run) => publishingWaiter(this.redis, run.id) };
  }

  start(parts: { executor: Executor; events: EventFanout; registry: NodeRegistry; maxDepth?: number }): void {
    if (this.mode === 'main') {
      this.relay = new OutboxRelay({ storage: this.storage, queue: this.queue!, log: this.log, attempts: this.config.queueAttempts });
      this.relay.start();
      return;
    }
    this.worker = new QueueWorker({
      connection: this.connection(),
      storage: this.storage,
      log: this.log,
      concurrency: this.config.workerConcurrency,
      attempts: this.config.queueAttempts,
      ...parts,
    });
    this.worker.start();
  }

  get relayStats() {
    return this.relay?.stats;
  }

  get workerStats() {
    return this.worker?.stats;
  }

  /** Jobs waiting and active (readiness, metrics, the benchmarks). */
  async depth(): Promise<{ waiting: number; active: number }> {
    const queue = this.queue ?? new Queue(QUEUE_NAME, { connection: this.connection() });
    try {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return { waiting: (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0), active: counts.active ?? 0 };
    } finally {
      if (queue !== this.queue) await queue.close();
    }
  }

  /** Mains: stop relaying (the outbox keeps the rest). Workers: drain, waiting up to `drainMs` for runs in progress. */
  async close(drainMs?: number): Promise<void> {
    await this.relay?.stop();
    await this.worker?.close(drainMs);
    this.listener?.close();
    await this.queue?.close();
    this.subscriber?.disconnect();
    this.redis.disconnect();
  }
}
