/**
 * Announcements between processes of one installation (flow deploys: cluster/deploy-sync.ts; packs and sub-flows:
 * packs/library-sync.ts): fire-and-forget messages on a topic, every listener gets each one (its sender's included).
 * One interface, two transports chosen once at start by one rule (announcementTransport):
 * - Redis pub/sub in queue mode (mains and workers share Redis anyway);
 * - PostgreSQL LISTEN/NOTIFY for embedded runtimes sharing PostgreSQL without Redis.
 * Messages sent while a listener's connection was down are lost by both transports: a listener is told when its
 * connection is back (`onReconnect`) and catches up from storage (the stored deploys, the sub-flow library).
 */
import { lazyRequire, type Logger } from '@flowcrew/sdk';
import type { Redis } from 'ioredis';
import pg from 'pg';

/** ioredis (CommonJS) is loaded when a Redis channel is opened (queue mode), not by every runtime importing this module. */
const ioredis = lazyRequire<typeof import('ioredis')>('ioredis', import.meta.url);

export interface AnnouncementChannel {
  publish(text: string): Promise<unknown>;
  /** Resolves once listening. `onReconnect` runs each time the connection is back after a loss (not the first time). */
  listen(onMessage: (text: string) => void, onReconnect?: () => void): Promise<void>;
  close(): void;
}

/** Which transport a process uses: Redis in queue mode, PostgreSQL for embedded runtimes sharing it, else none. */
export function announcementTransport(parts: { mode: 'embedded' | 'main' | 'worker'; databaseUrl?: string; sharesPostgres: boolean }): 'redis' | 'postgres' | null {
  if (parts.mode !== 'embedded') return 'redis';
  return parts.sharesPostgres && parts.databaseUrl && /^postgres(ql)?:/.test(parts.databaseUrl) ? 'postgres' : null;
}

/** Redis pub/sub on `topic`: a publisher and a subscriber connection (given, or opened here from `url` and closed with it). */
export class RedisChannel implements AnnouncementChannel {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly owns: boolean;
  private closed = false;

  constructor(private readonly topic: string, connections: { url: string } | { publisher: Redis; subscriber: Redis }) {
    if ('url' in connections) {
      const connect = () => {
        const redis = new (ioredis().Redis)(connections.url, { maxRetriesPerRequest: null });
        redis.on('error', () => {}); // reconnects by itself; a lost announcement is logged where it is published
        return redis;
      };
      [this.publisher, this.subscriber, this.owns] = [connect(), connect(), true];
    } else [this.publisher, this.subscriber, this.owns] = [connections.publisher, connections.subscriber, false];
  }

  publish(text: string): Promise<unknown> {
    return this.publisher.publish(this.topic, text);
  }

  async listen(onMessage: (text: string) => void, onReconnect?: () => void): Promise<void> {
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.topic && !this.closed) onMessage(text);
    });
    await this.subscriber.subscribe(this.topic);
    // ioredis subscribes again by itself after a reconnect ('ready' follows the re-subscription).
    if (onReconnect) this.subscriber.on('ready', () => !this.closed && onReconnect());
  }

  close(): void {
    this.closed = true;
    if (!this.owns) return;
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }
}

const RECONNECT_MS = 5_000;

/**
 * PostgreSQL LISTEN/NOTIFY on `topic` (an SQL identifier), one dedicated connection. Channels are database-wide while
 * runtimes may use different schemas of one database: each message carries the schema, and other schemas' are ignored.
 * A lost connection is opened again after a pause.
 */
export class PgChannel implements AnnouncementChannel {
  private client: pg.Client | null = null;
  private schema = '';
  private onMessage: ((text: string) => void) | null = null;
  private onReconnect: (() => void) | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  private connecting: Promise<pg.Client> | null = null;

  constructor(
    private readonly topic: string,
    private readonly connectionString: string,
    private readonly log: Logger,
    /** Shown in application_name (pg_stat_activity): which process listens. */
    private readonly label = '',
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(topic)) throw new Error(`PostgreSQL notification channel "${topic}": use lower-case letters, digits and _`);
  }

  async listen(onMessage: (text: string) => void, onReconnect?: () => void): Promise<void> {
    this.onMessage = onMessage;
    this.onReconnect = onReconnect;
    await this.ensure();
  }

  async publish(text: string): Promise<unknown> {
    const client = await this.ensure();
    return client.query('SELECT pg_notify($1, $2)', [this.topic, JSON.stringify({ schema: this.schema, text })]);
  }

  /** The connection, opened once however many callers ask at the same time. */
  private ensure(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async connect(): Promise<pg.Client> {
    const name = `flowcrew ${this.topic}${this.label ? ` ${this.label}` : ''}`.slice(0, 63);
    const client = new pg.Client({ connectionString: this.connectionString, application_name: name, keepAlive: true });
    const lost = (why: string) => {
      if (this.client !== client) return;
      this.client = null;
      client.end().catch(() => {});
      if (this.closed) return;
      this.log.warn(`announcements (${this.topic}): the PostgreSQL notification connection ${why}; opening it again in ${RECONNECT_MS / 1000} s`);
      const reopen = () => {
        this.retry = setTimeout(() => {
          this.ensure().then(
            () => this.onReconnect?.(),
            (e: unknown) => {
              this.log.warn(`announcements (${this.topic}): could not reopen the notification connection: ${(e as Error).message}`);
              if (!this.closed) reopen();
            },
          );
        }, RECONNECT_MS);
        this.retry.unref();
      };
      reopen();
    };
    client.on('error', (error) => lost(`failed (${error.message})`));
    client.on('end', () => lost('ended'));
    client.on('notification', (message) => {
      if (message.channel !== this.topic || !message.payload) return;
      try {
        const { schema, text } = JSON.parse(message.payload) as { schema: string; text: string };
        if (schema === this.schema) this.onMessage?.(text);
      } catch {
        // not ours
      }
    });
    try {
      await client.connect();
      this.schema = String((await client.query<{ schema: string }>('SELECT current_schema() AS schema')).rows[0]?.schema ?? '');
      if (this.onMessage) await client.query(`LISTEN ${this.topic}`);
    } catch (error) {
      client.end().catch(() => {});
      throw error;
    }
    this.client = client;
    return client;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    void client?.end().catch(() => {});
  }
}
