/**
 * The implementation of ResourceServices a host (the runtime, the test harness) gives nodes: one resource per key
 * and credential revision, reference-counted across holders, closed when the last one lets go, on credential change,
 * on a failed health check, and at shutdown.
 */
import type { Logger } from '../index.ts';
import { ResourceLimitError, type AcquireOptions, type ResourceLease, type ResourceServices } from '../resources.ts';

export interface ResourcePoolsOptions {
  /** Most resources open at once (retired ones still closing included); acquiring one more is refused. Default 512. */
  maxResources?: number;
  /** A retired resource still held this long (a query still running on the old credential) is closed anyway. Default 30 s. */
  retireGraceMs?: number;
  log?: Pick<Logger, 'warn'>;
}

/** One resource as the pools see it (tests and health figures). */
export interface ResourceInfo {
  key: string;
  credential?: { id: string; revision: number };
  holders: number;
  state: 'opening' | 'open' | 'retired';
}

type State = 'opening' | 'open' | 'retired' | 'closed';

interface Entry {
  key: string;
  fullKey: string;
  credential?: { id: string; revision: number };
  state: State;
  value: Promise<unknown>;
  close(value: unknown): void | Promise<void>;
  holders: Set<Lease>;
  /** Acquirers waiting for the open to finish. */
  waiting: number;
  idleMs: number;
  keepOpen: boolean;
  idleTimer?: NodeJS.Timeout;
  checkTimer?: NodeJS.Timeout;
  graceTimer?: NodeJS.Timeout;
}

class Lease implements ResourceLease<unknown> {
  private released = false;
  private readonly listeners = new Set<() => void>();
  /** Close the resource at once when this is its last holder (undeploy), whatever `idleMs` says. */
  closeNow = false;

  constructor(
    readonly value: unknown,
    private readonly entry: Entry,
    private readonly pools: ResourcePools,
  ) {}

  get stale(): boolean {
    return this.entry.state !== 'open';
  }

  onStale(listener: () => void): () => void {
    if (this.stale) {
      queueMicrotask(listener);
      return () => {};
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** @internal */
  notifyStale(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch {
        /* a holder's listener failing must not keep others from hearing */
      }
    }
    this.listeners.clear();
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.listeners.clear();
    this.pools.released(this.entry, this);
  }
}

const DEFAULT_CHECK_INTERVAL_MS = 30_000;
const DEFAULT_OPEN_TIMEOUT_MS = 30_000;

export class ResourcePools implements ResourceServices {
  /** Current (not retired) resources by full key. */
  private readonly entries = new Map<string, Entry>();
  /** Retired resources still held, closing when their last holder lets go (or after the grace). */
  private readonly retired = new Set<Entry>();
  private closed = false;
  private readonly maxResources: number;
  private readonly retireGraceMs: number;

  constructor(private readonly options: ResourcePoolsOptions = {}) {
    this.maxResources = options.maxResources ?? 512;
    this.retireGraceMs = options.retireGraceMs ?? 30_000;
  }

  async acquire<T>(key: string, open: (signal: AbortSignal) => Promise<T>, close: (value: T) => void | Promise<void>, options: AcquireOptions<T> = {}): Promise<ResourceLease<T>> {
    if (this.closed) throw new Error(`resource "${key}" cannot be opened: the runtime is shutting down`);
    const credential = options.credential ? { id: options.credential.id, revision: options.credential.revision } : undefined;
    const fullKey = credential ? `${key}\u0000credential:${credential.id}@${credential.revision}` : key;
    let entry = this.entries.get(fullKey);
    if (!entry) entry = this.openEntry(key, fullKey, credential, open as (signal: AbortSignal) => Promise<unknown>, close as (value: unknown) => void | Promise<void>, options as AcquireOptions<unknown>);
    entry.idleMs = Math.max(entry.idleMs, options.idleMs ?? 0);
    entry.keepOpen ||= options.keepOpen === true;
    clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    entry.waiting++;
    let value: unknown;
    try {
      value = await entry.value;
    } finally {
      entry.waiting--;
    }
    const lease = new Lease(value, entry, this);
    if (entry.state === 'closed') {
      // Closed while we waited (shutdown, or retired with no holder): hand out a stale lease rather than a dead value.
      throw new Error(`resource "${key}" was closed while it was being acquired`);
    }
    entry.holders.add(lease);
    if (options.check && !entry.checkTimer && entry.state === 'open') this.startChecks(entry, options as AcquireOptions<unknown>);
    return lease as ResourceLease<T>;
  }

