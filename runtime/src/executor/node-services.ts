/**
 * What the executor shares with every node beyond its own flow: live credentials (one object per credential id,
 * updated in place when the stored credential changes), pooled resources (ResourcePools, per runtime) and the blob
 * store (claim checks, in the data directory, garbage-collected with run retention).
 *
 * Credential changes reach running nodes two ways: at once when this runtime changes a credential
 * (`credentialChanged`, called by the credential service), and by polling the stored credentials in use (every
 * `pollMs`), for changes made by another process (a CLI, another runtime on the same database).
 */
import path from 'node:path';
import type { BlobPutOptions, BlobRef, BlobServices, BlobSource, Logger, RuntimeDatabase } from '@flowcrew/sdk';
import { FileBlobStore, LiveCredential, ResourcePools } from '@flowcrew/sdk/host';
import type { Readable } from 'node:stream';
import type { Storage } from '../storage/types.ts';

export interface NodeServicesOptions {
  storage: Storage;
  log: Logger;
  dataDir: string;
  /** Decrypted fields of a stored credential. */
  resolve(id: string): Promise<Record<string, unknown> | undefined>;
  database?: RuntimeDatabase;
  /** How often the stored credentials in use are checked for changes made elsewhere (default 15 s; 0: never). */
  credentialPollMs?: number;
  /** How often blobs no kept run refers to are removed (default 1 h; 0: never). */
  blobGcMs?: number;
  maxResources?: number;
}

interface Held {
  credential: LiveCredential;
  users: number;
  /** The stored (encrypted) blob last seen: a poll decrypts only when it changed. */
  data: string | undefined;
}

export class NodeServicesHost {
  readonly pools: ResourcePools;
  readonly blobs: LazyBlobStore;
  readonly database: RuntimeDatabase;
  private readonly held = new Map<string, Held>();
  /**
   * The revision each credential had when its last user let go, and its stored (encrypted) blob then: held again,
   * it keeps that revision if unchanged, or the next one, so a resource still lingering from before (keyed by the old
   * revision) is never handed out with fields that changed meanwhile. No clear text is kept.
   */
  private readonly revisions = new Map<string, { revision: number; data: string | undefined }>();
  private readonly timers: NodeJS.Timeout[] = [];
  private polling = false;
  /** Stores a node's credential write-back (set by the credential service, which checks and audits it). */
  credentialWriter: ((id: string, patch: Record<string, unknown>, reason: string) => Promise<{ fields: Record<string, unknown>; data: string }>) | undefined;

  constructor(private readonly options: NodeServicesOptions) {
    this.pools = new ResourcePools({ log: options.log, maxResources: options.maxResources });
    this.blobs = new LazyBlobStore(options.dataDir);
    this.database = options.database ?? { dialect: 'sqlite' };
    const pollMs = options.credentialPollMs ?? 15_000;
    if (pollMs > 0) this.every(pollMs, () => this.poll());
    const gcMs = options.blobGcMs ?? 3_600_000;
    if (gcMs > 0) this.every(gcMs, () => this.collectBlobs());
  }

  private every(ms: number, task: () => Promise<unknown>): void {
    const timer = setInterval(() => void task().catch((error: unknown) => this.options.log.warn((error as Error).message)), ms);
    timer.unref();
    this.timers.push(timer);
  }

  /**
   * The live credential for a node using `id` (counted until `unhold`). Undefined when it does not exist.
   * Every node using one credential shares the object, so one change reaches all of them.
   */
  async hold(id: string, type: string): Promise<LiveCredential | undefined> {
    const existing = this.held.get(id);
    if (existing) {
      existing.users++;
      return existing.credential;
    }
    const [fields, record] = await Promise.all([this.options.resolve(id), this.options.storage.getCredential(id)]);
    if (!fields) return undefined;
    const raced = this.held.get(id); // another node of the same deploy got there while we decrypted
    if (raced) {
      raced.users++;
      return raced.credential;
    }
    const before = this.revisions.get(id);
    const revision = !before ? 1 : before.data === record?.data ? before.revision : before.revision + 1;
    const credential = new LiveCredential(id, record?.type ?? type, fields, revision);
    const held: Held = { credential, users: 1, data: record?.data };
    credential.writer = async (patch, reason) => {
      if (!this.credentialWriter) throw new Error(`credential "${id}" cannot be written back: this runtime has no credential service`);
      const stored = await this.credentialWriter(id, patch, reason);
      held.data = stored.data; // our own write: the poll must not take it for an edit made elsewhere
      return stored.fields;
    };
    this.held.set(id, held);
    return credential;
  }

