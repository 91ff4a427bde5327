/**
 * Flows, as an actor may see and change them. Every method takes the actor and checks the permission against the
 * flow's own project (services/access.ts: 404 when the flow is not visible, 403 when visible but not allowed); the
 * domain work stays in the Runtime facade. Changes are audited.
 */
import { ProblemError, invalid, notFound } from '../errors.ts';
import type { FlowDocument, FlowIssue, FlowView, ImportResult } from '../flow/types.ts';
import { credentialRefsInProps } from '../executor/credential-binding.ts';
import { DEFAULT_PROJECT, can, type Actor } from '../identity/actor.ts';
import type { DebugMessage } from '../live/debug-buffer.ts';
import type { Runtime } from '../runtime.ts';
import type { StoredFlow } from '../storage/types.ts';
import { attribution } from '../versions/service.ts';
import { importNodeRedSubflows } from '../subflows/node-red-import.ts';
import { authorize, projectFilter, requirePermission } from './access.ts';
import type { AuditService } from './audit.ts';
import type { ProjectService } from './projects.ts';

/** A working copy that passed FlowService.checkDraft (only it makes one). */
export interface CheckedDraft {
  readonly checked: 'draft';
  readonly flow: FlowDocument;
}

export class FlowService {
  constructor(
    private readonly runtime: Runtime,
    private readonly projects: ProjectService,
    private readonly audit: AuditService,
  ) {}

  /** The stored flow, if `actor` may read it; otherwise the same 404 as for an unknown id (the versions service's too). */
  async visible(actor: Actor, id: string): Promise<StoredFlow> {
    const stored = await this.runtime.storage.getFlow(id);
    if (!stored) throw notFound(`flow "${id}"`);
    authorize(actor, 'flow:read', stored.projectId, 'flow:read', `flow "${id}"`);
    return stored;
  }

  /** Like `visible`, then `permission` in the flow's project. */
  private async allowed(actor: Actor, id: string, permission: 'flow:write' | 'flow:deploy'): Promise<StoredFlow> {
    const stored = await this.visible(actor, id);
    authorize(actor, permission, stored.projectId, 'flow:read', `flow "${id}"`);
    return stored;
  }

  /** The project id of a flow the actor may read (for Socket.IO subscriptions and run checks). */
  async projectOf(actor: Actor, id: string): Promise<string> {
    return (await this.visible(actor, id)).projectId;
  }

  async list(actor: Actor): Promise<FlowView[]> {
    requirePermission(actor, 'flow:read');
    const readable = projectFilter(actor, 'flow:read');
    return (await this.runtime.listFlows()).filter((f) => readable(f.projectId));
  }

  async get(actor: Actor, id: string): Promise<FlowView> {
    await this.visible(actor, id);
    return this.runtime.getFlow(id);
  }

  async export(actor: Actor, id: string): Promise<FlowDocument> {
    await this.visible(actor, id);
    return this.runtime.exportFlow(id);
  }

  async debug(actor: Actor, id: string, after: number): Promise<DebugMessage[]> {
    await this.visible(actor, id);
    const local = this.runtime.debugLog.since(id, after);
    return (await this.runtime.queue?.debugSince(id, after, local)) ?? local;
  }

  /** Check a flow without storing it: anyone who may edit flows somewhere may. */
  async validate(actor: Actor, input: unknown): Promise<{ valid: boolean; issues: FlowIssue[]; warnings: FlowIssue[] }> {
    requirePermission(actor, 'flow:write');
    // No project here: credentials the actor cannot read are reported missing before the runtime describes them.
    const foreign = await this.foreignCredentials(input, (projectId) => can(actor, 'credential:read', projectId));
    if (foreign.length > 0) return { valid: false, issues: foreign, warnings: [] };
    return this.runtime.validateAsync(input);
  }

  async create(actor: Actor, input: unknown, projectId = DEFAULT_PROJECT): Promise<FlowView> {
    await this.projects.requireWritable(actor, projectId, 'flow:write');
    await this.checkCredentials(input, projectId);
    const flow = await this.runtime.createFlow(input, { projectId });
    await attribution.saved(this.runtime, actor, flow.id, flow.version);
    await this.audit.record(actor, 'flow.create', { type: 'flow', id: flow.id }, projectId, { version: flow.version, name: flow.name });
    return flow;
  }

  async update(actor: Actor, id: string, input: unknown, expectedVersion?: number): Promise<FlowView> {
    const stored = await this.allowed(actor, id, 'flow:write');
    await this.checkCredentials(input, stored.projectId);
    const flow = await this.runtime.updateFlow(id, input, expectedVersion);
    await attribution.saved(this.runtime, actor, id, flow.version);
    await this.audit.record(actor, 'flow.update', { type: 'flow', id }, stored.projectId, { version: flow.version });
    return flow;
  }

  /**
   * The editor's unsaved working copy of flow `id`, checked as a save would check it (the actor may edit the flow, the
   * document is valid, it uses only its project's credentials) but not stored: for runs that store nothing (pinned runs).
   */
  async checkDraft(actor: Actor, id: string, input: unknown): Promise<CheckedDraft> {
    const stored = await this.allowed(actor, id, 'flow:write');
    if ((input as { id?: unknown } | null)?.id !== id) throw invalid(`the working copy is not flow "${id}"`, [{ pointer: '/flow/id', message: `must be "${id}"` }]);
    await this.checkCredentials(input, stored.projectId);
    const result = await this.runtime.validateAsync(input);
    if (!result.valid) throw invalid(`the flow has ${result.issues.length} problem(s)`, result.issues);
    return { checked: 'draft', flow: input as FlowDocument };
  }