  private openEntry(
    key: string,
    fullKey: string,
    credential: Entry['credential'],
    open: (signal: AbortSignal) => Promise<unknown>,
    close: (value: unknown) => void | Promise<void>,
    options: AcquireOptions<unknown>,
  ): Entry {
    const count = this.entries.size + this.retired.size;
    if (count >= this.maxResources) {
      throw new ResourceLimitError(
        `cannot open resource "${key}": ${count} pooled resources are open, the limit is ${this.maxResources} (are resource keys built from message data? they should name a credential or a server)`,
      );
    }
    const timeoutMs = options.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS;
    const controller = new AbortController();
    const entry: Entry = { key, fullKey, credential, state: 'opening', value: Promise.resolve(), close, holders: new Set(), waiting: 0, idleMs: 0, keepOpen: false };
    let timer: NodeJS.Timeout | undefined;
    const opening = open(controller.signal);
    entry.value = new Promise<unknown>((resolve, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`opening resource "${key}" timed out after ${timeoutMs} ms`);
        controller.abort(error);
        reject(error);
        // A value that arrives after all is closed, not leaked.
        opening.then((late) => this.closeValue(entry, late), () => undefined);
      }, timeoutMs);
      opening.then(resolve, reject);
    }).finally(() => clearTimeout(timer));
    entry.value.then(
      () => {
        if (entry.state === 'opening') entry.state = 'open';
      },
      () => {
        // A failed open is not remembered: the next acquire tries again.
        entry.state = 'closed';
        if (this.entries.get(fullKey) === entry) this.entries.delete(fullKey);
      },
    );
    this.entries.set(fullKey, entry);
    return entry;
  }

  private startChecks(entry: Entry, options: AcquireOptions<unknown>): void {
    const check = options.check!;
    let running = false;
    entry.checkTimer = setInterval(() => {
      if (running || entry.state !== 'open') return;
      running = true;
      void entry.value
        .then((value) => check(value))
        .then(
          (healthy) => {
            if (healthy === false) this.fail(entry, 'its health check returned false');
          },
          (error: unknown) => this.fail(entry, `its health check failed: ${(error as Error).message}`),
        )
        .finally(() => {
          running = false;
        });
    }, options.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS);
    entry.checkTimer.unref();
  }

  private fail(entry: Entry, why: string): void {
    this.options.log?.warn(`resource "${entry.key}" is closed and will be opened again on next use: ${why}`);
    this.retire(entry);
  }

  /** @internal a lease was given back */
  released(entry: Entry, lease: Lease): void {
    entry.holders.delete(lease);
    if (entry.holders.size > 0 || entry.waiting > 0) return;
    if (entry.state === 'retired') return void this.closeEntry(entry);
    if (entry.state !== 'open' || entry.keepOpen) return;
    if (lease.closeNow || entry.idleMs <= 0) return void this.closeEntry(entry);
    entry.idleTimer = setTimeout(() => {
      if (entry.holders.size === 0 && entry.waiting === 0) void this.closeEntry(entry);
    }, entry.idleMs);
    entry.idleTimer.unref();
  }

  /**
   * The credential `id` changed to `revision` (or was deleted: no revision): resources opened with an older revision
   * are retired. Their holders see `stale` and acquire again; each closes when its last holder lets go.
   */
  retireCredential(id: string, revision?: number): number {
    let count = 0;
    for (const entry of [...this.entries.values()]) {
      if (entry.credential?.id === id && (revision === undefined || entry.credential.revision < revision)) {
        this.retire(entry);
        count++;
      }
    }
    return count;
  }

  private retire(entry: Entry): void {
    if (entry.state === 'retired' || entry.state === 'closed') return;
    entry.state = 'retired';
    if (this.entries.get(entry.fullKey) === entry) this.entries.delete(entry.fullKey);
    clearInterval(entry.checkTimer);
    clearTimeout(entry.idleTimer);
    if (entry.holders.size === 0 && entry.waiting === 0) {
      void this.closeEntry(entry);
      return;
    }
    this.retired.add(entry);
    entry.graceTimer = setTimeout(() => void this.closeEntry(entry), this.retireGraceMs);
    entry.graceTimer.unref();
    for (const lease of [...entry.holders]) lease.notifyStale();
  }

  private async closeEntry(entry: Entry): Promise<void> {
    if (entry.state === 'closed') return;
    const wasRetired = entry.state === 'retired';
    entry.state = 'closed';
    if (this.entries.get(entry.fullKey) === entry) this.entries.delete(entry.fullKey);
    this.retired.delete(entry);
    clearInterval(entry.checkTimer);
    clearTimeout(entry.idleTimer);
    clearTimeout(entry.graceTimer);
    if (!wasRetired) for (const lease of [...entry.holders]) lease.notifyStale();
    let value: unknown;
    try {
      value = await entry.value;
    } catch {
      return; // never opened: nothing to close
    }
    await this.closeValue(entry, value);
  }

  private async closeValue(entry: Entry, value: unknown): Promise<void> {
    try {
      await entry.close(value);
    } catch (error) {
      this.options.log?.warn(`resource "${entry.key}" did not close cleanly: ${(error as Error).message}`);
    }
  }

  /** A holder's view: leases it takes are tracked, and released together by `releaseAll` (its node's undeploy). */
  scope(): ResourceScope {
    return new ResourceScope(this);
  }

  /** Every resource open or closing, for health figures and tests. */
  list(): ResourceInfo[] {
    return [...this.entries.values(), ...this.retired].map((e) => ({
      key: e.key,
      ...(e.credential ? { credential: { ...e.credential } } : {}),
      holders: e.holders.size,
      state: e.state as ResourceInfo['state'],
    }));
  }

  /** Close everything now (shutdown): holders' leases go stale; nothing new opens afterwards. */
  async closeAll(): Promise<void> {
    this.closed = true;
    await this.reset();
  }

  /** Close everything now, keep serving new acquires (tests that start over between cases). */
  async reset(): Promise<void> {
    const all = [...this.entries.values(), ...this.retired];
    await Promise.allSettled(all.map((entry) => this.closeEntry(entry)));
  }
}

