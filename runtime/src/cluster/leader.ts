/**
 * Leader election among runtimes sharing one PostgreSQL, for the triggers that must fire once per cluster (cron, a
 * repeating inject: NodeDefinition.clusterSingleton). The leader holds a session-level advisory lock on a connection of
 * its own; nothing to migrate, and the lock goes the moment its session ends:
 * - a leader killed (kill -9, OOM) closes its socket, PostgreSQL ends the session and frees the lock at once; a
 *   follower polling every ttl/3 takes over within ttl/3;
 * - a leader that stalls (a long pause, a lost network) stops renewing; `idle_session_timeout = ttl` makes PostgreSQL
 *   end its idle session, freeing the lock after at most ttl;
 * - the leader fences itself: `holds()` is true only until ttl after the start of its last good heartbeat (before
 *   PostgreSQL could have ended its session), and every singleton trigger's emit checks it, so a leader that wakes up
 *   from a stall refuses its timers' ticks before its heartbeat finds out it lost.
 * The lock key is per database and schema, so runtimes on other schemas (tests) elect their own leader.
 * Not behind PgBouncer in transaction pooling mode: a session lock needs a real session (use a direct URL).
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '@flowcrew/sdk';
import pg from 'pg';

export interface LeaderElectionOptions {
  connectionString: string;
  /** The lock is lost this long after the leader's last heartbeat began (ms); heartbeats and polls every ttl/3. */
  ttlMs: number;
  log: Logger;
  /** Called (in order, one at a time) when this runtime becomes the leader or stops being it. */
  onChange: (leader: boolean) => Promise<void> | void;
  /** What this lock elects, in the key (default 'triggers'). */
  name?: string;
}

export class LeaderElection {
  private client: pg.Client | null = null;
  private leader = false;
  /** performance.now() until which the lock is surely still ours (see holds()). */
  private validUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | null = null;
  private changes: Promise<void> = Promise.resolve();
  private stopped = false;
  readonly stats = { elected: 0, steppedDown: 0, failures: 0 };

  constructor(private readonly options: LeaderElectionOptions) {}

  /** Whether this runtime may fire singleton triggers right now. */
  holds(): boolean {
    return this.leader && performance.now() < this.validUntil;
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** First attempt now (a lone runtime is the leader before its flows deploy), then every ttl/3. */
  async start(): Promise<void> {
    await this.tick();
    if (this.stopped) return;
    this.timer = setInterval(() => void this.tick(), Math.max(100, Math.floor(this.options.ttlMs / 3)));
    this.timer.unref();
  }

  /** One heartbeat (as leader) or attempt (as follower); never two at once. */
  tick(): Promise<void> {
    this.ticking ??= this.heartbeat().finally(() => (this.ticking = null));
    return this.ticking;
  }

  private async heartbeat(): Promise<void> {
    if (this.stopped) return;
    const began = performance.now();
    try {
      const client = this.client ?? (await this.connect());
      if (this.leader) {
        await withTimeout(client.query('SELECT 1'), this.options.ttlMs / 3);
      } else {
        const key = `flowcrew:${this.options.name ?? 'triggers'}`;
        const { rows } = await withTimeout(
          client.query<{ won: boolean }>(`SELECT pg_try_advisory_lock(hashtext(current_database() || ':' || current_schema() || ':' || $1)) AS won`, [key]),
          this.options.ttlMs / 3,
        );
        if (!rows[0]?.won || this.stopped) return;
        this.leader = true;
        this.stats.elected++;
        this.options.log.info('cluster: this runtime is now the leader (cron and repeating inject triggers fire here)');
        this.change(true);
      }
      this.validUntil = began + this.options.ttlMs;
    } catch (error) {
      this.stats.failures++;
      this.lose(`the leader lock's connection failed: ${(error as Error).message}`);
    }
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.options.connectionString, application_name: 'flowcrew-leader', connectionTimeoutMillis: this.options.ttlMs, keepAlive: true });
    // A connection lost between heartbeats: step down at once rather than at the next beat.
    client.on('error', (error) => this.lose(`the leader lock's connection was lost: ${error.message}`, client));
    client.on('end', () => this.lose("the leader lock's connection ended", client));
    this.client = client;
    try {
      await client.connect();
      // A silent session (its runtime stalled) is ended by the server after ttl, which frees the lock.
      await client.query(`SET idle_session_timeout = ${Math.ceil(this.options.ttlMs)}`);
    } catch (error) {
      this.drop(client);
      throw error;
    }
    return client;
  }

  /** The lock is (or may be) gone: forget the connection; step down if this runtime led. */
  private lose(reason: string, client = this.client): void {
    if (client !== this.client) return;
    if (client) this.drop(client);
    if (!this.leader) return;
    this.leader = false;
    this.validUntil = 0;
    this.stats.steppedDown++;
    this.options.log.warn(`cluster: no longer the leader (${reason}); another runtime takes the cron and repeating triggers over`);
    this.change(false);
  }

  private drop(client: pg.Client): void {
    if (this.client === client) this.client = null;
    client.removeAllListeners('end');
    client.on('error', () => {}); // a late socket error on a connection given up
    void client.end().catch(() => {});
  }

  private change(leader: boolean): void {
    this.changes = this.changes
      .then(() => this.options.onChange(leader))
      .catch((error: unknown) => this.options.log.error(`cluster: could not ${leader ? 'start' : 'stop'} the singleton triggers: ${(error as Error).message}`));
  }

  /** Stop electing; a leader steps down (its triggers stop) and frees the lock at once by ending its session. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.ticking;
    this.lose('this runtime is stopping');
    await this.changes;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(ms)} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The runtime's election, when runtimes share PostgreSQL (run leases exist) and this one starts triggers (not a queue
 * worker): singleton triggers start on the leader only. Resolves after the first attempt; null when there is nothing to elect.
 */
export async function electTriggerLeader(parts: {
  databaseUrl: string | undefined;
  cluster: { mode: 'embedded' | 'main' | 'worker'; leaseTtlMs: number };
  hasLeases: boolean;
  deployer: { useLeadership(l: { holds(): boolean }): void; leadershipChanged(leader: boolean): Promise<void> };
  log: Logger;
}): Promise<LeaderElection | null> {
  if (!parts.hasLeases || !parts.databaseUrl || parts.cluster.mode === 'worker') return null;
  const election = new LeaderElection({ connectionString: parts.databaseUrl, ttlMs: parts.cluster.leaseTtlMs, log: parts.log, onChange: (leader) => parts.deployer.leadershipChanged(leader) });
  parts.deployer.useLeadership(election);
  await election.start();
  return election;
}