  async delete(actor: Actor, id: string): Promise<void> {
    const stored = await this.allowed(actor, id, 'flow:write');
    await this.runtime.deleteFlow(id);
    await this.audit.record(actor, 'flow.delete', { type: 'flow', id }, stored.projectId, { version: stored.flow.version });
  }

  async deploy(actor: Actor, id: string): Promise<FlowView> {
    const stored = await this.allowed(actor, id, 'flow:deploy');
    await this.checkCredentials(stored.flow, stored.projectId);
    const flow = await this.runtime.deployFlow(id);
    await attribution.deployed(this.runtime, actor, id, flow.deployedVersion);
    await this.audit.record(actor, 'flow.deploy', { type: 'flow', id }, stored.projectId, { version: flow.deployedVersion });
    return flow;
  }

  async undeploy(actor: Actor, id: string): Promise<FlowView> {
    const stored = await this.allowed(actor, id, 'flow:deploy');
    const flow = await this.runtime.undeployFlow(id);
    await attribution.deployed(this.runtime, actor, id, null);
    await this.audit.record(actor, 'flow.undeploy', { type: 'flow', id }, stored.projectId);
    return flow;
  }

  /**
   * Import into `projectId`. A flow replacing an existing one must be in the same project (flows are not moved by
   * an import) and writable by the actor; one in a project the actor cannot see is reported as an id conflict
   * without saying where it lives.
   */
  async import(actor: Actor, input: unknown, options: { deploy?: boolean; replace?: boolean; projectId?: string } = {}): Promise<ImportResult> {
    const projectId = options.projectId ?? DEFAULT_PROJECT;
    await this.projects.requireWritable(actor, projectId, 'flow:write');
    if (options.deploy) authorize(actor, 'flow:deploy', projectId, 'flow:read', `project "${projectId}"`);
    // Before the runtime validates the flows, whose credential checks would describe a credential it finds.
    if (Array.isArray(input)) for (const [i, doc] of input.entries()) await this.checkCredentials(doc, projectId, `/${i}`);
    else await this.checkCredentials(input, projectId);
    // A Node-RED export's subflows go into the sub-flow library first: the flows' instances are nodes of their types.
    const { subflows, alone } = await importNodeRedSubflows({ runtime: this.runtime, projects: this.projects, audit: this.audit }, actor, input, projectId);
    if (alone) return alone;
    const result = await this.runtime.importFlows(input, {
      ...options,
      projectId,
      authorize: async (flow, existing) => {
        if (existing && existing.projectId !== projectId) {
          if (!can(actor, 'flow:read', existing.projectId)) throw new ProblemError(409, 'Flow exists', `flow id "${flow.id}" is taken; choose another id`);
          throw new ProblemError(409, 'Flow exists', `flow "${flow.id}" belongs to project "${existing.projectId}"; import it there`);
        }
        await this.checkCredentials(flow, projectId);
      },
    });
    for (const f of result.flows) {
      await attribution.saved(this.runtime, actor, f.id, f.version);
      if (f.deployed) await attribution.deployed(this.runtime, actor, f.id, f.version);
      await this.audit.record(actor, 'flow.import', { type: 'flow', id: f.id }, projectId, { version: f.version, source: result.source, deployed: f.deployed });
    }
    return subflows.length > 0 ? { ...result, subflows } : result;
  }

  /**
   * Mark flows deployed without starting them here (the CLI's `import --deploy`: they start with the next server).
   * Needs flow:deploy in each flow's project.
   */
  async markDeployed(actor: Actor, id: string, version: number): Promise<void> {
    const stored = await this.allowed(actor, id, 'flow:deploy');
    await this.runtime.storage.setDeployed(id, version);
    await attribution.deployed(this.runtime, actor, id, version);
    await this.audit.record(actor, 'flow.deploy', { type: 'flow', id }, stored.projectId, { version, atNextStart: true });
  }

  /**
   * A flow may only use its own project's credentials, checked at every save and deploy (flows and credentials never
   * change project, so what was checked stays true). The refusal names no other project, type or name.
   */
  private async checkCredentials(input: unknown, projectId: string, at = ''): Promise<void> {
    const issues = await this.foreignCredentials(input, (p) => p === projectId, at, ` in project "${projectId}"`);
    if (issues.length > 0) throw invalid(`the flow has ${issues.length} problem(s)`, issues);
  }

  /** Nodes referring to a stored credential of a project not `allowed`: reported like a missing credential. */
  private async foreignCredentials(input: unknown, allowed: (projectId: string) => boolean, at = '', where = ''): Promise<FlowIssue[]> {
    const nodes = (input as { nodes?: unknown } | null)?.nodes;
    if (!Array.isArray(nodes)) return []; // the flow validator reports the shape
    const issues: FlowIssue[] = [];
    for (const [i, node] of nodes.entries()) {
      const { credentials: id, type, props } = (node ?? {}) as { credentials?: unknown; type?: unknown; props?: unknown };
      // The node's own credential and those its props name (a model per agent: credentials.inProps).
      const more = typeof type === 'string' ? credentialRefsInProps(this.runtime.registry.get(type), props).map((r) => ({ id: r.id, pointer: `${at}/nodes/${i}/props${r.pointer}` })) : [];
      for (const ref of [...(typeof id === 'string' ? [{ id, pointer: `${at}/nodes/${i}/credentials` }] : []), ...more]) {
        const record = await this.runtime.storage.getCredential(ref.id);
        if (record && !allowed(record.projectId ?? DEFAULT_PROJECT)) {
          issues.push({ pointer: ref.pointer, message: `credential "${ref.id}" does not exist${where}`, nodeId: (node as { id?: string }).id });
        }
      }
    }
    return issues;
  }
}
