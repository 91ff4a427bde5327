/**
 * Node packs and the sub-flow library across processes (queue mode: several mains and workers; embedded runtimes
 * sharing PostgreSQL): what one process installs, upgrades, removes, disables or publishes, the others take on without
 * a restart. The process that changed something announces it on a channel of its own (cluster/channel.ts: Redis in
 * queue mode, PostgreSQL LISTEN/NOTIFY without Redis; beside the deploy channel, cluster/deploy-sync.ts); each other
 * process applies it from the source of truth:
 * - a sub-flow version: read from the shared database (every version is a row), deployed and registered;
 * - a pack: the announced version from its user node directory when the files are there already (processes sharing
 *   the directory), otherwise installed by its own npm run from the same registry (the palette manager, all or
 *   nothing); removed, disabled and enabled likewise.
 * A process applying a peer's change does not announce it again. Announcements lost while the channel was down are
 * caught up when it is back: every sub-flow version stored meanwhile, and user packs whose version on the shared disk
 * changed. (A pack only installed on another machine's disk, or disabled there meanwhile, follows at the next start.)
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@flowcrew/sdk';
import { announcementTransport, PgChannel, RedisChannel, type AnnouncementChannel } from '../cluster/channel.ts';
import { redisNames } from '../cluster/redis-names.ts';
import type { ClusterConfig } from '../cluster/config.ts';
import type { NodeRegistry, RegistryChange } from '../registry/registry.ts';
import type { Storage } from '../storage/types.ts';
import type { SubflowLibrary } from '../subflows/library.ts';
import { PaletteManager } from './palette.ts';

/** The same channel over PostgreSQL LISTEN/NOTIFY (an SQL identifier). */
export const LIBRARY_PG_CHANNEL = 'flowcrew_library';

type PackAction = 'loaded' | 'reloaded' | 'unloaded' | 'disabled' | 'enabled';
const PACK_ACTIONS: ReadonlySet<string> = new Set<PackAction>(['loaded', 'reloaded', 'unloaded', 'disabled', 'enabled']);

type Change = { kind: 'subflow'; id: string } | { kind: 'pack'; action: PackAction; name: string; version?: string };
export type LibraryAnnouncement = { instance: string } & Change;

export interface LibrarySyncOptions {
  instance: string;
  channel: AnnouncementChannel;
  registry: NodeRegistry;
  subflows?: SubflowLibrary;
  userNodesDir: string;
  /** Install `name@version` here when this process does not have it on disk (the palette manager); absent = log only. */
  install?(name: string, version: string): Promise<unknown>;
  /** Uninstall `name` here when its files are still on this process's disk. */
  remove?(name: string): Promise<unknown>;
  log: Logger;
}

export class LibrarySync {
  /** Packs and sub-flows being applied from a peer's announcement: not announced again. */
  private readonly applying = new Set<string>();
  private readonly detach: Array<() => void> = [];
  /** One change at a time, in the order announced (an install then a disable must not overtake each other). */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  readonly stats = { announced: 0, applied: 0, failed: 0, caughtUp: 0 };

  constructor(private readonly options: LibrarySyncOptions) {
    const onChange = (change: RegistryChange) => this.packChanged(change);
    options.registry.on('change', onChange);
    this.detach.push(() => options.registry.off('change', onChange));
    if (options.subflows) this.detach.push(options.subflows.onAdded((v) => this.subflowAdded(v.definition.id)));
  }

  async start(): Promise<void> {
    await this.options.channel.listen(
      (text) => {
        if (this.closed) return;
        let message: LibraryAnnouncement;
        try {
          message = JSON.parse(text) as LibraryAnnouncement;
        } catch {
          return; // not ours
        }
        if (message.instance === this.options.instance) return;
        this.queue = this.queue.then(() => this.apply(message));
      },
      () => {
        if (!this.closed) this.queue = this.queue.then(() => this.catchUp());
      },
    );
  }

  /** Resolves when every announcement received so far has been applied. */
  settled(): Promise<void> {
    return this.queue;
  }

  close(): void {
    this.closed = true;
    for (const off of this.detach) off();
    this.options.channel.close();
  }

  /** After the channel was down: take on what peers announced meanwhile, from the database and the shared disk. */
  async catchUp(): Promise<void> {
    const { subflows, registry, log } = this.options;
    try {
      if (subflows) {
        for (const id of new Set((await subflows.store.all()).map((v) => v.definition.id))) {
          this.applying.add(`subflow:${id}`);
          try {
            this.stats.caughtUp += await subflows.refresh(id);
          } finally {
            this.applying.delete(`subflow:${id}`);
          }
        }
      }
      for (const info of registry.packs.filter((p) => p.source === 'user' && p.status === 'loaded')) {
        const dir = path.join(this.options.userNodesDir, 'node_modules', info.name);
        const onDisk = await versionOnDisk(dir);
        if (onDisk === null || onDisk === info.version) continue;
        this.applying.add(`pack:${info.name}`);
        try {
          await registry.reloadPackage(dir, 'user');
          this.stats.caughtUp++;
        } finally {
          this.applying.delete(`pack:${info.name}`);
        }
      }
    } catch (error) {
      log.warn(`library sync: could not catch up after the announcement channel was down: ${(error as Error).message}`);
    }
  }

  private announce(message: Change, what: string): void {
    if (this.closed) return;
    this.stats.announced++;
    void this.options.channel
      .publish(JSON.stringify({ ...message, instance: this.options.instance }))
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
 * The runtime's sync when it shares its installation with other processes (queue mode over Redis; embedded runtimes
 * sharing PostgreSQL over LISTEN/NOTIFY: cluster/channel.ts); null for a lone runtime. Installs this process must do
 * itself go through its own palette manager, from the same npm registry as the API's.
 */
export async function startLibrarySync(parts: {
  cluster: ClusterConfig;
  databaseUrl?: string;
  registry: NodeRegistry;
  subflows?: SubflowLibrary;
  storage: Storage;
  userNodesDir: string;
  npmRegistryUrl: string;
  log: Logger;
}): Promise<LibrarySync | null> {
  const transport = announcementTransport({ mode: parts.cluster.mode, databaseUrl: parts.databaseUrl, sharesPostgres: !!parts.storage.leases });
  if (!transport) return null;
  const channel = transport === 'redis' ? new RedisChannel(redisNames(parts.cluster).library, { url: parts.cluster.redisUrl }) : new PgChannel(LIBRARY_PG_CHANNEL, parts.databaseUrl!, parts.log, parts.cluster.instanceId);
  const palette = new PaletteManager({
    registry: parts.registry,
    userNodesDir: parts.userNodesDir,
    npmRegistryUrl: parts.npmRegistryUrl,
    flows: async () => (await parts.storage.listFlows()).map((s) => ({ id: s.flow.id, name: s.flow.name ?? s.flow.id, deployed: s.deployedVersion !== null, nodes: (s.deployedFlow ?? s.flow).nodes })),
  });
  const sync = new LibrarySync({
    instance: parts.cluster.instanceId,
    channel,
    registry: parts.registry,
    subflows: parts.subflows,
    userNodesDir: parts.userNodesDir,
    install: (name, version) => palette.install(name, version),
    remove: (name) => palette.remove(name),
    log: parts.log,
  });
  await sync.start().catch((error: unknown) => parts.log.warn(`library sync: could not listen for announcements (${transport}): ${(error as Error).message}; other processes' changes are taken on at the next start`));
  return sync;
}
