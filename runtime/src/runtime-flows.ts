/**
 * The runtime's flow operations (runtime.ts delegates to them): validate, save, deploy, import and export flows, with
 * the checks and error answers the API needs. No HTTP in here.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@flowcrew/sdk';
import type { RuntimeConfig } from './config.ts';
import { invalid, notFound, ProblemError } from './errors.ts';
import { DeployError, type Executor } from './executor/executor.ts';
import { credentialBindingIssues } from './executor/credential-binding.ts';
import { deployReadinessIssues } from './flow/deploy-readiness.ts';
import { findTooDeep } from './flow/json-depth.ts';
import { importN8n, isN8nExport } from './flow/n8n.ts';
import { importNodeRed, isNodeRedExport } from './flow/node-red.ts';
import { FLOW_FORMAT, type FlowDocument, type FlowIssue, type FlowView, type ImportResult } from './flow/types.ts';
import { validateFlow, validateFlowAsync } from './flow/validate.ts';
import { withFields } from './logging/logger.ts';
import type { NodeRegistry } from './registry/registry.ts';
import { VersionConflictError, type FlowSave, type Storage, type StoredFlow } from './storage/types.ts';
import { deployingInProject } from './variables/index.ts';
import { DEFAULT_PROJECT } from './identity/actor.ts';

/** A FlowView sent back as-is (GET then PUT) carries read-only fields that are not part of the flow format. */
function withoutViewFields(input: unknown): unknown {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return input;
  const { deployed: _d, deployedVersion: _v, updatedAt: _u, projectId: _p, ...flow } = input as Record<string, unknown>;
  return flow;
}

const isObjectWithoutId = (input: unknown): input is Record<string, unknown> =>
  input !== null && typeof input === 'object' && !Array.isArray(input) && (input as { id?: unknown }).id === undefined;

export class RuntimeFlows {
  constructor(
    private readonly storage: Storage,
    private readonly executor: Executor,
    private readonly registry: NodeRegistry,
    private readonly config: RuntimeConfig,
    private readonly log: Logger,
  ) {}

  /** Example flows are stored and deployed the first time only: a user's later edits win. */
  async loadExampleFlows(dir: string): Promise<void> {
    let files: string[];
    try {
      files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
    } catch {
      return;
    }
    for (const file of files) {
      try {
        const doc = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as FlowDocument;
        if (await this.storage.getFlow(doc.id)) continue;
        const saved = await this.saveValidated(doc);
        await this.storage.setDeployed(saved.flow.id, saved.flow.version);
        withFields(this.log, { flowId: doc.id }).info(`loaded example flow "${doc.id}" from ${file}`);
      } catch (error) {
        this.log.error(`example flow ${file} was not loaded: ${error instanceof ProblemError ? `${error.message} ${JSON.stringify(error.issues)}` : (error as Error).message}`);
      }
    }
  }

  private view(stored: StoredFlow): FlowView {
    return {
      ...stored.flow,
      format: FLOW_FORMAT,
      deployed: this.executor.isDeployed(stored.flow.id),
      deployedVersion: stored.deployedVersion,
      updatedAt: stored.updatedAt,
      projectId: stored.projectId,
    };
  }

  async listFlows(): Promise<FlowView[]> {
    return (await this.storage.listFlows()).map((s) => this.view(s));
  }

  async getFlow(id: string): Promise<FlowView> {
    const stored = await this.storage.getFlow(id);
    if (!stored) throw notFound(`flow "${id}"`);
    return this.view(stored);
  }

  /** Validate without storing: every issue, each with a JSON pointer. Linear, but holds the event loop meanwhile. */
  validate(input: unknown): { valid: boolean; issues: FlowIssue[]; warnings: FlowIssue[] } {
    const { valid, issues, warnings } = validateFlow(input, this.registry, { maxDepth: this.config.maxDepth });
    return { valid, issues, warnings };
  }

  /** The same as `validate`, giving the event loop a turn every few hundred nodes (what the API should call). */
  async validateAsync(input: unknown): Promise<{ valid: boolean; issues: FlowIssue[]; warnings: FlowIssue[] }> {
    const { valid, issues, warnings, flow } = await this.check(input);
    // What would refuse the deploy (a required credential not attached) is listed too, every node at once.
    return { valid, issues, warnings: valid ? [...warnings, ...(await this.readiness(flow))] : warnings };
  }

  /** Every node a deploy of `flow` would refuse before creating any (credentials missing), with id, name and reason. */
  private readiness(flow: FlowDocument): Promise<FlowIssue[]> {
    return deployReadinessIssues(flow, (type) => this.registry.get(type), async (id) => (await this.storage.getCredential(id)) !== null);
  }

