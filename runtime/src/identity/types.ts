/**
 * The views and inputs of the identity mechanisms (users, sessions, projects, API tokens, audit): what the services
 * and routes exchange with `Identity`. Secrets never appear in a view: password hashes, session ids and token hashes
 * stay in storage records (storage/identity-types.ts).
 */
import type { InstanceRole, Permission, ProjectRole } from './actor.ts';

/** Where a request came from: for the audit log, lock-out per IP, and the cookie's Secure flag. */
export interface RequestFrom {
  ip?: string;
  userAgent?: string;
  /** The request arrived over https (directly or via a trusted proxy): the session cookie gets `Secure`. */
  secure?: boolean;
}

/** The minimal request shape authentication needs (an Express request, a Socket.IO handshake, a bench). */
export interface AuthRequest {
  headers: import('node:http').IncomingHttpHeaders;
  ip?: string;
  method: string;
}

export interface UserView {
  id: string;
  username: string;
  name: string;
  instanceRole: InstanceRole;
  disabled: boolean;
  /** Role per project id. */
  projects: Record<string, ProjectRole>;
  createdAt: number;
  updatedAt: number;
  lastLoginAt: number | null;
}

export interface NewUser {
  username: string;
  /** Omitted for users who only sign in through OIDC. */
  password?: string;
  name?: string;
  instanceRole?: InstanceRole;
}

export interface UserPatch {
  name?: string;
  instanceRole?: InstanceRole;
  /** Disabling a user ends their sessions and stops their API tokens. */
  disabled?: boolean;
  /** An admin resetting someone's password: ends that user's sessions. */
  password?: string;
}

/** What a successful sign-in hands to the route: the Set-Cookie value and the CSRF token for unsafe requests. */
export interface SessionGrant {
  /** A complete Set-Cookie header value. */
  cookie: string;
  csrfToken: string;
  expiresAt: number;
}

export interface SignedIn {
  user: UserView;
  session: SessionGrant;
}

export interface ProjectView {
  id: string;
  name: string;
  description: string;
  createdAt: number;
  updatedAt: number;
}

export interface NewProject {
  /** Lower-case letters, digits, '-' and '_' (it appears in URLs); generated from the name when omitted. */
  id?: string;
  name: string;
  description?: string;
}

export interface ProjectPatch {
  name?: string;
  description?: string;
}

export interface MemberView {
  projectId: string;
  userId: string;
  username: string;
  name: string;
  role: ProjectRole;
  addedAt: number;
}

export interface TokenView {
  id: string;
  name: string;
  /** The first characters of the secret ('fct_ab12cd34'), to recognise a token in a list; not enough to use it. */
  prefix: string;
  projectId: string;
  permissions: Permission[];
  /** User id of the creator; the token never does more than its creator may in its project. */
  createdBy: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export interface NewToken {
  name: string;
  projectId: string;
  permissions: Permission[];
  /** Epoch ms; null = never expires. Default: config.tokenDefaultTtlDays from now. */
  expiresAt?: number | null;
}

/** The token's secret appears here once, at creation, and is never retrievable again. */
export interface CreatedToken {
  token: TokenView;
  secret: string;
}

export type AuditOutcome = 'success' | 'failure' | 'denied';

/** What happened, recorded by whoever did it (the actor comes separately). */
export interface AuditEvent {
  /** Dotted verb, e.g. 'auth.login', 'user.create', 'token.revoke', 'flow.deploy'. */
  action: string;
  outcome: AuditOutcome;
  target?: { type: string; id: string };
  projectId?: string;
  /** Small, non-secret context (never passwords, tokens or credential values). */
  detail?: Record<string, unknown>;
  /** Overrides actor.from (e.g. a failed sign-in has no actor yet). */
  ip?: string;
}

export interface AuditEntry {
  id: string;
  at: number;
  actor: { kind: string; id: string; name: string; via: string };
  action: string;
  outcome: AuditOutcome;
  targetType: string | null;
  targetId: string | null;
  projectId: string | null;
  ip: string | null;
  detail: Record<string, unknown> | null;
}

export interface AuditQuery {
  actorId?: string;
  /** Exact action, or a prefix ending in '.' ('auth.' = every sign-in event). */
  action?: string;
  outcome?: AuditOutcome;
  targetType?: string;
  targetId?: string;
  projectId?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  /** Page size, 1..1000 (default 100). */
  limit?: number;
  /** Cursor: the `next` of the previous page. */
  before?: string;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Cursor for the next (older) page, or null at the end. */
  next: string | null;
}

export type AuditExportFormat = 'jsonl' | 'csv';
