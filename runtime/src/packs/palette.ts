/**
 * The palette manager: installs, upgrades and removes node packs from an npm registry into the user node directory
 * (`<dir>/node_modules`, with their dependencies) while the runtime runs, as Node-RED's palette manager does.
 *
 * All or nothing: package.json and package-lock.json of the node directory are kept before each operation; when npm
 * fails (a broken install script, the registry down) or the new code does not load (a type clash, a newer SDK, a
 * module that throws), both files are put back and `npm install` brings node_modules back to them, and the registry
 * keeps (or gets back) the version that was there. npm's output is handed to `onProgress` line by line as it runs.
 *
 * Packs resolve `@flowcrew/sdk` to this runtime's own SDK (a link in the node directory, made again after every npm
 * run since npm prunes what it did not install): one SDK instance, so a pack shares the host limits and error classes.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile, rename } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { SDK_API_VERSION } from '@flowcrew/sdk';
import type { NodeRegistry, PackInfo } from '../registry/registry.ts';
import { PackLoadError } from '../registry/registry.ts';
import { runNpm, NpmError } from './npm-cli.ts';
import { NpmRegistry, validPackName, validVersionSpec } from './npm-registry.ts';

export type PackAction = 'install' | 'upgrade' | 'remove';

export interface PackProgress {
  operationId: string;
  action: PackAction;
  pack: string;
  line: string;
}

/** A flow that uses a node type a pack change removed (or whose code an upgrade replaced). */
export interface AffectedFlow {
  flowId: string;
  name: string;
  deployed: boolean;
  /** Nodes of the flow with the type, by id. */
  nodes: Array<{ id: string; type: string }>;
}

export interface PackOperationResult {
  operationId: string;
  action: PackAction;
  pack: PackInfo | { name: string; status: 'removed' };
  /** Types the change removed. */
  removedTypes: string[];
  /** Flows using a removed type (they will not deploy again until fixed), and, after an upgrade, deployed flows still running the old code until redeployed. */
  affectedFlows: AffectedFlow[];
}

/** Why an operation was refused or undone; `status` is the HTTP status an API caller gets. */
export class PackOperationError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 | 422 | 502,
    readonly code: string,
  ) {
    super(message);
    this.name = 'PackOperationError';
  }
}

export interface PaletteOptions {
  registry: NodeRegistry;
  userNodesDir: string;
  npmRegistryUrl: string;
  /** Flows as stored (for "which flows use a removed type"). */
  flows: () => Promise<Array<{ id: string; name: string; deployed: boolean; nodes: Array<{ id: string; type: string }> }>>;
  onProgress?: (progress: PackProgress) => void;
}

const LOCK_FILES = ['package.json', 'package-lock.json'];

export class PaletteManager {
  readonly npm: NpmRegistry;
  private running: string | undefined;

  constructor(private readonly options: PaletteOptions) {
    this.npm = new NpmRegistry(options.npmRegistryUrl);
  }

  /** Install `name` (at `version`, else the latest), or upgrade/downgrade it when it is installed. */
  async install(name: unknown, version?: unknown): Promise<PackOperationResult> {
    if (!validPackName(name)) throw new PackOperationError('"name" must be an npm package name', 400, 'invalid-name');
    if (version !== undefined && !validVersionSpec(version)) throw new PackOperationError('"version" must be a version, range or tag', 400, 'invalid-version');
    const existing = this.options.registry.pack(name);
    if (existing && existing.source !== 'user') throw new PackOperationError(`"${name}" is a built-in pack of this installation; it cannot be replaced from npm`, 409, 'builtin');
    // Refused before npm runs: not a pack, unknown version, or one that needs a newer SDK.
    const details = await this.npm.details(name);
    if (!details) throw new PackOperationError(`the npm registry ${this.npm.url} has no package "${name}"`, 404, 'not-found');
    const wanted = version ?? details.latest;
    const exact = details.versions.find((v) => v.version === (details.distTags[wanted ?? ''] ?? wanted));
    if (exact && !exact.isPack) throw new PackOperationError(`${name}@${exact.version} is not a Flowcrew node pack (its package.json has no "flowcrew" field)`, 422, 'not-a-pack');
    if (exact && !exact.compatible) {
      throw new PackOperationError(
        `${name}@${exact.version} needs a newer SDK: it was written for SDK API ${exact.sdkApi}, this runtime provides SDK API ${SDK_API_VERSION}`,
        422,
        'sdk-too-new',
      );
    }
    const action: PackAction = existing ? 'upgrade' : 'install';
    return this.exclusive(action, name, async (operationId) => {
      const before = existing ? [...existing.types] : [];
      const snapshot = await this.snapshot();
      try {
        await this.npmRun(operationId, action, name, ['install', `${name}@${wanted ?? 'latest'}`, '--save', '--save-exact']);
      } catch (error) {
        await this.restore(operationId, action, name, snapshot);
        throw new PackOperationError(`installing ${name} failed, nothing was changed: ${(error as Error).message}`, error instanceof NpmError && /E404|ETARGET/.test(error.output) ? 404 : 422, 'npm-failed');
      }
      let info: PackInfo;
      try {
        info = await this.options.registry.reloadPackage(this.packDir(name), 'user');
      } catch (error) {
        await this.restore(operationId, action, name, snapshot);
        const code = error instanceof PackLoadError ? error.code : 'module';
        // npm restored the files as they were. A loaded pack kept its old types (reloadPackage swaps only on success);
        // otherwise the failed entry goes, and a pack that was there before is listed again as it is on disk.
        if (existing?.status !== 'loaded') {
          this.options.registry.unloadPackage(name);
          if (existing && existsSync(this.packDir(name))) await this.options.registry.loadPackage(this.packDir(name), 'user');
        }
        throw new PackOperationError(`${name} was installed but could not be loaded, so it was removed again: ${(error as Error).message}`, 422, code);
      }
      const removedTypes = before.filter((t) => !info.types.includes(t));
      const affected = await this.flowsUsing(action === 'upgrade' ? before : [], removedTypes);
      return { operationId, action, pack: info, removedTypes, affectedFlows: affected };
    });
  }

