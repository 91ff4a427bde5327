/**
 * The identity part of the storage interface: users, sessions, API tokens, projects and members, the audit log.
 * Reached as `storage.identity`; the SQL lives in identity-sql.ts (both dialects). Secrets are stored as hashes only.
 */
import type { InstanceRole, ProjectRole } from '../identity/actor.ts';

export interface UserRecord {
  id: string;
  /** Stored lower-case; unique. */
  username: string;
  name: string;
  /** argon2id PHC string; null for users who only sign in through OIDC. */
  passwordHash: string | null;
  instanceRole: InstanceRole;
  disabled: boolean;
  /** Failed sign-ins since the last success (within the lock-out window). */
  failedLogins: number;
  lastFailedAt: number | null;
  lockedUntil: number | null;
  createdAt: number;
  updatedAt: number;
  lastLoginAt: number | null;
}

export type UserUpdate = Partial<Pick<UserRecord, 'name' | 'passwordHash' | 'instanceRole' | 'disabled' | 'lockedUntil' | 'lastLoginAt' | 'failedLogins' | 'lastFailedAt' | 'updatedAt'>>;

export interface SessionRecord {
  /** SHA-256 (hex) of the session secret in the cookie. */
  idHash: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
  lastSeenAt: number;
  ip: string | null;
  userAgent: string | null;
}

export interface TokenRecord {
  id: string;
  name: string;
  /** SHA-256 (hex) of the whole secret; unique. */
  hash: string;
  prefix: string;
  projectId: string;
  /** JSON array of permission names. */
  permissions: string[];
  createdBy: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export interface TokenFilter {
  projectId?: string;
  createdBy?: string;
}

export interface ProjectRecord {
  id: string;
  name: string;
  description: string;
  createdAt: number;
  updatedAt: number;
}

export interface MemberRecord {
  projectId: string;
  userId: string;
  role: ProjectRole;
  addedAt: number;
}

export interface AuditRecord {
  /** Time-ordered (UUIDv7), so id order is insertion order within a millisecond too. */
  id: string;
  at: number;
  actorKind: string;
  actorId: string;
  actorName: string;
  via: string;
  action: string;
  outcome: string;
  targetType: string | null;
  targetId: string | null;
  projectId: string | null;
  ip: string | null;
  /** JSON text. */
  detail: string | null;
}

export interface AuditFilter {
  actorId?: string;
  action?: string;
  /** Match actions starting with this (e.g. 'auth.'). */
  actionPrefix?: string;
  outcome?: string;
  targetType?: string;
  targetId?: string;
  projectId?: string;
  since?: number;
  until?: number;
  /** Entries strictly older than this entry id (keyset pagination); an unknown id yields nothing. */
  before?: string;
  limit: number;
}

/** Why a project could not be deleted: it still owns resources. */
export class ProjectNotEmptyError extends Error {
  constructor(
    readonly projectId: string,
    readonly counts: { flows: number; credentials: number },
  ) {
    super(`Project "${projectId}" still has ${counts.flows} flow(s) and ${counts.credentials} credential(s): move or delete them first.`);
    this.name = 'ProjectNotEmptyError';
  }
}

export interface IdentityStore {
  // Users
  countUsers(): Promise<number>;
  listUsers(): Promise<UserRecord[]>;
  getUser(id: string): Promise<UserRecord | null>;
  getUserByUsername(username: string): Promise<UserRecord | null>;
  /** Fails with a UniqueViolation-style error (message contains "username") when the name is taken. */
  insertUser(user: UserRecord): Promise<void>;
  /**
   * The first user: inserted only if no user exists yet, together with its owner membership of `projectId`, in one
   * transaction. Returns false when a user already existed (nothing written).
   */
  insertFirstUser(user: UserRecord, projectId: string): Promise<boolean>;
  updateUser(id: string, update: UserUpdate): Promise<boolean>;
  /** Deletes the user with their sessions, tokens and memberships, in one transaction. */
  deleteUser(id: string): Promise<boolean>;
  /**
   * Counts one failed sign-in atomically: failures older than `windowStart` are forgotten; reaching `max` sets
   * lockedUntil. Returns the new count and lock (null when the user does not exist).
   */
  noteLoginFailure(id: string, at: number, windowStart: number, max: number, lockUntil: number): Promise<{ failedLogins: number; lockedUntil: number | null } | null>;

  // Sessions
  insertSession(session: SessionRecord): Promise<void>;
  getSession(idHash: string): Promise<SessionRecord | null>;
  touchSession(idHash: string, at: number): Promise<void>;
  deleteSession(idHash: string): Promise<boolean>;
  /** Ends every session of a user (password change, disabling), except optionally one. Returns how many. */
  deleteUserSessions(userId: string, exceptIdHash?: string): Promise<number>;
  /** Deletes expired sessions. Returns how many. */
  pruneSessions(now: number): Promise<number>;

  // API tokens
  insertToken(token: TokenRecord): Promise<void>;
  getToken(id: string): Promise<TokenRecord | null>;
  getTokenByHash(hash: string): Promise<TokenRecord | null>;
  listTokens(filter: TokenFilter): Promise<TokenRecord[]>;
  /** Sets revokedAt once (a second revoke keeps the first time). Returns false when no such token. */
  revokeToken(id: string, at: number): Promise<boolean>;
  touchToken(id: string, at: number): Promise<void>;

  // Projects and members
  listProjects(): Promise<ProjectRecord[]>;
  getProject(id: string): Promise<ProjectRecord | null>;
  /** Returns false when the id is taken. */
  insertProject(project: ProjectRecord): Promise<boolean>;
  updateProject(id: string, update: Partial<Pick<ProjectRecord, 'name' | 'description' | 'updatedAt'>>): Promise<boolean>;
  /** Refuses (ProjectNotEmptyError) while flows or credentials belong to it; removes members and tokens with it. */
  deleteProject(id: string): Promise<boolean>;
  listMembers(projectId: string): Promise<MemberRecord[]>;
  /** Every project role of one user. */
  listMemberships(userId: string): Promise<MemberRecord[]>;
  /** Insert or change a member's role. */
  setMember(member: MemberRecord): Promise<void>;
  removeMember(projectId: string, userId: string): Promise<boolean>;

  // Audit log (append-only: there is no update or delete)
  appendAudit(records: readonly AuditRecord[]): Promise<void>;
  queryAudit(filter: AuditFilter): Promise<AuditRecord[]>;
}
