/**
 * Node types and node packs: read by every role; installing, upgrading, removing, disabling and enabling packs
 * (code that runs in the runtime's process) is for instance admins only, and audited.
 */
import { EventEmitter } from 'node:events';
import type { Actor } from '../identity/actor.ts';
import { PaletteManager, PackOperationError, type PackProgress } from '../packs/palette.ts';
import { validPackName } from '../packs/npm-registry.ts';
import { PackLoadError } from '../registry/registry.ts';
import type { Runtime } from '../runtime.ts';
import { requirePermission } from './access.ts';
import type { AuditService } from './audit.ts';

export class PackService extends EventEmitter<{ progress: [PackProgress] }> {
  readonly palette: PaletteManager;

  constructor(
    private readonly runtime: Runtime,
    private readonly audit?: AuditService,
  ) {
    super();
    this.palette = new PaletteManager({
      registry: runtime.registry,
      userNodesDir: runtime.config.userNodesDir,
      npmRegistryUrl: runtime.config.npmRegistryUrl,
      flows: async () =>
        (await runtime.storage.listFlows()).map((s) => ({ id: s.flow.id, name: s.flow.name ?? s.flow.id, deployed: s.deployedVersion !== null, nodes: (s.deployedFlow ?? s.flow).nodes })),
      onProgress: (p) => this.emit('progress', p),
    });
  }

  nodeTypes(actor: Actor) {
    requirePermission(actor, 'pack:read');
    return this.runtime.nodeTypes();
  }

  /** Credential types the packs declare: the schemas the editor builds credential forms from. */
  credentialTypes(actor: Actor) {
    requirePermission(actor, 'pack:read');
    return this.runtime.credentialTypes();
  }

  packs(actor: Actor) {
    requirePermission(actor, 'pack:read');
    return this.runtime.registry.packs;
  }

  /** Packs on the npm registry (keyword flowcrew-nodes) matching `text`. */
  async search(actor: Actor, text: string) {
    requirePermission(actor, 'pack:install');
    return this.palette.npm.search(text);
  }

  /** A pack's versions (with SDK compatibility), readme and licence, from the npm registry. */
  async details(actor: Actor, name: string) {
    requirePermission(actor, 'pack:install');
    if (!validPackName(name)) throw new PackOperationError('not an npm package name', 400, 'invalid-name');
    const details = await this.palette.npm.details(name);
    if (!details) throw new PackOperationError(`the npm registry ${this.palette.npm.url} has no package "${name}"`, 404, 'not-found');
    return { ...details, installed: this.runtime.registry.pack(name) ?? null };
  }

  async install(actor: Actor, name: unknown, version?: unknown) {
    requirePermission(actor, 'pack:install');
    return this.audited(actor, 'pack.install', name, () => this.palette.install(name, version), { version });
  }

  async remove(actor: Actor, name: string) {
    requirePermission(actor, 'pack:install');
    return this.audited(actor, 'pack.remove', name, () => this.palette.remove(name));
  }

  /** Switch a pack off (its types leave the palette; flows using them are reported), or on again. */
  async setEnabled(actor: Actor, name: string, enabled: boolean) {
    requirePermission(actor, 'pack:install');
    const registry = this.runtime.registry;
    if (!registry.pack(name)) throw new PackOperationError(`no node pack "${name}" is installed`, 404, 'not-installed');
    return this.audited(actor, enabled ? 'pack.enable' : 'pack.disable', name, async () => {
      if (enabled) return { pack: await registry.enablePackage(name), removedTypes: [], affectedFlows: [] };
      const removedTypes = await registry.disablePackage(name);
      return { pack: registry.pack(name)!, removedTypes, affectedFlows: await this.palette.flowsUsing([], removedTypes) };
    });
  }

  /**
   * Liveness for anyone (load balancers probe it without credentials); the storage and run count for signed-in
   * callers; node packs and webhook paths, which map the attack surface, for instance admins only.
   */
  health(actor: Actor | null) {
    const full = this.runtime.health();
    const base = { status: full.status, uptimeSeconds: full.uptimeSeconds };
    if (!actor) return base;
    if (actor.instanceRole !== 'admin') return { ...base, storage: full.storage, activeRuns: full.activeRuns };
    return full;
  }

  /** Run a change and audit it: success with what changed, or a failure with the reason (then rethrown). */
  private async audited<T>(actor: Actor, action: string, name: unknown, work: () => Promise<T>, detail: Record<string, unknown> = {}): Promise<T> {
    const target = { type: 'node-pack', id: String(name) };
    try {
      const result = await work();
      await this.audit?.record(actor, action, target, undefined, { ...detail, ...summary(result) });
      return result;
    } catch (error) {
      if (error instanceof PackOperationError || error instanceof PackLoadError) await this.audit?.failed(actor, action, target, undefined, { ...detail, error: error.message });
      throw error;
    }
  }
}

function summary(result: unknown): Record<string, unknown> {
  const r = result as { pack?: { version?: string }; removedTypes?: string[]; affectedFlows?: Array<{ flowId: string }> };
  return { version: r.pack?.version, removedTypes: r.removedTypes, affectedFlows: r.affectedFlows?.map((f) => f.flowId) };
}
