/** Node types and node packs (read by every role; installing packs is a later issue, for instance admins). */
import type { Actor } from '../identity/actor.ts';
import type { Runtime } from '../runtime.ts';
import { requirePermission } from './access.ts';

export class PackService {
  constructor(private readonly runtime: Runtime) {}

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
}