  /** A node using `id` is gone. Its resources close by themselves when their last holder lets go (or lingers). */
  unhold(id: string): void {
    const held = this.held.get(id);
    if (!held) return;
    if (--held.users > 0) return;
    this.held.delete(id);
    this.revisions.set(id, { revision: held.credential.revision, data: held.data });
  }

  /**
   * The stored credential `id` changed (or was deleted): nodes using it see the new fields and a higher revision;
   * resources opened with the old ones are retired. Returns whether its fields changed.
   */
  async credentialChanged(id: string): Promise<boolean> {
    const held = this.held.get(id);
    if (!held) {
      // No node uses it now: close what still lingers from before (the next user gets a new revision anyway).
      this.pools.retireCredential(id);
      return false;
    }
    const [fields, record] = await Promise.all([this.options.resolve(id).catch(() => undefined), this.options.storage.getCredential(id)]);
    held.data = record?.data;
    if (!fields) {
      // Deleted (or no longer decryptable): close what was opened with it; nodes keep the last fields until redeployed.
      this.pools.retireCredential(id);
      this.options.log.warn(`credential "${id}" is in use by deployed nodes but was deleted or cannot be decrypted; its connections are closed`);
      return false;
    }
    if (!held.credential.update(fields)) return false;
    this.pools.retireCredential(id, held.credential.revision);
    this.options.log.info(`credential "${id}" changed (revision ${held.credential.revision}): nodes use the new fields from now on`);
    return true;
  }

  /** Look for credentials changed by another process: a changed encrypted blob is decrypted and compared. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      for (const [id, held] of [...this.held]) {
        const record = await this.options.storage.getCredential(id);
        if (record?.data !== held.data) await this.credentialChanged(id);
      }
    } finally {
      this.polling = false;
    }
  }

  /** Remove blobs that no kept run refers to any more (run retention deleted their runs). */
  async collectBlobs(): Promise<void> {
    const store = await this.blobs.opened();
    if (!store) return;
    const result = await store.gc(async (runId) => (await this.options.storage.getRun(runId)) !== null);
    if (result.blobs > 0) this.options.log.info(`blobs: removed ${result.blobs} (${result.bytes} bytes) no kept run refers to`);
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await this.pools.closeAll();
    await this.blobs.close();
  }
}

/**
 * The blob store, opened on first use: `<dataDir>/blobs`, or a temporary directory for a throwaway runtime
 * (dataDir ':memory:'), removed at close.
 */
export class LazyBlobStore implements BlobServices {
  private store: Promise<FileBlobStore> | undefined;

  constructor(private readonly dataDir: string) {}

  private open(): Promise<FileBlobStore> {
    this.store ??= this.dataDir === ':memory:' ? FileBlobStore.temporary() : FileBlobStore.open(path.join(this.dataDir, 'blobs'));
    return this.store;
  }

  /** The store for gc: a throwaway one only if it was used; one in the data directory always (earlier runs' blobs). */
  opened(): Promise<FileBlobStore | undefined> {
    if (this.dataDir === ':memory:') return this.store ?? Promise.resolve(undefined);
    return this.open();
  }

  async put(data: BlobSource, options?: BlobPutOptions): Promise<BlobRef> {
    return (await this.open()).put(data, options);
  }

  async get(ref: BlobRef | string): Promise<Readable> {
    return (await this.open()).get(ref);
  }

  async link(ref: BlobRef | string, runId: string): Promise<void> {
    return (await this.open()).link(ref, runId);
  }

  async close(): Promise<void> {
    const store = this.store;
    this.store = undefined;
    await (await store?.catch(() => undefined))?.close();
  }
}
