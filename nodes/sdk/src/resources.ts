/**
 * Pooled resources: connections (a database pool, a broker connection, an MCP client) shared by every node of
 * every flow in the runtime that asks for the same key, instead of one per node or a process-global map per pack.
 *
 * `services.resources.acquire(key, open, close, options)` opens the resource once per key (and per credential
 * revision, when `options.credential` is given), counts its holders, and closes it when the last holder releases
 * it, when the nodes holding it are undeployed, when its credential changes, or when its health check fails.
 * Nodes usually hold one through `PooledResource`, which re-acquires after such a change by itself.
 */
import type { NodeCredential } from './credential-types.ts';

export interface AcquireOptions<T> {
  /**
   * Tie the resource to a credential: it is keyed by the credential's id and revision too, and closed when the
   * credential changes (holders see `stale` and acquire again, getting one opened with the new fields).
   */
  credential?: Pick<NodeCredential, 'id' | 'revision'>;
  /**
   * Health check, run every `checkIntervalMs` while the resource is open: throwing or returning false retires it
   * (holders see `stale`; the next acquire opens a fresh one).
   */
  check?(value: T): boolean | void | Promise<boolean | void>;
  /** Default 30 s. */
  checkIntervalMs?: number;
  /**
   * Keep the resource open this long after its last holder released it (default 0: close at once), for holders
   * that come and go (a node created per tool call). Undeploying the last holder closes it at once regardless.
   */
  idleMs?: number;
  /** Never close it for having no holder (an in-memory database whose data would go with it); closed at shutdown. */
  keepOpen?: boolean;
  /** Give up opening after this long (default 30 s): the acquire rejects, and a late value is closed. */
  openTimeoutMs?: number;
}

export interface ResourceLease<T> {
  readonly value: T;
  /** True once the resource is retired (its credential changed, its health check failed, the runtime is closing). */
  readonly stale: boolean;
  /** Called once when the lease goes stale. Returns a function that unsubscribes. */
  onStale(listener: () => void): () => void;
  /** Give the resource back. Idempotent. */
  release(): void;
}

export interface ResourceServices {
  /**
   * Share one resource per key across the runtime. `open` runs once for concurrent acquirers of a new key; a failed
   * open is not remembered (the next acquire tries again). Keys are global to the runtime: prefix them with your
   * pack's name ('db:postgres:...').
   */
  acquire<T>(key: string, open: (signal: AbortSignal) => Promise<T>, close: (value: T) => void | Promise<void>, options?: AcquireOptions<T>): Promise<ResourceLease<T>>;
}

/** Too many resources open at once (a key built from message data, or a leak): the acquire is refused. */
export class ResourceLimitError extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'ResourceLimitError';
  }
}

export interface PooledResourceOptions<T> extends Omit<AcquireOptions<T>, 'credential'> {
  /** The node's credential (live): after it changes, the next `use` gets a resource opened with the new fields. */
  credential?: NodeCredential;
}

/**
 * A node's hold on one pooled resource: acquired on first use, acquired again when the lease went stale (credential
 * changed, health check failed), released by `release()` (call it from the node's `close`; the runtime also
 * releases whatever a node still holds when it is undeployed).
 */
export class PooledResource<T> {
  private pending: Promise<ResourceLease<T>> | undefined;
  private held: ResourceLease<T> | undefined;
  /** The credential revision `held` was opened with. */
  private heldRevision: number | undefined;
  /** Leases a `use` is running with, and how many: a retired one is released when its last use ends. */
  private readonly users = new Map<ResourceLease<T>, number>();
  private released = false;

  constructor(
    private readonly resources: ResourceServices,
    private readonly key: string,
    private readonly open: (signal: AbortSignal) => Promise<T>,
    private readonly close: (value: T) => void | Promise<void>,
    private readonly options: PooledResourceOptions<T> = {},
  ) {}

  /** Run `fn` with the resource; the lease is not given back while `fn` runs, even when it goes stale meanwhile. */
  async use<R>(fn: (value: T) => R | Promise<R>): Promise<R> {
    const lease = await this.current();
    this.users.set(lease, (this.users.get(lease) ?? 0) + 1);
    try {
      return await fn(lease.value);
    } finally {
      const left = this.users.get(lease)! - 1;
      if (left > 0) this.users.set(lease, left);
      else {
        this.users.delete(lease);
        if (lease !== this.held) lease.release();
      }
    }
  }

  /** The resource's lease for a long-lived use (a listening connection); watch `onStale` to reconnect. */
  current(): Promise<ResourceLease<T>> {
    if (this.released) return Promise.reject(new Error(`resource "${this.key}" was released (the node is closing)`));
    const held = this.held;
    const credential = this.options.credential;
    if (held && !held.stale && (!credential || credential.revision === this.heldRevision)) return Promise.resolve(held);
    if (held) this.retire(held);
    this.pending ??= this.acquire();
    return this.pending;
  }

  private acquire(): Promise<ResourceLease<T>> {
    const credential = this.options.credential;
    const revision = credential?.revision;
    const { credential: _live, ...rest } = this.options;
    const acquiring: Promise<ResourceLease<T>> = this.resources
      .acquire(this.key, this.open, this.close, { ...rest, credential: credential ? { id: credential.id, revision: revision! } : undefined })
      .then(
        (lease) => {
          if (this.pending === acquiring) this.pending = undefined;
          if (this.released) {
            lease.release();
            throw new Error(`resource "${this.key}" was released (the node is closing)`);
          }
          this.held = lease;
          this.heldRevision = revision;
          // Let go as soon as it is retired, unless a `use` is running (that one releases it when done).
          lease.onStale(() => this.retire(lease));
          return lease;
        },
        (error: unknown) => {
          if (this.pending === acquiring) this.pending = undefined;
          throw error;
        },
      );
    return acquiring;
  }

  private retire(lease: ResourceLease<T>): void {
    if (this.held === lease) this.held = undefined;
    if (!this.users.has(lease)) lease.release();
  }

  /**
   * Give back the current lease because its resource broke (a connection that dropped): the next `use` or `current`
   * acquires again. When this node was its only holder, the broken resource is closed.
   */
  discard(): void {
    const held = this.held;
    if (held) this.retire(held);
  }

  /** Give the resource back (node close). Further `use` calls reject; running ones finish first. */
  release(): void {
    this.released = true;
    const held = this.held;
    this.held = undefined;
    if (held && !this.users.has(held)) held.release();
  }
}