/** The resources of one holder (a node instance); implements ResourceServices for it. */
export class ResourceScope implements ResourceServices {
  private readonly leases = new Set<ResourceLease<unknown>>();
  private undeploying = false;

  constructor(private readonly pools: ResourcePools) {}

  async acquire<T>(key: string, open: (signal: AbortSignal) => Promise<T>, close: (value: T) => void | Promise<void>, options?: AcquireOptions<T>): Promise<ResourceLease<T>> {
    const lease = await this.pools.acquire(key, open, close, options);
    this.leases.add(lease as ResourceLease<unknown>);
    const release = lease.release.bind(lease);
    const scoped: ResourceLease<T> = Object.create(lease, {
      release: {
        value: () => {
          this.leases.delete(lease as ResourceLease<unknown>);
          if (this.undeploying) (lease as unknown as Lease).closeNow = true;
          release();
        },
      },
    });
    return scoped;
  }

  /** How many leases this holder still has. */
  get held(): number {
    return this.leases.size;
  }

  /**
   * The holder is being undeployed: from now on, a resource whose last holder it is closes at once when released
   * (by the node's own close or by releaseAll), without its idle linger. Call it before closing the node.
   */
  undeploy(): void {
    this.undeploying = true;
  }

  /** Release every lease still held (after the node closed). `closeNow`: as after `undeploy()`. */
  releaseAll(options: { closeNow?: boolean } = {}): void {
    if (options.closeNow) this.undeploying = true;
    for (const lease of [...this.leases]) {
      if (this.undeploying) (lease as Lease).closeNow = true;
      lease.release();
    }
    this.leases.clear();
  }
}
