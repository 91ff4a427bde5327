/**
 * Identity: who is calling (authenticate), signing in and out, and the stores of users, projects, API tokens and the
 * audit log. Permission checks are NOT made here: the services take the Actor this returns and call can() themselves.
 * The mechanisms live one per file (passwords, sessions, lock-out, tokens, admin token, authenticator, users,
 * projects, audit); this class wires them together and runs the sign-in flows.
 */
import type { Logger } from '@flowcrew/sdk';
import type { RuntimeConfig } from '../config.ts';
import { ProblemError } from '../errors.ts';
import type { IdentityStore, UserRecord } from '../storage/identity-types.ts';
import type { Storage } from '../storage/types.ts';
import { SYSTEM_ACTOR, type Actor } from './actor.ts';
import { AuditLog } from './audit.ts';
import { Authenticator } from './authenticator.ts';
import { Lockout } from './lockout.ts';
import { burnVerifyTime, checkPasswordPolicy, hashPassword, needsRehash, verifyPassword } from './passwords.ts';
import { Projects } from './projects.ts';
import { CSRF_HEADER, Sessions, csrfTokenOf, hashSessionSecret, safeEqual } from './sessions.ts';
import { Tokens } from './tokens.ts';
import type { AuthRequest, NewUser, RequestFrom, SignedIn, UserView } from './types.ts';
import { Users, normaliseUsername } from './users.ts';

const PRUNE_EVERY_MS = 3_600_000;
/** Usernames longer than this cannot exist (see checkUsername): not worth a lookup. */
const MAX_USERNAME_INPUT = 256;

const badCredentials = () => new ProblemError(401, 'Unauthorized', 'Invalid username or password.');
const retryAfter = (until: number) => Math.max(1, Math.ceil((until - Date.now()) / 1000));

export class Identity {
  /** Users and their instance roles; mutations take the acting Actor and are audited. */
  readonly users: Users;
  /** Projects and members ('default' always exists). */
  readonly projects: Projects;
  /** API tokens ('fct_…', hashed at rest, shown once). */
  readonly tokens: Tokens;
  /** The append-only audit log. */
  readonly audit: AuditLog;

  private readonly sessions: Sessions;
  private readonly lockout: Lockout;
  private readonly authenticator: Authenticator;
  private readonly pruneTimer: NodeJS.Timeout;

