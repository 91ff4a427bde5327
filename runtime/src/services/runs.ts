/**
 * Runs, as an actor may see and start them. A run belongs to its flow's project (recorded on the run when it is
 * accepted), so a run stays readable under the same rule after its flow is deleted.
 */
import type { FlowMessage } from '@flowcrew/sdk';
import { notFound } from '../errors.ts';
import type { Actor } from '../identity/actor.ts';
import type { Runtime } from '../runtime.ts';
import type { InvocationRecord, RunFilter, RunRecord } from '../storage/types.ts';
import { authorize, projectFilter, projectIdsFor, requirePermission } from './access.ts';
import { rerunFromStep, type StepRerun } from '../steps/rerun.ts';

const projectOfRun = (run: RunRecord) => run.projectId ?? 'default';

export class RunService {
  constructor(private readonly runtime: Runtime) {}

  /** The run, if `actor` may read it; otherwise the same 404 as for an unknown id. */
  async visible(actor: Actor, id: string): Promise<RunRecord> {
    const run = await this.runtime.storage.getRun(id);
    if (!run) throw notFound(`run "${id}"`);
    authorize(actor, 'run:read', projectOfRun(run), 'run:read', `run "${id}"`);
    return run;
  }

  /** Newest first, only runs of projects where the actor holds run:read. */
  async list(actor: Actor, filter: RunFilter): Promise<RunRecord[]> {
    requirePermission(actor, 'run:read');
    return this.runtime.listRuns({ ...filter, projectIds: projectIdsFor(actor, 'run:read') });
  }

  async get(actor: Actor, id: string): Promise<RunRecord & { invocations: InvocationRecord[] }> {
    await this.visible(actor, id);
    return this.runtime.getRun(id);
  }

  async start(actor: Actor, flowId: string, body: { input?: FlowMessage; nodeId?: string }): Promise<{ runId: string }> {
    const stored = await this.runtime.storage.getFlow(flowId);
    if (!stored) throw notFound(`flow "${flowId}"`);
    authorize(actor, 'run:start', stored.projectId, 'flow:read', `flow "${flowId}"`);
    return this.runtime.startRun(flowId, body);
  }

  async rerun(actor: Actor, id: string): Promise<{ runId: string }> {
    const run = await this.visible(actor, id);
    authorize(actor, 'run:start', projectOfRun(run), 'run:read', `run "${id}"`);
    return this.runtime.rerun(id);
  }

  /** A new run from a chosen step of one of this run's invocations (steps/rerun.ts): starting runs is what it takes. */
  async rerunFromStep(actor: Actor, id: string, invocationId: string, fromStep: string): Promise<StepRerun> {
    const run = await this.visible(actor, id);
    authorize(actor, 'run:start', projectOfRun(run), 'run:read', `run "${id}"`);
    return rerunFromStep(this.runtime, id, invocationId, fromStep);
  }

  async cancel(actor: Actor, id: string): Promise<RunRecord> {
    const run = await this.visible(actor, id);
    authorize(actor, 'run:cancel', projectOfRun(run), 'run:read', `run "${id}"`);
    return this.runtime.cancelRun(id);
  }

  /** Dashboard figures over the flows of the projects where the actor reads runs. */
  async stats(actor: Actor, minutes: number) {
    requirePermission(actor, 'run:read');
    const ids = projectIdsFor(actor, 'run:read');
    if (ids === undefined) return this.runtime.stats(minutes);
    const readable = projectFilter(actor, 'run:read');
    const flowIds = new Set((await this.runtime.storage.listFlows()).filter((f) => readable(f.projectId)).map((f) => f.flow.id));
    return this.runtime.stats(minutes, (flowId) => flowIds.has(flowId));
  }
}
