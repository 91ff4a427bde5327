/**
 * The sub-flow library as an actor may use it. Reading is open to whoever may see node types (a sub-flow is one);
 * publishing a version needs flow:write in the sub-flow's project (the first publisher's project owns it). Versions
 * are immutable: publishing makes the next number; import of an exported definition keeps its number and accepts an
 * identical copy but refuses a different one under the same number.
 */
import { isDeepStrictEqual } from 'node:util';
import { ProblemError, notFound } from '../errors.ts';
import { DEFAULT_PROJECT, type Actor } from '../identity/actor.ts';
import type { Runtime } from '../runtime.ts';
import { authorize, requirePermission } from '../services/access.ts';
import type { AuditService } from '../services/audit.ts';
import type { ProjectService } from '../services/projects.ts';
import { definitionIssues, nodeTypeOf, type SubflowDefinition } from './definition.ts';
import type { SubflowLibrary } from './library.ts';
import type { SubflowVersion } from './store.ts';

export interface SubflowSummary {
  id: string;
  type: string;
  name: string;
  description?: string;
  projectId: string;
  latest: number;
  versions: number[];
}

export class SubflowService {
  constructor(
    private readonly runtime: Runtime,
    private readonly projects: ProjectService,
    private readonly audit: AuditService,
  ) {}

  private get library(): SubflowLibrary {
    if (!this.runtime.subflows) throw new ProblemError(503, 'Sub-flow library unavailable', 'the sub-flow library needs the SQL storage');
    return this.runtime.subflows;
  }

  list(actor: Actor): SubflowSummary[] {
    requirePermission(actor, 'pack:read');
    return this.library.list().map(({ id, latest, versions }) => ({
      id,
      type: nodeTypeOf(id),
      name: latest.definition.name,
      ...(latest.definition.description ? { description: latest.definition.description } : {}),
      projectId: latest.projectId,
      latest: latest.definition.version,
      versions,
    }));
  }

  /** One version (the latest when `version` is undefined), with who published it. */
  get(actor: Actor, id: string, version?: number): SubflowVersion {
    requirePermission(actor, 'pack:read');
    const versions = this.library.versions(id);
    const found = version === undefined ? versions?.at(-1) : versions?.find((v) => v.definition.version === version);
    if (!found) throw notFound(version === undefined ? `sub-flow "${id}"` : `version ${version} of sub-flow "${id}"`);
    return found;
  }

  /** Publish the next version of a sub-flow (a new one when the id is unknown). */
  async publish(actor: Actor, body: unknown, projectId?: string): Promise<SubflowVersion> {
    const definition = await this.checked(body);
    // A sub-flow reaching itself through the versions it uses would call itself for ever.
    const loop = this.library.definitionsFor(definition).find((d) => d.id === definition.id);
    if (loop) throw new ProblemError(422, 'Invalid sub-flow', `sub-flow "${definition.id}" would call itself (through version ${loop.version} of itself, used by the sub-flows it uses)`, [{ pointer: '/nodes', message: 'uses itself' }]);
    const existing = this.library.versions(definition.id);
    const owner = existing?.at(-1)?.projectId ?? projectId ?? DEFAULT_PROJECT;
    if (existing) authorize(actor, 'flow:write', owner, 'flow:read', `sub-flow "${definition.id}"`);
    else await this.projects.requireWritable(actor, owner, 'flow:write');
    const next = { ...definition, version: (existing?.at(-1)?.definition.version ?? 0) + 1 };
    if (!(await this.library.store.insert(next, owner, actor.name))) {
      throw new ProblemError(409, 'Version taken', `version ${next.version} of sub-flow "${next.id}" was published by someone else just now: publish again`);
    }
    const stored: SubflowVersion = { definition: next, projectId: owner, createdAt: Date.now(), createdBy: actor.name };
    await this.library.added(stored);
    await this.audit.record(actor, 'subflow.publish', { type: 'subflow', id: next.id }, owner, { version: next.version, name: next.name });
    return stored;
  }

  /**
   * Import exported definitions (with a flow that uses them): each keeps its version number. An identical copy of a
   * stored version is fine (nothing changes); a different definition under a stored number is refused, all or nothing.
   */
  async import(actor: Actor, definitions: unknown[], projectId = DEFAULT_PROJECT): Promise<Array<{ id: string; version: number; status: 'imported' | 'unchanged' }>> {
    const checked: SubflowDefinition[] = [];
    for (const [i, d] of definitions.entries()) {
      const def = await this.checked(d, `/${i}`);
      if (!Number.isInteger(def.version) || def.version < 1) throw new ProblemError(422, 'Invalid sub-flow', `definition ${i} ("${def.id}") needs its version number`, [{ pointer: `/${i}/version`, message: 'is required' }]);
      const stored = this.library.versions(def.id)?.find((v) => v.definition.version === def.version);
      if (stored && !isDeepStrictEqual(stored.definition, def)) {
        throw new ProblemError(409, 'Version conflict', `sub-flow "${def.id}" v${def.version} exists here with a different definition: publish yours as a new version instead`, [{ pointer: `/${i}`, message: 'differs from the stored version' }]);
      }
      const owner = this.library.versions(def.id)?.at(-1)?.projectId;
      if (owner) authorize(actor, 'flow:write', owner, 'flow:read', `sub-flow "${def.id}"`);
      else await this.projects.requireWritable(actor, projectId, 'flow:write');
      checked.push(def);
    }
    const results: Array<{ id: string; version: number; status: 'imported' | 'unchanged' }> = [];
    // Oldest first, so the node type's versions stay in order as they are added.
    for (const def of checked.sort((a, b) => a.version - b.version)) {
      if (this.library.version(def.id, def.version)) {
        results.push({ id: def.id, version: def.version, status: 'unchanged' });
        continue;
      }
      const owner = this.library.versions(def.id)?.at(-1)?.projectId ?? projectId;
      if (!(await this.library.store.insert(def, owner, actor.name))) throw new ProblemError(409, 'Version taken', `sub-flow "${def.id}" v${def.version} was stored by someone else meanwhile`);
      await this.library.added({ definition: def, projectId: owner, createdAt: Date.now(), createdBy: actor.name });
      await this.audit.record(actor, 'subflow.import', { type: 'subflow', id: def.id }, owner, { version: def.version });
      results.push({ id: def.id, version: def.version, status: 'imported' });
    }
    return results;
  }

  /** The definitions a flow uses (pinned versions, nested ones too): export them with the flow, import them before it. */
  async usedBy(actor: Actor, flowId: string): Promise<SubflowDefinition[]> {
    const stored = await this.runtime.storage.getFlow(flowId);
    if (!stored) throw notFound(`flow "${flowId}"`);
    authorize(actor, 'flow:read', stored.projectId, 'flow:read', `flow "${flowId}"`);
    return this.library.definitionsFor(stored.flow);
  }

  private async checked(body: unknown, at = ''): Promise<SubflowDefinition> {
    const issues = await definitionIssues(body, this.runtime.registry);
    if (issues.length > 0) {
      throw new ProblemError(422, 'Invalid sub-flow', `the sub-flow definition has ${issues.length} problem(s): ${issues[0]!.pointer} ${issues[0]!.message}`, issues.map((i) => ({ ...i, pointer: `${at}${i.pointer}` })));
    }
    return body as SubflowDefinition;
  }
}
