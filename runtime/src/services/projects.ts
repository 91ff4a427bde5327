/**
 * Projects and their members, as an actor may see and manage them. A project is visible to its members and to
 * instance admins; to anyone else it does not exist (404). Owners manage members; only instance admins create and
 * delete projects. The identity stores audit every change.
 */
import { notFound } from '../errors.ts';
import { can, type Actor, type Permission, type ProjectRole } from '../identity/actor.ts';
import type { Identity } from '../identity/identity.ts';
import type { MemberView, NewProject, ProjectPatch, ProjectView } from '../identity/types.ts';
import { forbidden } from './access.ts';
import type { AuditService } from './audit.ts';

export interface ProjectListing extends ProjectView {
  /** The actor's role in it (absent for an instance admin who is not a member). */
  role?: ProjectRole;
}

const hidden = (id: string) => notFound(`Project "${id}"`);

export class ProjectService {
  constructor(
    private readonly identity: Identity,
    private readonly audit: AuditService,
  ) {}

  private isVisible(actor: Actor, id: string): boolean {
    return actor.instanceRole === 'admin' || actor.projects[id] !== undefined;
  }

  /** The project, if it exists and the actor may see it. */
  private async visible(actor: Actor, id: string): Promise<ProjectView> {
    const project = this.isVisible(actor, id) ? await this.identity.projects.get(id) : null;
    if (!project) throw hidden(id);
    return project;
  }

  /**
   * For creating something in a project: it must exist and be visible (else 404), and the actor must hold
   * `permission` there (else 403).
   */
  async requireWritable(actor: Actor, projectId: string, permission: Permission): Promise<void> {
    const exists = async () => (await this.identity.projects.get(projectId)) !== null;
    if (can(actor, permission, projectId)) {
      if (!(await exists())) throw hidden(projectId);
      return;
    }
    if (this.isVisible(actor, projectId) && (await exists())) throw forbidden(`this needs the ${permission} permission in project "${projectId}"`);
    throw hidden(projectId);
  }

  /** Every project the actor is a member of (all of them for instance admins), with the actor's role. */
  async list(actor: Actor): Promise<ProjectListing[]> {
    const all = await this.identity.projects.list();
    return all.filter((p) => this.isVisible(actor, p.id)).map((p) => ({ ...p, ...(actor.projects[p.id] ? { role: actor.projects[p.id] } : {}) }));
  }

  async get(actor: Actor, id: string): Promise<ProjectListing> {
    const project = await this.visible(actor, id);
    return { ...project, ...(actor.projects[id] ? { role: actor.projects[id] } : {}) };
  }

  async create(actor: Actor, input: NewProject): Promise<ProjectView> {
    await this.audit.require(actor, 'project:create', 'project.create');
    return this.identity.projects.create(actor, input);
  }

  async update(actor: Actor, id: string, patch: ProjectPatch): Promise<ProjectView> {
    await this.visible(actor, id);
    await this.audit.require(actor, 'project:manage', 'project.update', { type: 'project', id }, id);
    return this.identity.projects.update(actor, id, patch);
  }

  async delete(actor: Actor, id: string): Promise<void> {
    await this.visible(actor, id);
    await this.audit.require(actor, 'project:create', 'project.delete', { type: 'project', id });
    await this.identity.projects.delete(actor, id);
  }

  async members(actor: Actor, id: string): Promise<MemberView[]> {
    await this.visible(actor, id);
    if (!can(actor, 'project:manage', id)) throw forbidden(`this needs the project:manage permission in project "${id}"`);
    return this.identity.projects.members(id);
  }

  async setMember(actor: Actor, id: string, userId: string, role: ProjectRole): Promise<MemberView> {
    await this.visible(actor, id);
    await this.audit.require(actor, 'project:manage', 'project.member.set', { type: 'user', id: userId }, id);
    return this.identity.projects.setMember(actor, id, userId, role);
  }

  async removeMember(actor: Actor, id: string, userId: string): Promise<void> {
    await this.visible(actor, id);
    await this.audit.require(actor, 'project:manage', 'project.member.remove', { type: 'user', id: userId }, id);
    await this.identity.projects.removeMember(actor, id, userId);
  }
}
