/**
 * Node packs and the sub-flow library across processes (queue mode: several mains and workers): what one process
 * installs, upgrades, removes, disables or publishes, the others take on without a restart. The process that changed
 * something announces it on a Redis channel of its own (beside the issue-10 deploy channel, cluster/deploy-sync.ts);
 * each other process applies it from the source of truth:
 * - a sub-flow version: read from the shared database (every version is a row), deployed and registered;
 * - a pack: the announced version from its user node directory when the files are there already (processes sharing
 *   the directory), otherwise installed by its own npm run from the same registry (the palette manager, all or
 *   nothing); removed, disabled and enabled likewise.
 * A process applying a peer's change does not announce it again. Messages lost while Redis is down are not replayed:
 * the process sees them at its next start (the packs on disk, the library in the database), as the docs say.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@flowcrew/sdk';
import { Redis } from 'ioredis';
import type { ClusterConfig } from '../cluster/config.ts';
import type { NodeRegistry, RegistryChange } from '../registry/registry.ts';
import type { Storage } from '../storage/types.ts';
import type { SubflowLibrary } from '../subflows/library.ts';
import { PaletteManager } from './palette.ts';

export const LIBRARY_CHANNEL = 'flowcrew:library';

type PackAction = 'loaded' | 'reloaded' | 'unloaded' | 'disabled' | 'enabled';
const PACK_ACTIONS: ReadonlySet<string> = new Set<PackAction>(['loaded', 'reloaded', 'unloaded', 'disabled', 'enabled']);

type Change = { kind: 'subflow'; id: string } | { kind: 'pack'; action: PackAction; name: string; version?: string };
export type LibraryAnnouncement = { instance: string } & Change;

export interface LibrarySyncOptions {
  instance: string;
  publisher: Redis;
  subscriber: Redis;
  registry: NodeRegistry;
  subflows?: SubflowLibrary;
  userNodesDir: string;
  /** Install `name@version` here when this process does not have it on disk (the palette manager); absent = log only. */
  install?(name: string, version: string): Promise<unknown>;
  /** Uninstall `name` here when its files are still on this process's disk. */
  remove?(name: string): Promise<unknown>;
  log: Logger;
  /** Disconnect the two Redis connections on close (they were opened for this sync). */
  ownsConnections?: boolean;
}

export class LibrarySync {
  /** Packs and sub-flows being applied from a peer's announcement: not announced again. */
  private readonly applying = new Set<string>();
  private readonly detach: Array<() => void> = [];
  /** One change at a time, in the order announced (an install then a disable must not overtake each other). */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  readonly stats = { announced: 0, applied: 0, failed: 0 };

  constructor(private readonly options: LibrarySyncOptions) {
    const onChange = (change: RegistryChange) => this.packChanged(change);
    options.registry.on('change', onChange);
    this.detach.push(() => options.registry.off('change', onChange));
    if (options.subflows) this.detach.push(options.subflows.onAdded((v) => this.subflowAdded(v.definition.id)));
    options.subscriber.on('message', (channel: string, text: string) => {
      if (channel !== LIBRARY_CHANNEL || this.closed) return;
      let message: LibraryAnnouncement;
      try {
        message = JSON.parse(text) as LibraryAnnouncement;
      } catch {
        return; // not ours
      }
      if (message.instance === options.instance) return;
      this.queue = this.queue.then(() => this.apply(message));
    });
  }

  async start(): Promise<void> {
    await this.options.subscriber.subscribe(LIBRARY_CHANNEL);
  }

  /** Resolves when every announcement received so far has been applied. */
  settled(): Promise<void> {
    return this.queue;
  }

  close(): void {
    this.closed = true;
    for (const off of this.detach) off();
    if (this.options.ownsConnections) {
      this.options.publisher.disconnect();
      this.options.subscriber.disconnect();
    }
  }

  private announce(message: Change, what: string): void {
    if (this.closed) return;
    this.stats.announced++;
    void this.options.publisher
      .publish(LIBRARY_CHANNEL, JSON.stringify({ ...message, instance: this.options.instance }))
      .catch((e: unknown) => this.options.log.warn(`library sync: could not announce ${what} (other processes see it after their next start): ${(e as Error).message}`));
  }