  /** Uninstall a user pack: its types leave the registry, and the flows using them are reported. */
  async remove(name: unknown): Promise<PackOperationResult> {
    if (!validPackName(name)) throw new PackOperationError('"name" must be an npm package name', 400, 'invalid-name');
    const existing = this.options.registry.pack(name);
    if (!existing) throw new PackOperationError(`no node pack "${name}" is installed`, 404, 'not-installed');
    if (existing.source !== 'user') throw new PackOperationError(`"${name}" is a built-in pack of this installation; disable it instead`, 409, 'builtin');
    return this.exclusive('remove', name, async (operationId) => {
      const snapshot = await this.snapshot();
      try {
        await this.npmRun(operationId, 'remove', name, ['uninstall', name, '--save']);
      } catch (error) {
        await this.restore(operationId, 'remove', name, snapshot);
        throw new PackOperationError(`removing ${name} failed, nothing was changed: ${(error as Error).message}`, 422, 'npm-failed');
      }
      const removedTypes = this.options.registry.unloadPackage(name) ?? [];
      return { operationId, action: 'remove', pack: { name, status: 'removed' }, removedTypes, affectedFlows: await this.flowsUsing([], removedTypes) };
    });
  }

  /** Flows with nodes of `removed` types, and deployed flows with nodes of `replaced` types (running old code). */
  async flowsUsing(replaced: string[], removed: string[]): Promise<AffectedFlow[]> {
    if (replaced.length === 0 && removed.length === 0) return [];
    const affected: AffectedFlow[] = [];
    for (const flow of await this.options.flows()) {
      const nodes = flow.nodes.filter((n) => removed.includes(n.type) || (flow.deployed && replaced.includes(n.type))).map((n) => ({ id: n.id, type: n.type }));
      if (nodes.length > 0) affected.push({ flowId: flow.id, name: flow.name, deployed: flow.deployed, nodes });
    }
    return affected;
  }

  private packDir(name: string): string {
    return path.join(this.options.userNodesDir, 'node_modules', ...name.split('/'));
  }

  private async exclusive(action: PackAction, name: string, work: (operationId: string) => Promise<PackOperationResult>): Promise<PackOperationResult> {
    if (this.running) throw new PackOperationError(`another pack operation is running (${this.running}); try again when it has finished`, 409, 'busy');
    this.running = `${action} ${name}`;
    try {
      await this.prepareDirectory();
      return await work(randomUUID());
    } finally {
      this.running = undefined;
    }
  }

  /** The user node directory as npm needs it: a private package.json, and the link to this runtime's SDK. */
  private async prepareDirectory(): Promise<void> {
    const dir = this.options.userNodesDir;
    await mkdir(path.join(dir, 'node_modules'), { recursive: true });
    const manifest = path.join(dir, 'package.json');
    if (!existsSync(manifest)) await writeFile(manifest, `${JSON.stringify({ name: 'flowcrew-user-nodes', private: true, description: 'Node packs installed by the Flowcrew palette manager', dependencies: {} }, null, 2)}\n`);
    await this.linkSdk();
  }

  private async linkSdk(): Promise<void> {
    const sdkDir = path.dirname(realpathSync(createRequire(import.meta.url).resolve('@flowcrew/sdk/package.json')));
    const link = path.join(this.options.userNodesDir, 'node_modules', '@flowcrew', 'sdk');
    if (existsSync(link) && realpathSync(link) === sdkDir) return;
    await mkdir(path.dirname(link), { recursive: true });
    // Replaced in one step (a temporary link renamed over it), so a pack being imported never finds it missing.
    const temporary = `${link}.${process.pid}.tmp`;
    await rm(temporary, { force: true, recursive: true });
    await symlink(sdkDir, temporary, 'dir');
    await rm(link, { force: true, recursive: true });
    await rename(temporary, link);
  }

  private async npmRun(operationId: string, action: PackAction, pack: string, args: string[]): Promise<void> {
    const progress = (line: string) => this.options.onProgress?.({ operationId, action, pack, line });
    progress(`npm ${args.join(' ')}`);
    try {
      await runNpm([...args, '--registry', this.npm.url, '--no-audit', '--no-fund', '--omit=dev', '--legacy-peer-deps', '--loglevel', 'http'], {
        cwd: this.options.userNodesDir,
        onLine: progress,
      });
    } finally {
      await this.linkSdk();
    }
  }

  private async snapshot(): Promise<Map<string, string | null>> {
    const files = new Map<string, string | null>();
    for (const file of LOCK_FILES) files.set(file, await readFile(path.join(this.options.userNodesDir, file), 'utf8').catch(() => null));
    return files;
  }

  /** Put package.json and the lock back and let npm bring node_modules back to them. */
  private async restore(operationId: string, action: PackAction, pack: string, snapshot: Map<string, string | null>): Promise<void> {
    for (const [file, text] of snapshot) {
      const target = path.join(this.options.userNodesDir, file);
      if (text === null) await rm(target, { force: true });
      else await writeFile(target, text);
    }
    await this.npmRun(operationId, action, pack, ['install']).catch((error: unknown) => {
      this.options.onProgress?.({ operationId, action, pack, line: `restoring the node directory failed: ${(error as Error).message}` });
    });
  }
}
