/**
 * Deploy announcements over PostgreSQL LISTEN/NOTIFY, for embedded runtimes that share PostgreSQL without Redis
 * (cluster/deploy-sync.ts). One dedicated connection listens and notifies. Channels are database-wide while runtimes
 * may use different schemas of one database: each message carries the schema, and other schemas' are ignored.
 * A lost connection is opened again after a pause; what was announced meanwhile is caught by DeploySync's periodic
 * reconciliation with storage.
 */
import type { Logger } from '@flowcrew/sdk';
import pg from 'pg';
import { DeploySync, type DeployChannel } from './deploy-sync.ts';
import type { Executor } from '../executor/executor.ts';
import type { NodeRegistry } from '../registry/registry.ts';
import type { Storage } from '../storage/types.ts';

const CHANNEL = 'flowcrew_deploys';
const RECONNECT_MS = 5_000;

export class PgDeployChannel implements DeployChannel {
  private client: pg.Client | null = null;
  private schema = '';
  private onMessage: ((text: string) => void) | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly connectionString: string,
    private readonly log: Logger,
  ) {}

  async listen(onMessage: (text: string) => void): Promise<void> {
    this.onMessage = onMessage;
    await this.connect();
  }

  async publish(text: string): Promise<unknown> {
    const client = this.client ?? (await this.connect());
    return client.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify({ schema: this.schema, text })]);
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.connectionString, application_name: 'flowcrew-deploys', keepAlive: true });
    const lost = (why: string) => {
      if (this.client !== client) return;
      this.client = null;
      client.end().catch(() => {});
      if (this.closed) return;
      this.log.warn(`deploy sync: the PostgreSQL notification connection ${why}; opening it again in ${RECONNECT_MS / 1000} s`);
      this.retry = setTimeout(() => void this.connect().catch((e: unknown) => lost(`could not be opened (${(e as Error).message})`)), RECONNECT_MS);
      this.retry.unref();
    };
    client.on('error', (error) => lost(`failed (${error.message})`));
    client.on('end', () => lost('ended'));
    client.on('notification', (message) => {
      if (message.channel !== CHANNEL || !message.payload) return;
      try {
        const { schema, text } = JSON.parse(message.payload) as { schema: string; text: string };
        if (schema === this.schema) this.onMessage?.(text);
      } catch {
        // not ours
      }
    });
    await client.connect();
    this.schema = String((await client.query<{ schema: string }>('SELECT current_schema() AS schema')).rows[0]?.schema ?? '');
    await client.query(`LISTEN ${CHANNEL}`);
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

/**
 * The runtime's deploy following when embedded runtimes share PostgreSQL (run leases exist, no queue mode): null
 * otherwise (queue mode follows deploys over Redis: queue/mode.ts).
 */
export async function followDeploysOverPostgres(parts: {
  databaseUrl: string | undefined;
  mode: 'embedded' | 'main' | 'worker';
  instance: string;
  storage: Storage;
  executor: Executor;
  registry: NodeRegistry;
  log: Logger;
  maxDepth?: number;
}): Promise<DeploySync | null> {
  if (parts.mode !== 'embedded' || !parts.storage.leases || !parts.databaseUrl) return null;
  const sync = new DeploySync({ ...parts, channel: new PgDeployChannel(parts.databaseUrl, parts.log) });
  try {
    await sync.start();
  } catch (error) {
    sync.close();
    parts.log.warn(`deploy sync: could not listen on PostgreSQL (${(error as Error).message}); other runtimes' deploys are followed at restart only`);
    return null;
  }
  return sync;
}
