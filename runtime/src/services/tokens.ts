/**
 * API tokens of a project, managed by those holding token:manage there (owners, instance admins). A token can never
 * be given a permission its creator does not hold in that project. The secret is returned once, by create.
 */
import { notFound } from '../errors.ts';
import { INSTANCE_ONLY, PERMISSIONS, can, type Actor } from '../identity/actor.ts';
import type { Identity } from '../identity/identity.ts';
import type { CreatedToken, NewToken, TokenView } from '../identity/types.ts';
import { projectFilter, requirePermission } from './access.ts';
import type { AuditService } from './audit.ts';
import type { ProjectService } from './projects.ts';

export class TokenService {
  constructor(
    private readonly identity: Identity,
    private readonly projects: ProjectService,
    private readonly audit: AuditService,
  ) {}

  /** Tokens of the projects where the actor manages tokens (one project with `projectId`). Never a secret. */
  async list(actor: Actor, projectId?: string): Promise<TokenView[]> {
    requirePermission(actor, 'token:manage');
    if (projectId !== undefined) await this.projects.requireWritable(actor, projectId, 'token:manage');
    const manageable = projectFilter(actor, 'token:manage');
    return (await this.identity.tokens.list(projectId !== undefined ? { projectId } : {})).filter((t) => manageable(t.projectId));
  }

  async create(actor: Actor, input: NewToken): Promise<CreatedToken> {
    await this.projects.requireWritable(actor, input.projectId, 'token:manage');
    // Unknown and instance-wide names are the identity store's 422; known ones the actor lacks are a 403.
    const requested = Array.isArray(input.permissions) ? input.permissions : [];
    const beyond = requested.filter((p) => PERMISSIONS.includes(p) && !INSTANCE_ONLY.has(p) && !can(actor, p, input.projectId));
    if (beyond.length > 0) throw await this.audit.denied(actor, 'token.create', `a token cannot hold permissions you do not hold: ${beyond.join(', ')}`, undefined, input.projectId);
    return this.identity.tokens.create(actor, input);
  }

  async revoke(actor: Actor, id: string): Promise<TokenView> {
    const token = await this.identity.tokens.get(id);
    // A token of a project where the actor does not manage tokens is not theirs to see.
    if (!token || !can(actor, 'token:manage', token.projectId)) throw notFound(`Token "${id}"`);
    return this.identity.tokens.revoke(actor, id);
  }
}
