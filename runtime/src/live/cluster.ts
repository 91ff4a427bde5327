/**
 * Live events across processes (queue mode). Mains run Socket.IO with the Redis adapter (@socket.io/redis-adapter),
 * so an event emitted on any main reaches the editors connected to every main. Workers serve no sockets: they emit
 * through @socket.io/redis-emitter into the same adapter channel.
 *
 * Events are built (message previews serialised) only for rooms someone listens to. With several processes, "someone"
 * may be on another main, so each main publishes the rooms its sockets are in (a Redis key per main with an expiry,
 * refreshed on a beat and on every change, and the full list on a channel) and every process keeps the union: a worker
 * pays nothing for runs nobody watches, and a main that dies stops counting when its key expires.
 */
import type { Server } from 'socket.io';
import type { Emitter } from '@socket.io/redis-emitter';
import type { Redis } from 'ioredis';
import { lazyRequire, type Logger } from '@flowcrew/sdk';
import type { DebugMessage } from './debug-buffer.ts';
import { redisNames, type RedisNames } from '../cluster/redis-names.ts';
import type { ClusterConfig } from '../cluster/config.ts';

/**
 * ioredis and Socket.IO's Redis adapter and emitter (CommonJS, ~4 MB of heap) are loaded by the first main or worker
 * of queue mode that connects, not by every runtime that imports this module.
 */
const ioredis = lazyRequire<typeof import('ioredis')>('ioredis', import.meta.url);
const redisAdapter = lazyRequire<typeof import('@socket.io/redis-adapter')>('@socket.io/redis-adapter', import.meta.url);
const redisEmitter = lazyRequire<typeof import('@socket.io/redis-emitter')>('@socket.io/redis-emitter', import.meta.url);
const redisLibraries = () => ({ Redis: ioredis().Redis, createAdapter: redisAdapter().createAdapter, Emitter: redisEmitter().Emitter });

/** How often a main republishes its rooms and everyone re-reads all of them (a missed message heals within this). */
const BEAT_MS = 5_000;
const EXPIRY_MS = 3 * BEAT_MS;

type RoomList = { instance: string; rooms: string[] };

/** An editor's catch-up list is for a reconnect or a page load, not history: a flow's list expires an hour after its last message. */
const DEBUG_TTL_MS = 3_600_000;

/**
 * The debug catch-up list of the whole cluster (queue mode): the process that produced a debug message (a worker)
 * adds it to a capped sorted set per flow in Redis, scored by its seq; any main answers
 * GET /api/v1/flows/:id/debug?after=<seq> from there, so an editor on another main catches up too. The messages are
 * the same previews the live event carries (live/debug-buffer.ts numbered them).
 */
export class ClusterDebugLog {
  constructor(
    private readonly redis: Redis,
    private readonly names: RedisNames,
    private readonly perFlow = 500,
  ) {}

  record(message: DebugMessage): void {
    const key = this.names.debugKey(message.flowId);
    void this.redis
      .multi()
      .zadd(key, message.seq, JSON.stringify(message))
      .zremrangebyrank(key, 0, -(this.perFlow + 1))
      .pexpire(key, DEBUG_TTL_MS)
      .exec()
      .catch(() => {}); // best effort, as the live event itself
  }

  /** The flow's messages with seq greater than `after`, oldest first. */
  async since(flowId: string, after = 0): Promise<DebugMessage[]> {
    const items = await this.redis.zrangebyscore(this.names.debugKey(flowId), `(${after}`, '+inf');
    return items.map((text) => JSON.parse(text) as DebugMessage);
  }
}

function connect(url: string): Redis {
  const redis = new (redisLibraries().Redis)(url, { maxRetriesPerRequest: null });
  redis.on('error', () => {}); // reconnects by itself; live events are best effort while Redis is away
  return redis;
}

/** The rooms watched anywhere in the cluster, kept from the mains' published lists. */
export class ClusterInterest {
  private readonly byInstance = new Map<string, { rooms: Set<string>; expiresAt: number }>();
  private readonly timer: NodeJS.Timeout;
  private readonly subscriber: Redis;

