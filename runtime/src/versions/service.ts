/**
 * Flow versions as an actor may see and use them: the list (who saved each, which one is deployed and who deployed
 * it), one version's document, the diff between any two, and restore. Reading needs flow:read in the flow's project,
 * restoring flow:write (it goes through the ordinary flow save, so it is validated, credential-checked and creates a
 * new version; it is audited as flow.restore).
 */
import { ProblemError } from '../errors.ts';
import type { FlowDocument, FlowView } from '../flow/types.ts';
import type { Actor } from '../identity/actor.ts';
import type { Runtime } from '../runtime.ts';
import { authorize } from '../services/access.ts';
import type { AuditService } from '../services/audit.ts';
import type { FlowService } from '../services/flows.ts';
import type { FlowDeploymentRecord, FlowVersionRecord } from '../storage/versions.ts';
import { diffFlows, type FlowDiff } from './diff.ts';

export interface VersionList {
  flowId: string;
  current: number;
  /** The deployed version, who deployed it and when (null when not deployed). */
  deployed: { version: number; by: string | null; at: number } | null;
  versions: Array<FlowVersionRecord & { current: boolean; deployed: boolean }>;
}

export interface VersionDiff {
  flowId: string;
  from: number;
  to: number;
  diff: FlowDiff;
}

export class VersionService {
  constructor(
    private readonly runtime: Runtime,
    private readonly flows: FlowService,
    private readonly audit: AuditService,
  ) {}

  async list(actor: Actor, id: string, options: { limit?: number; before?: number } = {}): Promise<VersionList> {
    const stored = await this.flows.visible(actor, id);
    const store = this.runtime.storage.versions;
    const [versions, deployments] = await Promise.all([store.list(id, options), store.deployments(id, 1)]);
    const last: FlowDeploymentRecord | undefined = deployments[0];
    const deployedVersion = stored.deployedVersion;
    return {
      flowId: id,
      current: stored.flow.version,
      deployed:
        deployedVersion === null
          ? null
          : { version: deployedVersion, by: last?.version === deployedVersion ? last.deployedBy : null, at: last?.version === deployedVersion ? last.deployedAt : stored.updatedAt },
      versions: versions.map((v) => ({ ...v, current: v.version === stored.flow.version, deployed: v.version === deployedVersion })),
    };
  }

  async deployments(actor: Actor, id: string, limit?: number): Promise<FlowDeploymentRecord[]> {
    await this.flows.visible(actor, id);
    return this.runtime.storage.versions.deployments(id, limit);
  }

  async get(actor: Actor, id: string, version: number): Promise<{ version: FlowVersionRecord; document: FlowDocument }> {
    await this.flows.visible(actor, id);
    return this.load(id, version);
  }

  /** The changes from version `from` to version `to` (default: the current one). */
  async diff(actor: Actor, id: string, from: number, to?: number): Promise<VersionDiff> {
    const stored = await this.flows.visible(actor, id);
    const target = to ?? stored.flow.version;
    const [a, b] = await Promise.all([this.load(id, from), this.load(id, target)]);
    return { flowId: id, from, to: target, diff: diffFlows(a.document, b.document) };
  }

  /** Save version `version`'s document as a new version (none when it equals the current one). */
  async restore(actor: Actor, id: string, version: number): Promise<FlowView & { restoredFrom: number }> {
    const stored = await this.flows.visible(actor, id);
    authorize(actor, 'flow:write', stored.projectId, 'flow:read', `flow "${id}"`);
    const { document } = await this.load(id, version);
    const flow = await this.flows.update(actor, id, { ...document, version: stored.flow.version }, stored.flow.version);
    await this.runtime.storage.versions.attribute(id, flow.version, actor.name, `restored from version ${version}`);
    await this.audit.record(actor, 'flow.restore', { type: 'flow', id }, stored.projectId, { from: version, version: flow.version });
    return { ...flow, restoredFrom: version };
  }

  private async load(id: string, version: number): Promise<{ version: FlowVersionRecord; document: FlowDocument }> {
    const found = await this.runtime.storage.versions.get(id, version);
    if (!found) throw new ProblemError(404, 'Not found', `flow "${id}" has no version ${version}`);
    return { version: found.record, document: found.document };
  }
}

/** Name the actor on the revision a save produced and on a deploy (called by FlowService after each). */
export const attribution = {
  saved: (runtime: Runtime, actor: Actor, flowId: string, version: number) => runtime.storage.versions.attribute(flowId, version, actor.name),
  deployed: (runtime: Runtime, actor: Actor, flowId: string, version: number | null) => runtime.storage.versions.attributeDeploy(flowId, version, actor.name),
};
