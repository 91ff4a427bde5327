/**
 * Users: local accounts (argon2id passwords) with an instance role and project roles. Mutations take the acting
 * Actor (for the audit entry, not for a permission check: the services check permissions) and are audited.
 * Disabling a user, or an admin resetting their password, ends their sessions at once.
 */
import { v7 as uuidv7 } from 'uuid';
import { ProblemError, notFound } from '../errors.ts';
import type { IdentityStore, UserRecord, UserUpdate } from '../storage/identity-types.ts';
import { DEFAULT_PROJECT, type Actor, type InstanceRole, type ProjectRole } from './actor.ts';
import type { AuditLog } from './audit.ts';
import { checkPasswordPolicy, hashPassword } from './passwords.ts';
import type { NewUser, UserPatch, UserView } from './types.ts';

const USERNAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;
const INSTANCE_ROLES: readonly InstanceRole[] = ['admin', 'member'];
const MAX_NAME = 200;

/** Called when a user's sign-in state or roles changed, so cached actors of that user are dropped. */
export type UserChanged = (userId: string) => void;

export function normaliseUsername(username: string): string {
  return username.trim().toLowerCase();
}

function invalidUser(pointer: string, message: string): ProblemError {
  return new ProblemError(422, 'Invalid user', message, [{ pointer, message }]);
}

export function checkUsername(value: unknown): string {
  if (typeof value !== 'string') throw invalidUser('/username', 'The username must be a string.');
  const username = normaliseUsername(value);
  if (!USERNAME.test(username)) {
    throw invalidUser('/username', 'The username must be 1-64 characters: letters, digits, ".", "_", "@" or "-", starting with a letter or digit.');
  }
  return username;
}

function checkName(value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > MAX_NAME) {
    throw invalidUser('/name', `The name must be a non-empty string of at most ${MAX_NAME} characters.`);
  }
  return value.trim();
}

function checkRole(value: unknown): InstanceRole {
  if (!INSTANCE_ROLES.includes(value as InstanceRole)) throw invalidUser('/instanceRole', `The instance role must be one of ${INSTANCE_ROLES.join(', ')}.`);
  return value as InstanceRole;
}

export class Users {
  constructor(
    private readonly store: IdentityStore,
    private readonly audit: AuditLog,
    private readonly changed: UserChanged,
  ) {}

  async list(): Promise<UserView[]> {
    const users = await this.store.listUsers();
    return Promise.all(users.map((u) => this.view(u)));
  }

  async get(id: string): Promise<UserView | null> {
    const user = await this.store.getUser(id);
    return user ? this.view(user) : null;
  }

  async findByUsername(username: string): Promise<UserView | null> {
    const user = await this.store.getUserByUsername(normaliseUsername(username));
    return user ? this.view(user) : null;
  }

  /**
   * Creates a user. The very first user, if an admin, also becomes owner of the 'default' project (atomically, so
   * two racing first-admin requests cannot both win). 409 when the username is taken, 422 for bad input.
   */
  async create(actor: Actor, input: NewUser): Promise<UserView> {
    const record = await this.newRecord(input);
    const first = record.instanceRole === 'admin' && (await this.store.countUsers()) === 0 && (await this.store.insertFirstUser(record, DEFAULT_PROJECT));
    if (!first) {
      if (await this.store.getUserByUsername(record.username)) throw this.taken(actor, record.username);
      try {
        await this.store.insertUser(record);
      } catch (error) {
        if (await this.store.getUserByUsername(record.username)) throw this.taken(actor, record.username); // lost a race
        throw error;
      }
    }
    await this.audited(actor, record, first);
    return this.view(record);
  }

  /** The first admin (owner of 'default'), or null when any user exists already (nothing written). */
  async createFirstAdmin(actor: Actor, input: NewUser): Promise<{ view: UserView; record: UserRecord } | null> {
    if ((await this.store.countUsers()) > 0) return null;
    const record = await this.newRecord({ ...input, instanceRole: 'admin' });
    if (!(await this.store.insertFirstUser(record, DEFAULT_PROJECT))) return null;
    await this.audited(actor, record, true);
    return { view: await this.view(record), record };
  }