  private async check(input: unknown) {
    const result = await validateFlowAsync(input, this.registry, { maxDepth: this.config.maxDepth });
    if (!result.valid) return result;
    // A stored credential of another type than the node takes (an ai-model credential on http-request) is refused here.
    const binding = await credentialBindingIssues(result.flow, (type) => this.registry.get(type), async (id) => {
      const record = await this.storage.getCredential(id);
      return record ? { id: record.id, name: record.name, type: record.type } : undefined;
    });
    return binding.length > 0 ? { ...result, valid: false, issues: [...result.issues, ...binding] } : result;
  }

  private async saveValidated(input: unknown, expectedVersion?: number, projectId?: string): Promise<StoredFlow> {
    const { valid, issues, flow } = await this.check(withoutViewFields(input));
    if (!valid) throw invalid(`the flow has ${issues.length} problem(s)`, issues);
    return this.store(flow, expectedVersion, projectId);
  }

  /** Save a validated flow; a lost optimistic-lock race becomes a 409. */
  private async store(flow: FlowDocument, expectedVersion?: number, projectId?: string): Promise<StoredFlow> {
    try {
      return await this.storage.saveFlow({ ...flow, format: FLOW_FORMAT }, expectedVersion, { projectId });
    } catch (error) {
      if (error instanceof VersionConflictError) throw new ProblemError(409, 'Version conflict', error.message, [], { currentVersion: error.actual });
      throw error;
    }
  }

  /** Create a new flow. Insert-if-absent in storage, so of concurrent creates with one id exactly one wins. */
  async createFlow(body: unknown, options: { projectId?: string } = {}): Promise<FlowView> {
    // A flow without an id gets a generated one, as Node-RED's and n8n's APIs do.
    const input = isObjectWithoutId(body) ? { ...body, id: randomUUID() } : body;
    const id = (input as { id?: unknown } | null)?.id;
    const exists = () => new ProblemError(409, 'Flow exists', `flow "${id}" already exists; use PUT to change it`);
    if (typeof id === 'string' && (await this.storage.getFlow(id))) throw exists();
    try {
      return this.view(await this.saveValidated(input, 0, options.projectId));
    } catch (error) {
      if (error instanceof ProblemError && error.status === 409) throw exists();
      throw error;
    }
  }

  /** Save a new revision. `expectedVersion` (from If-Match or the body's version) guards against lost updates. */
  async updateFlow(id: string, input: unknown, expectedVersion?: number): Promise<FlowView> {
    if (input && typeof input === 'object' && (input as { id?: unknown }).id !== undefined && (input as { id?: unknown }).id !== id) {
      throw invalid('the flow id in the body differs from the URL', [{ pointer: '/id', message: `must be "${id}"` }]);
    }
    if (!(await this.storage.getFlow(id))) throw notFound(`flow "${id}"`);
    return this.view(await this.saveValidated({ ...(input as object), id }, expectedVersion));
  }

  async deleteFlow(id: string): Promise<void> {
    await this.executor.undeploy(id);
    if (!(await this.storage.deleteFlow(id))) throw notFound(`flow "${id}"`);
  }

  /** Deploy the stored revision: validate again (node packs may have changed), create nodes, start triggers. */
  async deployFlow(id: string): Promise<FlowView> {
    const stored = await this.storage.getFlow(id);
    if (!stored) throw notFound(`flow "${id}"`);
    const { valid, issues, flow } = await this.check(stored.flow);
    if (!valid) throw invalid(`flow "${id}" cannot be deployed: ${issues.length} problem(s)`, issues);
    const blocking = await this.readiness(flow);
    if (blocking.length > 0) throw new ProblemError(422, 'Deploy failed', `flow "${id}" cannot be deployed: ${blocking.length} node(s) need attention`, blocking);
    try {
      await this.executor.deploy(flow);
    } catch (error) {
      if (error instanceof DeployError) {
        const pointer = (nodeId: string) => `/nodes/${flow.nodes.findIndex((n) => n.id === nodeId)}`.replace('/nodes/-1', '/');
        throw new ProblemError(422, 'Deploy failed', error.message, error.nodes.map((n) => ({ pointer: pointer(n.nodeId), message: n.message, nodeId: n.nodeId })));
      }
      throw error;
    }
    await this.storage.setDeployed(id, flow.version);
    return this.view({ ...stored, deployedVersion: flow.version, deployedFlow: flow });
  }

