/**
 * Questions runs wait on, as an actor may see and answer them. Reading needs run:read in the question's project;
 * answering needs run:start there, and when the question names who may answer (users, project roles), being one of
 * them, an instance admin or a project owner. Answers, links handed out and refusals are audited.
 */
import { ProblemError, notFound } from '../errors.ts';
import { can, type Actor, type Permission } from '../identity/actor.ts';
import type { Runtime } from '../runtime.ts';
import { authorize, projectFilter, requirePermission } from '../services/access.ts';
import type { AuditService } from '../services/audit.ts';
import { LinkError } from './links.ts';
import type { WaitRecord } from './store.ts';
import type { WaitingRuns } from './waiting.ts';

export interface WaitView {
  id: string;
  runId: string;
  flowId: string;
  nodeId: string;
  projectId: string;
  status: WaitRecord['status'];
  title: string;
  message: string;
  context: unknown;
  /** JSON Schema of the answer (the form to show). */
  schema: Record<string, unknown>;
  assignees: WaitRecord['assignees'];
  createdAt: number;
  expiresAt: number | null;
  escalatedAt: number | null;
  answer: unknown;
  answeredBy: string | null;
  answeredVia: string | null;
  answeredAt: number | null;
  /** Whether the caller may answer it (always true for a link holder while it is open). */
  mayAnswer: boolean;
}

const target = (wait: { id: string }) => ({ type: 'wait', id: wait.id });

export class WaitService {
  constructor(
    private readonly runtime: Runtime,
    private readonly audit: AuditService,
  ) {
    // Timeouts and escalations are the runtime's own doing: audited as the system.
    const waiting = runtime.waiting;
    if (waiting) {
      waiting.onNotice = (notice) =>
        void audit
          .record(SYSTEM, notice.kind === 'escalated' ? 'wait.escalate' : 'wait.timeout', target(notice.wait), notice.wait.projectId, {
            runId: notice.wait.runId,
            ...(notice.kind === 'escalated' ? { assignees: notice.wait.assignees } : { answer: notice.wait.request.timeoutAnswer ?? null }),
          })
          .catch(() => {});
    }
  }

  private get waiting(): WaitingRuns {
    const waiting = this.runtime.waiting;
    if (!waiting) throw new ProblemError(501, 'Not available', 'this runtime has no human-in-the-loop waiting (it needs the SQL storage)');
    return waiting;
  }

  /** Open questions of the projects where the actor reads runs (of one run with `runId`), oldest first. */
  async list(actor: Actor, filter: { runId?: string } = {}): Promise<WaitView[]> {
    requirePermission(actor, 'run:read');
    const readable = projectFilter(actor, 'run:read');
    const waits = filter.runId ? await this.waiting.store.listForRun(filter.runId) : await this.waiting.store.listOpen();
    return waits.filter((w) => readable(w.projectId)).map((w) => this.view(w, mayAnswer(actor, w)));
  }

  async get(actor: Actor, id: string): Promise<WaitView> {
    const wait = await this.visible(actor, id);
    return this.view(wait, mayAnswer(actor, wait));
  }

  /** Answer as a signed-in person or token: the run resumes. */
  async answer(actor: Actor, id: string, answer: unknown): Promise<WaitView> {
    const wait = await this.visible(actor, id);
    authorize(actor, 'run:start', wait.projectId, 'run:read', `question "${id}"`);
    if (!isAssignee(actor, wait)) {
      throw await this.audit.denied(actor, 'wait.answer', `question "${id}" is for ${describe(wait.assignees)}; you are not one of them`, target(wait), wait.projectId);
    }
    const via = actor.via === 'session' || actor.via === 'oidc' ? 'editor' : 'api';
    return this.answered(actor, wait, answer, via);
  }

  /** A signed, single-use link to hand to whoever should answer (a notify flow gets one by itself). */
  async link(actor: Actor, id: string): Promise<{ url: string; token: string; expiresAt: number }> {
    const wait = await this.visible(actor, id);
    authorize(actor, 'run:start', wait.projectId, 'run:read', `question "${id}"`);
    if (!isAssignee(actor, wait)) throw await this.audit.denied(actor, 'wait.link', `question "${id}" is for ${describe(wait.assignees)}; you are not one of them`, target(wait), wait.projectId);
    if (wait.status !== 'open') throw new ProblemError(409, 'Question closed', `question "${id}" is ${wait.status}; no link is made for it`);
    const link = await this.waiting.linkFor(wait);
    await this.audit.record(actor, 'wait.link', target(wait), wait.projectId, { runId: wait.runId, expiresAt: link.expiresAt });
    return link;
  }

