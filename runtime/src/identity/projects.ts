/**
 * Projects and their members. Flows, credentials and runs belong to a project; users hold one role per project.
 * The 'default' project always exists (the migration creates it; it cannot be deleted) and the first admin owns it.
 * Mutations take the acting Actor for the audit entry; permission checks are the services' job.
 */
import { ProblemError, notFound } from '../errors.ts';
import { ProjectNotEmptyError, type IdentityStore, type ProjectRecord } from '../storage/identity-types.ts';
import { DEFAULT_PROJECT, PROJECT_ROLES, type Actor, type ProjectRole } from './actor.ts';
import type { AuditLog } from './audit.ts';
import type { UserChanged } from './users.ts';
import type { MemberView, NewProject, ProjectPatch, ProjectView } from './types.ts';

const PROJECT_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const MAX_NAME = 200;
const MAX_DESCRIPTION = 2000;

function invalidProject(pointer: string, message: string): ProblemError {
  return new ProblemError(422, 'Invalid project', message, [{ pointer, message }]);
}

function checkName(value: unknown): string {
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > MAX_NAME) {
    throw invalidProject('/name', `The name must be a non-empty string of at most ${MAX_NAME} characters.`);
  }
  return value.trim();
}

function checkDescription(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value !== 'string' || value.length > MAX_DESCRIPTION) throw invalidProject('/description', `The description must be a string of at most ${MAX_DESCRIPTION} characters.`);
  return value;
}

export function checkProjectRole(value: unknown, pointer = '/role'): ProjectRole {
  if (!PROJECT_ROLES.includes(value as ProjectRole)) throw invalidProject(pointer, `The role must be one of ${PROJECT_ROLES.join(', ')}.`);
  return value as ProjectRole;
}

/** 'Marketing Ops!' -> 'marketing-ops'. */
function slug(name: string): string {
  const s = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return s || 'project';
}

const view = (p: ProjectRecord): ProjectView => ({ ...p });

export class Projects {
  constructor(
    private readonly store: IdentityStore,
    private readonly audit: AuditLog,
    private readonly changed: UserChanged,
  ) {}

  async list(): Promise<ProjectView[]> {
    return (await this.store.listProjects()).map(view);
  }

  async get(id: string): Promise<ProjectView | null> {
    const p = await this.store.getProject(id);
    return p ? view(p) : null;
  }

  /** Creates a project; a user creating it becomes its owner. 409 when the id is taken. */
  async create(actor: Actor, input: NewProject): Promise<ProjectView> {
    const name = checkName(input.name);
    const description = checkDescription(input.description);
    if (input.id !== undefined && (typeof input.id !== 'string' || !PROJECT_ID.test(input.id))) {
      throw invalidProject('/id', 'The id must be 1-63 lower-case letters, digits, "-" or "_", starting with a letter or digit.');
    }
    const now = Date.now();
    const base = input.id ?? slug(name);
    // A generated id takes the first free suffix; an explicit id that is taken is a conflict.
    for (let n = 1; ; n++) {
      const id = n === 1 ? base : `${base.slice(0, 58)}-${n}`;
      const record: ProjectRecord = { id, name, description, createdAt: now, updatedAt: now };
      if (await this.store.insertProject(record)) {
        if (actor.kind === 'user') {
          await this.store.setMember({ projectId: id, userId: actor.id, role: 'owner', addedAt: now });
          this.changed(actor.id);
        }
        await this.audit.record(actor, { action: 'project.create', outcome: 'success', target: { type: 'project', id }, projectId: id, detail: { name } });
        return view(record);
      }
      if (input.id !== undefined) throw new ProblemError(409, 'Conflict', `A project with id "${id}" exists.`, [{ pointer: '/id', message: 'taken' }]);
      if (n >= 100) throw new ProblemError(409, 'Conflict', `Too many projects named like "${name}".`);
    }
  }

  async update(actor: Actor, id: string, patch: ProjectPatch): Promise<ProjectView> {
    if (!(await this.store.getProject(id))) throw notFound(`Project "${id}"`);
    const update: Parameters<IdentityStore['updateProject']>[1] = { updatedAt: Date.now() };
    if (patch.name !== undefined) update.name = checkName(patch.name);
    if (patch.description !== undefined) update.description = checkDescription(patch.description);
    await this.store.updateProject(id, update);
    await this.audit.record(actor, { action: 'project.update', outcome: 'success', target: { type: 'project', id }, projectId: id, detail: { ...patch } });
    return (await this.get(id))!;
  }

  /** 409 for 'default' and for a project that still has flows or credentials. */
  async delete(actor: Actor, id: string): Promise<void> {
    if (id === DEFAULT_PROJECT) throw new ProblemError(409, 'Conflict', 'The default project cannot be deleted.');
    const members = await this.store.listMembers(id);
    try {
      if (!(await this.store.deleteProject(id))) throw notFound(`Project "${id}"`);
    } catch (error) {
      if (error instanceof ProjectNotEmptyError) throw new ProblemError(409, 'Conflict', error.message);
      throw error;
    }
    for (const m of members) this.changed(m.userId);
    await this.audit.record(actor, { action: 'project.delete', outcome: 'success', target: { type: 'project', id }, projectId: id });
  }

  async members(projectId: string): Promise<MemberView[]> {
    if (!(await this.store.getProject(projectId))) throw notFound(`Project "${projectId}"`);
    const members = await this.store.listMembers(projectId);
    const out: MemberView[] = [];
    for (const m of members) {
      const user = await this.store.getUser(m.userId);
      if (user) out.push({ projectId, userId: m.userId, username: user.username, name: user.name, role: m.role, addedAt: m.addedAt });
    }
    return out;
  }

  /** Adds a member or changes their role. 404 for an unknown project or user. */
  async setMember(actor: Actor, projectId: string, userId: string, role: ProjectRole): Promise<MemberView> {
    checkProjectRole(role);
    if (!(await this.store.getProject(projectId))) throw notFound(`Project "${projectId}"`);
    const user = await this.store.getUser(userId);
    if (!user) throw notFound(`User "${userId}"`);
    const before = (await this.store.listMemberships(userId)).find((m) => m.projectId === projectId);
    const addedAt = before?.addedAt ?? Date.now();
    await this.store.setMember({ projectId, userId, role, addedAt });
    this.changed(userId);
    await this.audit.record(actor, {
      action: before ? 'project.member.role' : 'project.member.add',
      outcome: 'success',
      target: { type: 'user', id: userId },
      projectId,
      detail: { role, ...(before ? { previous: before.role } : {}) },
    });
    return { projectId, userId, username: user.username, name: user.name, role, addedAt };
  }

  /** 404 when the user is not a member. */
  async removeMember(actor: Actor, projectId: string, userId: string): Promise<void> {
    if (!(await this.store.removeMember(projectId, userId))) throw notFound(`Member "${userId}" of project "${projectId}"`);
    this.changed(userId);
    await this.audit.record(actor, { action: 'project.member.remove', outcome: 'success', target: { type: 'user', id: userId }, projectId });
  }
}