  async undeployFlow(id: string): Promise<FlowView> {
    const stored = await this.storage.getFlow(id);
    if (!stored) throw notFound(`flow "${id}"`);
    await this.executor.undeploy(id);
    await this.storage.setDeployed(id, null);
    return this.view({ ...stored, deployedVersion: null, deployedFlow: null });
  }

  /**
   * Import Flowcrew JSON (one flow or an array) or a Node-RED export (detected). All or nothing: every flow is saved
   * in one transaction, and with `deploy` every flow is deployed first; one that fails leaves nothing stored or
   * deployed (replaced flows keep running their previous revision).
   */
  async importFlows(
    input: unknown,
    options: {
      deploy?: boolean;
      replace?: boolean;
      /** Project of the new flows (a replaced flow stays in its own). */
      projectId?: string;
      /** Called for each valid flow with the stored flow it would replace, before anything is stored: throw to refuse. */
      authorize?: (flow: FlowDocument, existing: StoredFlow | null) => Promise<void> | void;
    } = {},
  ): Promise<ImportResult> {
    // Before the Node-RED detection and importer (recursive): the CLI's input does not pass the API's body guard.
    const tooDeep = findTooDeep(input, this.config.maxDepth);
    if (tooDeep) throw new ProblemError(400, 'Too deeply nested', `the import is nested more than ${this.config.maxDepth} levels deep at ${tooDeep.pointer}`, [tooDeep]);
    let source: ImportResult['source'];
    let docs: unknown[];
    let unmapped: ImportResult['unmapped'] = [];
    let warnings: string[] = [];
    let properties: ImportResult['properties'];
    if (isNodeRedExport(input)) {
      source = 'node-red';
      const imported = importNodeRed(input);
      docs = imported.flows;
      unmapped = imported.unmapped;
      warnings = imported.warnings;
      properties = imported.properties;
      if (docs.length === 0) throw new ProblemError(422, 'Nothing to import', 'the Node-RED export has no flow tab with nodes', [], { unmapped, warnings });
    } else if (isN8nExport(input)) {
      source = 'n8n';
      const imported = importN8n(input);
      docs = imported.flows;
      unmapped = imported.unmapped;
      warnings = imported.warnings;
      if (docs.length === 0) throw new ProblemError(422, 'Nothing to import', 'the n8n workflow has no nodes to import', [], { unmapped, warnings });
    } else if (Array.isArray(input) || (input && typeof input === 'object' && 'nodes' in input)) {
      source = 'flowcrew';
      docs = Array.isArray(input) ? input : [input];
    } else {
      throw new ProblemError(400, 'Unrecognised import', 'expected a Flowcrew flow (an object with "nodes"), an array of flows, a Node-RED export (an array of nodes with "type" and "z") or an n8n workflow ({ nodes, connections })');
    }
    // Where each flow sits in the request, for pointers: /0, /1 ... in an array; /flows/i for Node-RED.
    const prefix = (i: number) => (Array.isArray(input) && source !== 'node-red' ? `/${i}` : source === 'node-red' ? `/flows/${i}` : '');
    // Validate everything before storing anything: an import is all or nothing.
    const issues: FlowIssue[] = [];
    const valid: FlowDocument[] = [];
    const seen = new Map<string, number>();
    for (const [i, doc] of docs.entries()) {
      const result = await this.check(doc);
      issues.push(...result.issues.map((issue) => ({ ...issue, pointer: prefix(i) + issue.pointer })));
      // What node types report without refusing (a crew's CrewAI fields it cannot use) belongs in the import's answer.
      warnings.push(...result.warnings.map((w) => `${w.nodeId ? `node "${w.nodeId}" ` : ''}at ${prefix(i) + w.pointer}: ${w.message}`));
      valid.push(result.flow);
      const id = result.valid ? result.flow.id : undefined;
      if (id !== undefined && seen.has(id)) issues.push({ pointer: `${prefix(i)}/id`, message: `flow id "${id}" appears twice in the import (also at ${prefix(seen.get(id)!) || '/'})` });
      else if (id !== undefined) seen.set(id, i);
    }
    if (issues.length > 0) throw new ProblemError(422, 'Invalid import', `the import has ${issues.length} problem(s); nothing was stored`, issues, { unmapped, warnings, ...(properties ? { properties } : {}) });
    // The revision each flow is replacing (0 = new), so a concurrent edit between check and save is a 409, not lost.
    const saves: FlowSave[] = [];
    /** What the executor runs now for each replaced flow, to restore if the import's deploy fails. */
    const running = new Map<string, FlowDocument | null>();
    for (const doc of valid) {
      const existing = await this.storage.getFlow(doc.id);
      await options.authorize?.(doc, existing);
      if (existing && !options.replace) throw new ProblemError(409, 'Flow exists', `flow "${doc.id}" already exists; import with ?replace=true to overwrite it`, [], { unmapped, warnings });
      const expectedVersion = existing?.flow.version ?? 0;
      saves.push({ flow: { ...doc, format: FLOW_FORMAT, version: expectedVersion + 1 }, expectedVersion, projectId: existing?.projectId ?? options.projectId });
      // Deployed before it is stored (below): its project's variables are found through this (variables/index.ts).
      deployingInProject(saves.at(-1)!.flow, existing?.projectId ?? options.projectId ?? DEFAULT_PROJECT);
      running.set(doc.id, existing && this.executor.isDeployed(doc.id) ? existing.deployedFlow : null);
    }
    // With ?deploy, every flow is deployed BEFORE anything is stored: one that fails to deploy undoes the others'
    // deployments and nothing is stored. Then every flow is saved and marked deployed in ONE transaction, so a crash
    // leaves all of the import or none of it.
    if (options.deploy) {
      // Every node of every flow that would refuse to deploy, in one answer, before any flow is deployed.
      const blocking = (await Promise.all(saves.map(async (s, i) => (await this.readiness(s.flow)).map((issue) => ({ ...issue, pointer: prefix(i) + issue.pointer }))))).flat();
      if (blocking.length > 0) throw new ProblemError(422, 'Deploy failed', `${blocking.length} node(s) cannot be deployed; nothing of the import was stored or deployed`, blocking, { unmapped, warnings });
      await this.deployAll(saves.map((s) => s.flow), running, prefix);
    }
    let stored: StoredFlow[];
    try {
      stored = await this.storage.saveFlows(saves, { deploy: options.deploy });
    } catch (error) {
      if (options.deploy) await this.restoreDeployments(saves.map((s) => s.flow.id), running);
      if (error instanceof VersionConflictError) {
        throw new ProblemError(409, 'Version conflict', `${error.message} Nothing of the import was stored.`, [], { currentVersion: error.actual, flowId: error.flowId, unmapped, warnings });
      }
      throw error;
    }
    const flows = stored.map((s) => ({ id: s.flow.id, name: s.flow.name, version: s.flow.version, deployed: options.deploy === true }));
    return { source, flows, unmapped, warnings, ...(properties ? { properties } : {}) };
  }

