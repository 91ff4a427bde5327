/**
 * Identity: who is calling (authenticate), signing in and out, and the stores of users, projects, API tokens and the
 * audit log. Permission checks are NOT made here: the services take the Actor this returns and call can() themselves.
 * The mechanisms live one per file (passwords, sessions, lock-out, tokens, admin token, users, projects, audit);
 * this class wires them together.
 */
import type { Logger } from '@flowcrew/sdk';
import type { RuntimeConfig } from '../config.ts';
import type { Storage } from '../storage/types.ts';
import type { Actor } from './actor.ts';
import type { AuditLog } from './audit.ts';
import type { Projects } from './projects.ts';
import type { Tokens } from './tokens.ts';
import type { AuthRequest, NewUser, RequestFrom, SignedIn, UserView } from './types.ts';
import type { Users } from './users.ts';

export class Identity {
  /** Users and their instance roles; mutations take the acting Actor and are audited. */
  readonly users!: Users;
  /** Projects and members ('default' always exists). */
  readonly projects!: Projects;
  /** API tokens ('fct_…', hashed at rest, shown once). */
  readonly tokens!: Tokens;
  /** The append-only audit log. */
  readonly audit!: AuditLog;

  private constructor() {}

  /** Opens the identity mechanisms over a migrated storage. */
  static async open(_storage: Storage, _config: RuntimeConfig, _log: Logger): Promise<Identity> {
    throw new Error('Identity.open: not implemented yet');
  }

  /**
   * Who sent this request. `Authorization: Bearer` = FLOWCREW_ADMIN_TOKEN (instance admin, via 'admin-token'), an
   * API token ('fct_…'), or an OIDC JWT (when FLOWCREW_OIDC_ISSUER is set); else the session cookie. null =
   * anonymous. Throws a 401 ProblemError for a presented-but-invalid credential (no detail on why).
   */
  async authenticate(_req: AuthRequest): Promise<Actor | null> {
    throw new Error('not implemented yet');
  }

  /**
   * For unsafe methods (POST, PUT, PATCH, DELETE): true when the actor did not authenticate with the session cookie
   * (bearer requests need no CSRF token), or when `X-CSRF-Token` carries this session's token.
   */
  checkCsrf(_actor: Actor, _req: Pick<AuthRequest, 'headers'>): boolean {
    throw new Error('not implemented yet');
  }

  /** The CSRF token of the session cookie this request carries (for GET /auth/status), or null. */
  csrfTokenFor(_req: Pick<AuthRequest, 'headers'>): string | null {
    throw new Error('not implemented yet');
  }

  /** True until the first user exists: only then does setup() work. */
  async setupRequired(): Promise<boolean> {
    throw new Error('not implemented yet');
  }

  /** Creates the first user as instance admin and owner of the 'default' project, signed in. 409 once a user exists. */
  async setup(_input: NewUser, _from: RequestFrom): Promise<SignedIn> {
    throw new Error('not implemented yet');
  }

  /** Password sign-in. 401 on bad credentials (never which part), 423 when the account is locked, 429 for the IP. */
  async login(_username: string, _password: string, _from: RequestFrom): Promise<SignedIn> {
    throw new Error('not implemented yet');
  }

  /** Ends the actor's session (a no-op for non-session actors). */
  async logout(_actor: Actor): Promise<void> {
    throw new Error('not implemented yet');
  }

  /** The Set-Cookie value that removes the session cookie (for logout responses). */
  clearSessionCookie(_from: RequestFrom): string {
    throw new Error('not implemented yet');
  }

  /**
   * Changes the actor's own password (401 when `current` is wrong, 422 when `next` is too weak); ends the user's
   * other sessions. Returns a fresh session grant when the actor used a session (the old cookie stops working).
   */
  async changePassword(_actor: Actor, _current: string, _next: string, _from: RequestFrom): Promise<SignedIn | null> {
    throw new Error('not implemented yet');
  }

  /** The signed-in user behind an actor (null for tokens, the admin token, the system). */
  async currentUser(_actor: Actor): Promise<UserView | null> {
    throw new Error('not implemented yet');
  }

  /** Stops background timers (session pruning). Storage is closed by its owner. */
  close(): void {}
}