  private packChanged(change: RegistryChange): void {
    if (!PACK_ACTIONS.has(change.action) || this.applying.has(`pack:${change.pack}`)) return;
    const info = this.options.registry.pack(change.pack);
    // Only packs installed from npm travel: workspace packs ship with the installation, sub-flows have their own message.
    if (change.action !== 'unloaded' && info?.source !== 'user') return;
    if (change.action === 'unloaded' && info) return;
    this.announce({ kind: 'pack', action: change.action as PackAction, name: change.pack, ...(info ? { version: info.version } : {}) }, `pack ${change.pack}`);
  }

  private subflowAdded(id: string): void {
    if (this.applying.has(`subflow:${id}`)) return;
    this.announce({ kind: 'subflow', id }, `sub-flow ${id}`);
  }

  private async apply(message: LibraryAnnouncement): Promise<void> {
    const key = message.kind === 'subflow' ? `subflow:${message.id}` : `pack:${message.name}`;
    this.applying.add(key);
    try {
      if (message.kind === 'subflow') await this.options.subflows?.refresh(message.id);
      else await this.applyPack(message.action, message.name, message.version);
      this.stats.applied++;
    } catch (error) {
      this.stats.failed++;
      this.options.log.error(`library sync: ${key} from ${message.instance} could not be applied here: ${(error as Error).message}`);
    } finally {
      this.applying.delete(key);
    }
  }

  private async applyPack(action: PackAction, name: string, version: string | undefined): Promise<void> {
    const { registry } = this.options;
    const dir = path.join(this.options.userNodesDir, 'node_modules', name);
    const here = registry.pack(name);
    if (action === 'disabled') {
      if (here && here.status !== 'disabled') await registry.disablePackage(name);
      return;
    }
    if (action === 'enabled') {
      if (here?.status === 'disabled') await registry.enablePackage(name);
      return;
    }
    if (action === 'unloaded') {
      const onDisk = await versionOnDisk(dir);
      if (onDisk !== null && this.options.remove) await this.options.remove(name);
      else registry.unloadPackage(name);
      return;
    }
    // loaded / reloaded: the announced version, from disk when it is there, else installed by this process.
    if (!version) return;
    if ((await versionOnDisk(dir)) !== version) {
      if (!this.options.install) throw new Error(`${name}@${version} is not in ${this.options.userNodesDir} and this process cannot install packs`);
      await this.options.install(name, version);
      return;
    }
    if (here?.status === 'loaded' && here.version === version) return;
    await registry.reloadPackage(dir, 'user');
  }
}

async function versionOnDisk(dir: string): Promise<string | null> {
  try {
    return (JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

/**
 * The runtime's sync in queue mode (several processes); null when embedded (one process: nothing to tell). Installs
 * this process must do itself go through its own palette manager, from the same npm registry as the API's.
 */
export async function startLibrarySync(parts: {
  cluster: ClusterConfig;
  registry: NodeRegistry;
  subflows?: SubflowLibrary;
  storage: Storage;
  userNodesDir: string;
  npmRegistryUrl: string;
  log: Logger;
}): Promise<LibrarySync | null> {
  if (parts.cluster.mode === 'embedded') return null;
  const connect = () => {
    const redis = new Redis(parts.cluster.redisUrl, { maxRetriesPerRequest: null });
    redis.on('error', () => {}); // reconnects by itself; a lost announcement is logged where it is published
    return redis;
  };
  const [publisher, subscriber] = [connect(), connect()];
  const palette = new PaletteManager({
    registry: parts.registry,
    userNodesDir: parts.userNodesDir,
    npmRegistryUrl: parts.npmRegistryUrl,
    flows: async () => (await parts.storage.listFlows()).map((s) => ({ id: s.flow.id, name: s.flow.name ?? s.flow.id, deployed: s.deployedVersion !== null, nodes: (s.deployedFlow ?? s.flow).nodes })),
  });
  const sync = new LibrarySync({
    instance: parts.cluster.instanceId,
    publisher,
    subscriber,
    registry: parts.registry,
    subflows: parts.subflows,
    userNodesDir: parts.userNodesDir,
    install: (name, version) => palette.install(name, version),
    remove: (name) => palette.remove(name),
    log: parts.log,
    ownsConnections: true,
  });
  await sync.start().catch((error: unknown) => parts.log.warn(`library sync: could not subscribe to ${LIBRARY_CHANNEL}: ${(error as Error).message}`));
  return sync;
}