  /** Deploy each flow of an import; on the first failure undo the ones deployed so far and name the flow and node. */
  private async deployAll(flows: FlowDocument[], running: Map<string, FlowDocument | null>, prefix: (i: number) => string): Promise<void> {
    for (const [i, flow] of flows.entries()) {
      try {
        await this.executor.deploy(flow);
      } catch (error) {
        await this.restoreDeployments(flows.slice(0, i).map((f) => f.id), running);
        const detail = `flow "${flow.id}" could not be deployed: ${(error as Error).message}; nothing of the import was stored or deployed`;
        const nodes = error instanceof DeployError && error.nodes.length > 0 ? error.nodes : [{ nodeId: undefined, message: (error as Error).message }];
        const pointer = (nodeId: string | undefined) => {
          const index = nodeId === undefined ? -1 : flow.nodes.findIndex((n) => n.id === nodeId);
          return index >= 0 ? `${prefix(i)}/nodes/${index}` : prefix(i) || '/';
        };
        throw new ProblemError(422, 'Deploy failed', detail, nodes.map((n) => ({ pointer: pointer(n.nodeId), message: n.message, ...(n.nodeId ? { nodeId: n.nodeId } : {}) })), { flowId: flow.id });
      }
    }
  }

  /** Put the executor back as it was before an import: the previous revision where one ran, else nothing. */
  private async restoreDeployments(ids: string[], running: Map<string, FlowDocument | null>): Promise<void> {
    for (const id of [...ids].reverse()) {
      const previous = running.get(id) ?? null;
      try {
        if (previous) await this.executor.deploy(previous);
        else await this.executor.undeploy(id);
      } catch (error) {
        withFields(this.log, { flowId: id }).error(`import rolled back, but flow "${id}" could not be restored to its previous deployment: ${(error as Error).message}`);
      }
    }
  }

  async exportFlow(id: string): Promise<FlowDocument> {
    const stored = await this.storage.getFlow(id);
    if (!stored) throw notFound(`flow "${id}"`);
    return { ...stored.flow, format: FLOW_FORMAT };
  }
}