  private async newRecord(input: NewUser): Promise<UserRecord> {
    const username = checkUsername(input.username);
    const name = checkName(input.name, username);
    const instanceRole = checkRole(input.instanceRole ?? 'member');
    const passwordHash = input.password === undefined ? null : await hashPassword(checkPasswordPolicy(input.password, username));
    const now = Date.now();
    return {
      id: uuidv7(),
      username,
      name,
      passwordHash,
      instanceRole,
      disabled: false,
      failedLogins: 0,
      lastFailedAt: null,
      lockedUntil: null,
      createdAt: now,
      updatedAt: now,
      lastLoginAt: null,
    };
  }

  private async audited(actor: Actor, record: UserRecord, first: boolean): Promise<void> {
    await this.audit.record(actor, {
      action: 'user.create',
      outcome: 'success',
      target: { type: 'user', id: record.id },
      detail: { username: record.username, instanceRole: record.instanceRole, ...(first ? { owner: DEFAULT_PROJECT } : {}) },
    });
  }

  /** 404 for an unknown user; 409 when the change would leave no enabled admin. */
  async update(actor: Actor, id: string, patch: UserPatch): Promise<UserView> {
    const user = await this.store.getUser(id);
    if (!user) throw notFound(`User "${id}"`);
    const update: UserUpdate = { updatedAt: Date.now() };
    const changes: Record<string, unknown> = {};
    if (patch.name !== undefined) update.name = changes.name = checkName(patch.name, user.name);
    if (patch.instanceRole !== undefined) update.instanceRole = changes.instanceRole = checkRole(patch.instanceRole);
    if (patch.disabled !== undefined) {
      if (typeof patch.disabled !== 'boolean') throw invalidUser('/disabled', 'disabled must be true or false.');
      update.disabled = changes.disabled = patch.disabled;
    }
    if (patch.password !== undefined) {
      update.passwordHash = await hashPassword(checkPasswordPolicy(patch.password, user.username));
      update.failedLogins = 0;
      update.lockedUntil = null;
      changes.password = 'reset';
    }
    const losesAdmin = user.instanceRole === 'admin' && !user.disabled && (update.instanceRole === 'member' || update.disabled === true);
    if (losesAdmin) await this.keepAnAdmin(user.id);
    await this.store.updateUser(id, update);
    if (update.disabled === true || update.passwordHash !== undefined) await this.store.deleteUserSessions(id);
    this.changed(id);
    await this.audit.record(actor, { action: 'user.update', outcome: 'success', target: { type: 'user', id }, detail: changes });
    return (await this.get(id))!;
  }

  /** Deletes the user with their sessions, tokens and memberships. 404 unknown; 409 for the last enabled admin. */
  async delete(actor: Actor, id: string): Promise<void> {
    const user = await this.store.getUser(id);
    if (!user) throw notFound(`User "${id}"`);
    if (user.instanceRole === 'admin' && !user.disabled) await this.keepAnAdmin(id);
    await this.store.deleteUser(id);
    this.changed(id);
    await this.audit.record(actor, { action: 'user.delete', outcome: 'success', target: { type: 'user', id }, detail: { username: user.username } });
  }

  /** The public view: never the password hash or lock-out counters. */
  async view(user: UserRecord): Promise<UserView> {
    const projects: Record<string, ProjectRole> = {};
    for (const m of await this.store.listMemberships(user.id)) projects[m.projectId] = m.role;
    return {
      id: user.id,
      username: user.username,
      name: user.name,
      instanceRole: user.instanceRole,
      disabled: user.disabled,
      projects,
      createdAt: user.createdAt,
      updatedAt: user.updatedAt,
      lastLoginAt: user.lastLoginAt,
    };
  }

  private async keepAnAdmin(leaving: string): Promise<void> {
    const others = (await this.store.listUsers()).filter((u) => u.id !== leaving && u.instanceRole === 'admin' && !u.disabled);
    if (others.length === 0) throw new ProblemError(409, 'Conflict', 'This is the last enabled admin: make another user admin first.');
  }

  private taken(actor: Actor, username: string): ProblemError {
    void this.audit.record(actor, { action: 'user.create', outcome: 'failure', detail: { username, reason: 'username taken' } });
    return new ProblemError(409, 'Conflict', `The username "${username}" is taken.`, [{ pointer: '/username', message: 'taken' }]);
  }
}