  /** What a link holder sees (no account needed: the link is the permission). */
  async byLink(token: string): Promise<WaitView> {
    const wait = await this.waiting.get(await this.verify(token));
    return this.view(wait, wait.status === 'open');
  }

  async answerByLink(token: string, answer: unknown, from?: string): Promise<WaitView> {
    const wait = await this.waiting.get(await this.verify(token));
    return this.answered({ ...LINK_ACTOR, from }, wait, answer, 'link');
  }

  private async answered(actor: Actor, wait: WaitRecord, answer: unknown, via: 'editor' | 'api' | 'link'): Promise<WaitView> {
    try {
      const done = await this.waiting.answer(wait.id, answer, { name: actor.name, via });
      await this.audit.record(actor, 'wait.answer', target(wait), wait.projectId, { runId: wait.runId, via });
      return this.view(done, false);
    } catch (error) {
      if (error instanceof ProblemError) await this.audit.failed(actor, 'wait.answer', target(wait), wait.projectId, { runId: wait.runId, via, reason: error.message });
      throw error;
    }
  }

  private async verify(token: string): Promise<string> {
    try {
      return await this.waiting.links.verify(token);
    } catch (error) {
      if (!(error instanceof LinkError)) throw error;
      // Same answer for every bad link (no oracle); the detail says which kind.
      throw new ProblemError(error.reason === 'expired' ? 410 : 401, error.reason === 'expired' ? 'Link expired' : 'Link not valid', error.message);
    }
  }

  private async visible(actor: Actor, id: string): Promise<WaitRecord> {
    const wait = await this.waiting.store.get(id);
    if (!wait || !can(actor, 'run:read', wait.projectId)) throw notFound(`question "${id}"`);
    return wait;
  }

  private view(wait: WaitRecord, may: boolean): WaitView {
    return {
      id: wait.id,
      runId: wait.runId,
      flowId: wait.flowId,
      nodeId: wait.nodeId,
      projectId: wait.projectId,
      status: wait.status,
      title: wait.request.title,
      message: wait.request.message ?? '',
      context: wait.request.context ?? null,
      schema: this.waiting.schemaOf(wait),
      assignees: wait.assignees,
      createdAt: wait.createdAt,
      expiresAt: wait.expiresAt,
      escalatedAt: wait.escalatedAt,
      answer: wait.answer,
      answeredBy: wait.answeredBy,
      answeredVia: wait.answeredVia,
      answeredAt: wait.answeredAt,
      mayAnswer: may && wait.status === 'open',
    };
  }
}

const SYSTEM: Actor = Object.freeze({ kind: 'system', id: 'system', name: 'system', instanceRole: 'admin', projects: {}, via: 'system' });
/** Whoever holds a signed link: may answer that one question and nothing else. */
const LINK_ACTOR: Actor = Object.freeze({ kind: 'system', id: 'signed-link', name: 'signed link', instanceRole: 'member', projects: {}, scopes: new Set<Permission>(), via: 'link' });

function mayAnswer(actor: Actor, wait: WaitRecord): boolean {
  return can(actor, 'run:start', wait.projectId) && isAssignee(actor, wait);
}

/** Named assignees (users by name or id, project roles), instance admins and project owners may answer. */
function isAssignee(actor: Actor, wait: WaitRecord): boolean {
  const { users, roles } = wait.assignees;
  if (users.length === 0 && roles.length === 0) return true;
  if (actor.instanceRole === 'admin') return true;
  const role = actor.projects[wait.projectId];
  if (role === 'owner') return true;
  return users.includes(actor.name) || users.includes(actor.id) || (role !== undefined && roles.includes(role));
}

function describe(assignees: WaitRecord['assignees']): string {
  const parts = [...(assignees.users.length ? [`users ${assignees.users.join(', ')}`] : []), ...(assignees.roles.length ? [`project roles ${assignees.roles.join(', ')}`] : [])];
  return parts.join(' and ');
}