  private constructor(
    private readonly store: IdentityStore,
    config: RuntimeConfig,
    private readonly log: Logger,
  ) {
    this.audit = new AuditLog(store);
    const forgetUser = (id: string) => this.authenticator.forgetUser(id);
    this.users = new Users(store, this.audit, forgetUser);
    this.projects = new Projects(store, this.audit, forgetUser);
    this.tokens = new Tokens(store, this.audit, config.auth.tokenTtlMs, (id) => this.authenticator.forgetToken(id));
    this.sessions = new Sessions(store, config.auth);
    this.lockout = new Lockout(store, config.auth);
    this.authenticator = new Authenticator(store, config, this.sessions, this.tokens, this.audit, log);
    const prune = () => void store.pruneSessions(Date.now()).catch((e: unknown) => log.warn(`session pruning failed: ${(e as Error).message}`));
    this.pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  /** Opens the identity mechanisms over a migrated storage. */
  static async open(storage: Storage, config: RuntimeConfig, log: Logger): Promise<Identity> {
    const identity = new Identity(storage.identity, config, log);
    await storage.identity.pruneSessions(Date.now());
    if (config.auth.adminToken) log.info('FLOWCREW_ADMIN_TOKEN is set: it is accepted as an instance-admin bearer token (each use is audited).');
    return identity;
  }

  /**
   * Who sent this request. `Authorization: Bearer` = FLOWCREW_ADMIN_TOKEN (instance admin, via 'admin-token'), an
   * API token ('fct_…'), or an OIDC JWT (when FLOWCREW_OIDC_ISSUER is set); else the session cookie. null =
   * anonymous (no credential, or a stale/forged session cookie, which is audited). Throws a 401 ProblemError for a
   * presented-but-invalid bearer credential (no detail on why; 403 for an OIDC user without any Flowcrew role).
   */
  authenticate(req: AuthRequest): Promise<Actor | null> {
    return this.authenticator.authenticate(req);
  }

  /**
   * For unsafe methods (POST, PUT, PATCH, DELETE): true when the actor did not authenticate with the session cookie
   * (bearer requests need no CSRF token), or when `X-CSRF-Token` carries this session's token.
   */
  checkCsrf(actor: Actor, req: Pick<AuthRequest, 'headers'>): boolean {
    const sessionHash = this.authenticator.sessionOf.get(actor);
    if (sessionHash === undefined) return actor.via !== 'session';
    const secret = this.sessions.secretFrom(req.headers);
    const header = req.headers[CSRF_HEADER];
    const ok = secret !== null && typeof header === 'string' && hashSessionSecret(secret) === sessionHash && safeEqual(header, csrfTokenOf(secret));
    if (!ok) {
      // The refusal itself is the caller's (403); the attempt goes to the audit log without delaying it.
      void this.audit
        .record(actor, { action: 'auth.csrf', outcome: 'denied', detail: { reason: typeof header === 'string' ? 'wrong CSRF token' : 'missing CSRF token' } })
        .catch((e: unknown) => this.log.warn(`audit write failed: ${(e as Error).message}`));
    }
    return ok;
  }

  /** The CSRF token of the session cookie this request carries (for GET /auth/status), or null. */
  csrfTokenFor(req: Pick<AuthRequest, 'headers'>): string | null {
    const secret = this.sessions.secretFrom(req.headers);
    return secret ? csrfTokenOf(secret) : null;
  }

  /** True until the first user exists: only then does setup() work. */
  async setupRequired(): Promise<boolean> {
    return (await this.store.countUsers()) === 0;
  }

  /** Creates the first user as instance admin and owner of the 'default' project, signed in. 409 once a user exists. */
  async setup(input: NewUser, from: RequestFrom): Promise<SignedIn> {
    const actor: Actor = { ...SYSTEM_ACTOR, via: 'setup', ...(from.ip ? { from: from.ip } : {}) };
    const created = await this.users.createFirstAdmin(actor, input);
    if (!created) {
      await this.audit.record(actor, { action: 'auth.setup', outcome: 'failure', ip: from.ip, detail: { reason: 'already set up' } });
      throw new ProblemError(409, 'Conflict', 'Flowcrew is already set up: sign in instead.');
    }
    const session = await this.sessions.create(created.record.id, from);
    const userActor = await this.authenticator.userActor(created.record, 'session');
    await this.audit.record(userActor, { action: 'auth.setup', outcome: 'success', ip: from.ip, target: { type: 'user', id: created.record.id } });
    return { user: created.view, session: { cookie: session.cookie, csrfToken: session.csrfToken, expiresAt: session.expiresAt } };
  }

  /** Password sign-in. 401 on bad credentials (never which part), 423 when the account is locked, 429 for the IP. */
  async login(username: string, password: string, from: RequestFrom): Promise<SignedIn> {
    if (typeof username !== 'string' || typeof password !== 'string') {
      throw new ProblemError(422, 'Invalid sign-in', 'username and password must be strings.', [
        ...(typeof username !== 'string' ? [{ pointer: '/username', message: 'must be a string' }] : []),
        ...(typeof password !== 'string' ? [{ pointer: '/password', message: 'must be a string' }] : []),
      ]);
    }
    const name = normaliseUsername(username).slice(0, MAX_USERNAME_INPUT);
    const who = { kind: 'anonymous' as const, name };
    const ipLocked = this.lockout.ipLockedUntil(from.ip);
    if (ipLocked) {
      await this.audit.record(who, { action: 'auth.login', outcome: 'denied', ip: from.ip, detail: { reason: 'IP locked out' } });
      throw new ProblemError(429, 'Too Many Requests', 'Too many failed sign-ins from this address: try again later.', [], { retryAfter: retryAfter(ipLocked) });
    }
    const user = name.length > 0 ? await this.store.getUserByUsername(name) : null;
    const accountLocked = this.lockout.accountLockedUntil(name, user);
    if (accountLocked) {
      await this.audit.record(who, { action: 'auth.login', outcome: 'denied', ip: from.ip, target: user ? { type: 'user', id: user.id } : undefined, detail: { reason: 'account locked' } });
      throw new ProblemError(423, 'Locked', 'Too many failed sign-ins for this account: try again later.', [], { retryAfter: retryAfter(accountLocked) });
    }
    // Unknown users, OIDC-only users and disabled users cost the same time as a wrong password.
    let ok = false;
    if (user?.passwordHash) ok = await verifyPassword(user.passwordHash, password);
    else await burnVerifyTime(password);
    if (!ok || !user || user.disabled) {
      await this.failedLogin(name, user, from, !user ? 'unknown user' : user.disabled ? 'user disabled' : !user.passwordHash ? 'no local password' : 'wrong password');
      throw badCredentials();
    }
    await this.lockout.noteSuccess(user);
    const rehash = needsRehash(user.passwordHash!) ? await hashPassword(password) : undefined;
    const now = Date.now();
    await this.store.updateUser(user.id, { lastLoginAt: now, ...(rehash ? { passwordHash: rehash } : {}) });
    const session = await this.sessions.create(user.id, from, now);
    const actor = await this.authenticator.userActor(user, 'session');
    await this.audit.record(actor, { action: 'auth.login', outcome: 'success', ip: from.ip });
    return { user: await this.users.view({ ...user, lastLoginAt: now }), session: { cookie: session.cookie, csrfToken: session.csrfToken, expiresAt: session.expiresAt } };
  }

  private async failedLogin(name: string, user: UserRecord | null, from: RequestFrom, reason: string): Promise<void> {
    const who = { kind: 'anonymous' as const, name };
    const target = user ? { type: 'user', id: user.id } : undefined;
    const locks = await this.lockout.noteFailure(name, user, from.ip);
    await this.audit.record(who, { action: 'auth.login', outcome: 'failure', ip: from.ip, target, detail: { reason } });
    if (locks.account) {
      await this.audit.record(who, { action: 'auth.lockout', outcome: 'success', ip: from.ip, target, detail: { scope: 'account', until: locks.account } });
      this.log.warn(`sign-in: account "${name}" locked after repeated failures`);
    }
    if (locks.ip) {
      await this.audit.record(who, { action: 'auth.lockout', outcome: 'success', ip: from.ip, detail: { scope: 'ip', until: locks.ip } });
      this.log.warn(`sign-in: address ${from.ip} locked out after repeated failures`);
    }
  }

  /** Ends the actor's session (a no-op for non-session actors). */
  async logout(actor: Actor): Promise<void> {
    const idHash = this.authenticator.sessionOf.get(actor);
    if (idHash === undefined) return;
    await this.sessions.end(idHash);
    this.authenticator.forgetSession(idHash);
    await this.audit.record(actor, { action: 'auth.logout', outcome: 'success' });
  }

  /** The Set-Cookie value that removes the session cookie (for logout responses). */
  clearSessionCookie(from: RequestFrom): string {
    return this.sessions.clearCookie(from);
  }

  /**
   * Changes the actor's own password (401 when `current` is wrong, 422 when `next` is too weak, 403 for an actor that
   * is not a local user); ends the user's other sessions. Returns a fresh session grant when the actor used a session
   * (the old cookie stops working), else null.
   */
  async changePassword(actor: Actor, current: string, next: string, from: RequestFrom): Promise<SignedIn | null> {
    const user = actor.kind === 'user' ? await this.store.getUser(actor.id) : null;
    if (!user || !user.passwordHash) throw new ProblemError(403, 'Forbidden', 'Only a user with a local password can change it here.');
    if (typeof current !== 'string' || !(await verifyPassword(user.passwordHash, current))) {
      await this.audit.record(actor, { action: 'user.password', outcome: 'failure', target: { type: 'user', id: user.id }, detail: { reason: 'wrong current password' } });
      throw new ProblemError(401, 'Unauthorized', 'The current password is not correct.');
    }
    const passwordHash = await hashPassword(checkPasswordPolicy(next, user.username, '/newPassword'));
    await this.store.updateUser(user.id, { passwordHash, updatedAt: Date.now() });
    await this.sessions.endAllFor(user.id);
    this.authenticator.forgetUser(user.id);
    await this.audit.record(actor, { action: 'user.password', outcome: 'success', target: { type: 'user', id: user.id } });
    if (!this.authenticator.sessionOf.has(actor)) return null;
    const session = await this.sessions.create(user.id, from);
    return { user: (await this.users.get(user.id))!, session: { cookie: session.cookie, csrfToken: session.csrfToken, expiresAt: session.expiresAt } };
  }

  /** The signed-in user behind an actor (null for tokens, the admin token, OIDC actors without a local user, the system). */
  async currentUser(actor: Actor): Promise<UserView | null> {
    return actor.kind === 'user' ? this.users.get(actor.id) : null;
  }

  /** Stops background timers (session pruning). Storage is closed by its owner. */
  close(): void {
    clearInterval(this.pruneTimer);
  }
}
