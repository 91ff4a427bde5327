/** Users and their instance roles: instance admins only (the identity store audits every change). */
import { notFound } from '../errors.ts';
import type { Actor } from '../identity/actor.ts';
import type { Identity } from '../identity/identity.ts';
import type { NewUser, UserPatch, UserView } from '../identity/types.ts';
import type { AuditService } from './audit.ts';

export class UserService {
  constructor(
    private readonly identity: Identity,
    private readonly audit: AuditService,
  ) {}

  async list(actor: Actor): Promise<UserView[]> {
    await this.audit.require(actor, 'user:manage', 'user.list');
    return this.identity.users.list();
  }

  async get(actor: Actor, id: string): Promise<UserView> {
    await this.audit.require(actor, 'user:manage', 'user.read', { type: 'user', id });
    const user = await this.identity.users.get(id);
    if (!user) throw notFound(`User "${id}"`);
    return user;
  }

  async create(actor: Actor, input: NewUser): Promise<UserView> {
    await this.audit.require(actor, 'user:manage', 'user.create');
    return this.identity.users.create(actor, input);
  }

  async update(actor: Actor, id: string, patch: UserPatch): Promise<UserView> {
    await this.audit.require(actor, 'user:manage', 'user.update', { type: 'user', id });
    return this.identity.users.update(actor, id, patch);
  }

  async delete(actor: Actor, id: string): Promise<void> {
    await this.audit.require(actor, 'user:manage', 'user.delete', { type: 'user', id });
    await this.identity.users.delete(actor, id);
  }
}
