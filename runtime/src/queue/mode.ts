/**
 * Queue mode wiring (FLOWCREW_MODE=main|worker, see cluster/config.ts): what the executor does differently, and the
 * relay (mains) or the worker (workers) around it. Embedded mode uses none of this.
 *
 * main: runs are accepted into storage with an outbox row; the relay enqueues them after commit; webhook replies
 *   arrive over Redis pub/sub. Triggers, API and editor run here. No run executes here.
 * worker: no triggers, no HTTP; BullMQ jobs are leased and executed here; replies are published back.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '@flowcrew/sdk';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { queuePrefix, type ClusterConfig } from '../cluster/config.ts';
import type { Executor } from '../executor/executor.ts';
import type { EventFanout } from '../executor/events.ts';
import type { ExecutorOptions } from '../executor/types.ts';
import type { NodeRegistry } from '../registry/registry.ts';
import type { Storage } from '../storage/types.ts';
import type { DebugBuffer, DebugMessage } from '../live/debug-buffer.ts';
import { ClusterDebugLog, WorkerLive } from '../live/cluster.ts';
import { forwardRunEvents } from '../live/forward.ts';
import { forwardWaits } from '../waiting/live.ts';
import type { WaitingRuns } from '../waiting/waiting.ts';
import { DeploySync, redisDeployChannel } from '../cluster/deploy-sync.ts';
import { redisNames, type RedisNames } from '../cluster/redis-names.ts';
import { OutboxRelay } from './relay.ts';
import { RunsQueue } from './runs-queue.ts';
import { ReplyListener, ReplyPublisher, publishingWaiter } from './replies.ts';
import { QUEUE_NAME, QueueWorker } from './worker.ts';

export interface QueueBacklog {
  waiting: number;
  active: number;
  /** Age of the oldest run waiting for a worker: the oldest waiting job, or an older run still in the outbox. */
  oldestWaitingSeconds: number;
  outboxOldestSeconds: number;
}

export class QueueMode {
  private relay: OutboxRelay | undefined;
  private worker: QueueWorker | undefined;
  private readonly queue: Queue | undefined;
  private readonly listener: ReplyListener | undefined;
  /** A worker's answers to the mains, sent once per event-loop turn (queue/replies.ts). */
  private readonly publisher: ReplyPublisher | undefined;
  /** A worker's handle on the queue for backlog figures (a main has `queue`). */
  private probe: Queue | undefined;
  private live: WorkerLive | undefined;
  private deploySync: DeploySync | undefined;
  private detachLive: (() => void) | undefined;
  private detachWaits: (() => void) | undefined;
  /** This installation's channel and key names on a Redis server it may share (cluster/redis-names.ts). */
  private readonly names: RedisNames;