  constructor(private readonly redis: Redis, url: string, private readonly log: Logger, private readonly names: RedisNames) {
    this.subscriber = connect(url);
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel !== names.roomsChannel) return;
      try {
        const list = JSON.parse(text) as RoomList;
        this.byInstance.set(list.instance, { rooms: new Set(list.rooms), expiresAt: Date.now() + EXPIRY_MS });
      } catch {
        // not ours
      }
    });
    void this.subscriber.subscribe(names.roomsChannel).catch((e: unknown) => log.warn(`live: could not subscribe to ${names.roomsChannel}: ${(e as Error).message}`));
    this.timer = setInterval(() => void this.refresh(), BEAT_MS);
    this.timer.unref();
  }

  /** Re-read every main's list (at start, and on the beat for what a lost message missed). */
  async refresh(): Promise<void> {
    try {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await this.redis.scan(cursor, 'MATCH', this.names.roomsKeyPattern, 'COUNT', 200);
        cursor = next;
        keys.push(...found);
      } while (cursor !== '0');
      const values = keys.length > 0 ? await this.redis.mget(...keys) : [];
      const now = Date.now();
      this.byInstance.clear();
      for (const value of values) {
        if (!value) continue;
        const list = JSON.parse(value) as RoomList;
        this.byInstance.set(list.instance, { rooms: new Set(list.rooms), expiresAt: now + EXPIRY_MS });
      }
    } catch (error) {
      this.log.debug(`live: could not read the watched rooms: ${(error as Error).message}`);
    }
  }

  has(room: string): boolean {
    for (const entry of this.byInstance.values()) if (entry.rooms.has(room) && entry.expiresAt > Date.now()) return true;
    return false;
  }

  /**
   * No main has a room watched (every list is empty, or there is none): every run and node event passes here (12 per
   * run of the order flow), and then none is looked at. A list that expired with rooms in it still counts until the
   * next refresh drops it: has() then answers per room.
   */
  nobody(): boolean {
    for (const entry of this.byInstance.values()) if (entry.rooms.size > 0) return false;
    return true;
  }

  close(): void {
    clearInterval(this.timer);
    this.subscriber.disconnect();
  }
}

/** On a main: the Redis adapter on `io`, this main's rooms published, and the cluster's interest. */
export class MainLive {
  private readonly pub: Redis;
  private readonly sub: Redis;
  readonly interest: ClusterInterest;
  private publishing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private readonly instance: string;
  private readonly names: RedisNames;

  constructor(private readonly io: Server, cluster: ClusterConfig, private readonly log: Logger) {
    this.instance = cluster.instanceId;
    this.names = redisNames(cluster);
    this.pub = connect(cluster.redisUrl);
    this.sub = connect(cluster.redisUrl);
    io.adapter(redisLibraries().createAdapter(this.pub, this.sub, { key: this.names.socketIo }));
    this.interest = new ClusterInterest(this.pub, cluster.redisUrl, log, this.names);
    const adapter = io.of('/').adapter;
    // Only the rooms live events go to; a socket's own room (its id) is not one.
    const changed = (room: string) => (room.startsWith('flow:') || room.startsWith('run:') ? void this.publish() : undefined);
    adapter.on('create-room', changed);
    adapter.on('delete-room', changed);
    this.timer = setInterval(() => void this.publish(), BEAT_MS);
    this.timer.unref();
    void this.interest.refresh();
    void this.publish();
  }

  /** Publish this main's watched rooms; resolves when Redis has them (a subscribe is acknowledged after this). */
  publish(): Promise<void> {
    this.publishing = this.publishing.then(async () => {
      const rooms = [...this.io.of('/').adapter.rooms.keys()].filter((r) => r.startsWith('flow:') || r.startsWith('run:'));
      const list = JSON.stringify({ instance: this.instance, rooms } satisfies RoomList);
      try {
        await this.pub.multi().set(this.names.roomsKey(this.instance), list, 'PX', EXPIRY_MS).publish(this.names.roomsChannel, list).exec();
      } catch (error) {
        this.log.debug(`live: could not publish the watched rooms: ${(error as Error).message}`);
      }
    });
    return this.publishing;
  }

  /** Someone anywhere listens to `room`. */
  listening(room: string): boolean {
    return (this.io.of('/').adapter.rooms.get(room)?.size ?? 0) > 0 || this.interest.has(room);
  }

  /** No socket on this main and no room watched on any main (see ClusterInterest.nobody). */
  nobody(): boolean {
    return this.io.of('/').adapter.rooms.size === 0 && this.interest.nobody();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.interest.close();
    await this.pub.del(this.names.roomsKey(this.instance)).catch(() => {});
    this.pub.disconnect();
    this.sub.disconnect();
  }
}

/** On a worker: emits into the mains' adapter, for rooms someone watches. */
export class WorkerLive {
  private readonly redis: Redis;
  private readonly emitter: Emitter;
  readonly interest: ClusterInterest;

  constructor(url: string, log: Logger, names: RedisNames) {
    this.redis = connect(url);
    this.emitter = new (redisLibraries().Emitter)(this.redis, { key: names.socketIo });
    this.interest = new ClusterInterest(this.redis, url, log, names);
    void this.interest.refresh();
  }

  listening(room: string): boolean {
    return this.interest.has(room);
  }

  nobody(): boolean {
    return this.interest.nobody();
  }

  emit(rooms: string[], event: string, payload: unknown): void {
    this.emitter.to(rooms).emit(event, payload);
  }

  /** A server-side event to every main (io.of('/').on(event)), e.g. a question asked here (waiting/live.ts). */
  serverEmit(event: string, payload: unknown): void {
    this.emitter.serverSideEmit(event, payload);
  }

  close(): void {
    this.interest.close();
    this.redis.disconnect();
  }
}