  private constructor(
    readonly mode: 'main' | 'worker',
    private readonly config: ClusterConfig,
    private readonly storage: Storage,
    private readonly log: Logger,
    private readonly redis: Redis,
    private readonly subscriber: Redis | undefined,
  ) {
    this.names = redisNames(config);
    if (mode === 'main') {
      this.queue = new RunsQueue(QUEUE_NAME, { connection: this.connection(), ...queuePrefix(config) });
      this.listener = new ReplyListener(subscriber!, this.names, config.instanceId, log);
    } else {
      this.publisher = new ReplyPublisher(redis, this.names);
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
  executorOptions(): Pick<ExecutorOptions, 'triggers' | 'remote' | 'replyTo' | 'noSlot' | 'deployForResume'> {
    if (this.mode === 'main') {
      const listener = this.listener!;
      return { remote: { accepted: (runId) => this.relay?.committed(runId), awaitReply: (runId, timeoutMs) => listener.awaitReply(runId, timeoutMs) } };
    }
    return { triggers: false, replyTo: (run) => publishingWaiter(this.publisher!, run.id, this.worker?.replyRoute(run.id)), noSlot: (runIds) => this.worker?.noSlot(runIds), deployForResume: async (runs) => this.worker?.deployFor(runs) };
  }

  start(parts: { executor: Executor; events: EventFanout; registry: NodeRegistry; maxDepth?: number; debugLog?: DebugBuffer; previewChars?: number; waiting?: WaitingRuns }): void {
    if (this.mode === 'main') {
      const listener = this.listener!;
      this.relay = new OutboxRelay({
        storage: this.storage,
        queue: this.queue!,
        log: this.log,
        attempts: this.config.queueAttempts,
        batch: this.config.queueBatch,
        requeueAfterMs: this.config.requeueAfterMs,
        replies: { channel: listener.channel, waits: (runId) => listener.waits(runId) },
      });
      this.relay.start();
      // Deploys made on one main reach the others (cluster/deploy-sync.ts).
      this.deploySync = new DeploySync({ instance: this.config.instanceId, channel: redisDeployChannel(this.redis, this.subscriber!, this.names), storage: this.storage, executor: parts.executor, registry: parts.registry, log: this.log, maxDepth: parts.maxDepth });
      void this.deploySync.start().catch((e: unknown) => this.log.warn(`deploy sync: could not subscribe: ${(e as Error).message}`));
      return;
    }
    // A response node here can answer a request whose run another worker executes (reply handles, executor/replies.ts).
    parts.executor.replies.remote = (handle, reply) => this.publisher!.answerHandle(handle, reply);
    // Runs executed here stream to the editors on every main (live/cluster.ts).
    this.live = new WorkerLive(this.config.redisUrl, this.log, this.names);
    if (parts.debugLog) {
      const debugLog = parts.debugLog;
      const stopForwarding = forwardRunEvents({ events: parts.events, debugLog, previewChars: parts.previewChars ?? 2_000 }, this.live);
      // Debug messages also go to the cluster's catch-up list, read by every main (live/cluster.ts ClusterDebugLog).
      const catchUp = new ClusterDebugLog(this.redis, this.names);
      const stopRecording = parts.events.add({
        debug: (e) => {
          const message = debugLog.messageFor(e);
          if (message) catchUp.record(message);
        },
      });
      this.detachLive = () => {
        stopForwarding();
        stopRecording();
      };
    }
    // Questions asked (or timed out) here reach the editors on the mains (waiting/live.ts).
    if (parts.waiting) this.detachWaits = forwardWaits(parts.waiting, this.live);
    this.worker = new QueueWorker({
      connection: this.connection(),
      storage: this.storage,
      log: this.log,
      concurrency: this.config.workerConcurrency,
      attempts: this.config.queueAttempts,
      prefix: this.config.redisPrefix,
      ...parts,
    });
    this.worker.start();
  }

  /**
   * On a main (WaitingRuns.requeue): an answered run parked on a question goes back to the workers through the outbox
   * instead of resuming on this main. False when it was not parked any more.
   */
  async requeueParked(runId: string): Promise<boolean> {
    const requeued = await this.storage.outbox!.requeueParked(runId);
    if (requeued) this.relay?.committed(runId);
    return requeued;
  }

  /**
   * On a main: a flow's debug messages after `after` from the cluster's catch-up list (the runs execute on workers),
   * with this process's own; undefined on a worker. Redis unreachable: this process's own, and a warning.
   */
  async debugSince(flowId: string, after: number, local: DebugMessage[]): Promise<DebugMessage[] | undefined> {
    if (this.mode !== 'main') return undefined;
    let cluster: DebugMessage[] = [];
    try {
      cluster = await new ClusterDebugLog(this.redis, this.names).since(flowId, after);
    } catch (error) {
      this.log.warn(`debug catch-up: could not read the cluster's list from Redis: ${(error as Error).message}`);
    }
    const bySeq = new Map([...cluster, ...local].map((m) => [m.seq, m]));
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  get relayStats() {
    return this.relay?.stats;
  }

  get workerStats() {
    return this.worker?.stats;
  }

  /**
   * The queue's backlog (readiness, metrics, the HPA, the benchmarks): jobs waiting and active, how long the oldest
   * waiting job has waited, and the oldest run committed but not yet enqueued (the outbox: Redis was down).
   * Throws when Redis does not answer.
   */
  async backlog(): Promise<QueueBacklog> {
    const queue = this.queue ?? (this.probe ??= new Queue(QUEUE_NAME, { connection: this.connection(), ...queuePrefix(this.config) }));
    const [counts, oldest, outbox] = await Promise.all([
      queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized'),
      queue.getJobs(['waiting', 'prioritized'], 0, 0, true),
      this.storage.outbox!.pending(1),
    ]);
    const now = Date.now();
    const waitedSince = Math.min(oldest[0]?.timestamp ?? now, outbox[0]?.createdAt ?? now);
    return {
      waiting: (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      oldestWaitingSeconds: Math.max(0, now - waitedSince) / 1000,
      outboxOldestSeconds: outbox[0] ? Math.max(0, now - outbox[0].createdAt) / 1000 : 0,
    };
  }

  /** Redis answers PING within `timeoutMs` (readiness); resolves with the round trip in ms. */
  async pingRedis(timeoutMs: number): Promise<number> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([this.redis.ping(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)))]);
    } finally {
      clearTimeout(timer);
    }
    return Math.round((performance.now() - started) * 10) / 10;
  }

  /** Mains: stop relaying (the outbox keeps the rest). Workers: drain, waiting up to `drainMs` for runs in progress. */
  async close(drainMs?: number): Promise<void> {
    this.deploySync?.close();
    await this.relay?.stop();
    await this.worker?.close(drainMs);
    this.detachLive?.();
    this.detachWaits?.();
    this.live?.close();
    this.listener?.close();
    await this.queue?.close();
    await this.probe?.close();
    this.subscriber?.disconnect();
    this.redis.disconnect();
  }
}
