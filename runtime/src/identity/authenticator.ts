/**
 * Request → Actor. A bearer credential is the admin token, an API token or (when OIDC is configured) a JWT; without
 * one, the session cookie. A presented-but-invalid bearer credential is a 401 (the body never says why; the audit
 * log does). A stale or forged session cookie is treated as no session (anonymous), so public routes such as the
 * sign-in page keep working for a browser holding an old cookie; protected routes then answer 401 for lack of an actor.
 *
 * Resolved actors are cached for a few seconds (keyed by the credential's hash), so the per-request cost is a hash
 * and a map lookup instead of database reads. Everything that changes what an actor may do (logout, password change,
 * roles, membership, token revocation) drops the affected entries at once in this process; another process sharing
 * the database sees the change within AUTH_CACHE_MS.
 */
import type { Logger } from '@flowcrew/sdk';
import { decodeJwt } from 'jose';
import { LRUCache } from 'lru-cache';
import type { RuntimeConfig } from '../config.ts';
import { ProblemError } from '../errors.ts';
import type { IdentityStore, TokenRecord, UserRecord } from '../storage/identity-types.ts';
import type { Actor, Permission, ProjectRole } from './actor.ts';
import { ADMIN_TOKEN_ACTOR_ID, AdminToken, digest } from './admin-token.ts';
import type { AuditLog } from './audit.ts';
import type { OidcVerifier } from './oidc.ts';
import { hashSessionSecret, type Sessions } from './sessions.ts';
import { looksLikeToken, type Tokens } from './tokens.ts';
import type { AuthRequest } from './types.ts';

/** How long a resolved actor is reused (and the longest another process may act on a revoked credential). */
export const AUTH_CACHE_MS = 5_000;
const CACHE_MAX = 10_000;
/**
 * Refused credentials are audited once per (reason, IP, credential) per minute, and at most REFUSALS_PER_IP times per
 * (reason, IP) per minute: evidence of an attack without letting it flood the log (the rate limiter caps the rest).
 */
const REFUSAL_AUDIT_EVERY_MS = 60_000;
const REFUSALS_PER_IP = 20;

interface CacheEntry {
  /** The actor without `from`. */
  actor: Actor;
  /** The same actor with the address of the last request, frozen and reused while requests come from there. */
  last?: Actor;
  /** Users whose change must drop this entry (the session's user, a token's creator). */
  userId: string | null;
  tokenId: string | null;
  /** Session id hash (for logout and CSRF). */
  sessionHash: string | null;
}

const unauthorized = () => new ProblemError(401, 'Unauthorized', 'The credentials are not valid.');

/** Session actors → the hash of their session id (actors are per-request objects, so a WeakMap cleans itself). */
export type SessionOf = WeakMap<Actor, string>;

export class Authenticator {
  readonly sessionOf: SessionOf = new WeakMap();
  private readonly cache = new LRUCache<string, CacheEntry>({ max: CACHE_MAX, ttl: AUTH_CACHE_MS });
  private readonly refusals = new LRUCache<string, true>({ max: CACHE_MAX, ttl: REFUSAL_AUDIT_EVERY_MS });
  private readonly refusalsPerIp = new LRUCache<string, number>({ max: CACHE_MAX, ttl: REFUSAL_AUDIT_EVERY_MS });
  private readonly admin: AdminToken;
  private oidc: Promise<OidcVerifier> | null = null;

  constructor(
    private readonly store: IdentityStore,
    private readonly config: RuntimeConfig,
    private readonly sessions: Sessions,
    private readonly tokens: Tokens,
    private readonly audit: AuditLog,
    private readonly log: Logger,
  ) {
    this.admin = new AdminToken(config.auth.adminToken);
  }

  async authenticate(req: AuthRequest): Promise<Actor | null> {
    const ip = req.ip;
    const authorization = req.headers.authorization;
    if (authorization !== undefined) {
      const match = /^Bearer +([^\s]+) *$/i.exec(authorization);
      if (!match) return this.refuse('malformed authorization header', ip, 'header');
      return this.bearer(match[1]!, ip);
    }
    const secret = this.sessions.secretFrom(req.headers);
    return secret ? this.session(secret, ip) : null;
  }

  /** Drop cached actors of a user (and of the tokens they created). */
  forgetUser(userId: string): void {
    for (const [key, entry] of this.cache.entries()) if (entry.userId === userId) this.cache.delete(key);
  }

  forgetToken(tokenId: string): void {
    for (const [key, entry] of this.cache.entries()) if (entry.tokenId === tokenId) this.cache.delete(key);
  }

  forgetSession(idHash: string): void {
    this.cache.delete(`s:${idHash}`);
  }

  private async bearer(credential: string, ip: string | undefined): Promise<Actor> {
    // One hash per credential: compared with the admin token's, and the cache key.
    const hash = digest(credential);
    if (this.admin.enabled && this.admin.matchesDigest(hash)) {
      if (this.admin.shouldAudit()) {
        await this.audit.record(this.admin.actor(ip), { action: 'auth.admin-token', outcome: 'success', detail: { note: 'audited at most once per minute' } });
      }
      return this.adminActor(ip);
    }
    const key = `b:${hash.toString('base64')}`;
    const cached = this.cache.get(key);
    if (cached) return actorFrom(cached, ip);
    if (looksLikeToken(credential)) return this.apiToken(credential, key, ip);
    if (this.config.oidc) return this.jwt(credential, key, ip);
    return this.refuse('unknown bearer credential', ip, key);
  }

  private async apiToken(secret: string, key: string, ip: string | undefined): Promise<Actor> {
    const token = await this.tokens.resolve(secret);
    if (typeof token === 'string') return this.refuse(`API token ${token}`, ip, key, { prefix: secret.slice(0, 10) });
    const creator = await this.creatorRole(token);
    if (creator === 'refused') return this.refuse('API token owner disabled or deleted', ip, key, { tokenId: token.id });
    const actor: Actor = {
      kind: 'token',
      id: token.id,
      name: token.name,
      instanceRole: 'member', // a token is scoped to its project, whatever its creator is elsewhere
      projects: creator ? { [token.projectId]: creator } : {},
      scopes: new Set(token.permissions as Permission[]),
      via: 'token',
    };
    const ttl = token.expiresAt === null ? AUTH_CACHE_MS : Math.min(AUTH_CACHE_MS, token.expiresAt - Date.now());
    if (ttl > 0) this.cache.set(key, { actor, userId: isUserId(token.createdBy) ? token.createdBy : null, tokenId: token.id, sessionHash: null }, { ttl });
    this.tokens.noteUse(token);
    return withFrom(actor, ip);
  }

  /** The token creator's role in the token's project (admins: owner), null for none, 'refused' if the creator is gone. */
  private async creatorRole(token: TokenRecord): Promise<ProjectRole | null | 'refused'> {
    if (!isUserId(token.createdBy)) return 'owner'; // made by the admin token or the system: instance-admin actors
    const user = await this.store.getUser(token.createdBy);
    if (!user || user.disabled) return 'refused';
    if (user.instanceRole === 'admin') return 'owner';
    return (await this.store.listMemberships(user.id)).find((m) => m.projectId === token.projectId)?.role ?? null;
  }

  private async jwt(token: string, key: string, ip: string | undefined): Promise<Actor> {
    let actor: Actor;
    try {
      this.oidc ??= import('./oidc.ts').then((m) => m.createOidcVerifier(this.config.oidc!));
      actor = await (await this.oidc).verify(token);
    } catch (error) {
      const reason = (error as { reason?: string }).reason ?? (error as Error).message;
      if (!(error instanceof ProblemError)) this.log.warn(`OIDC verification failed: ${reason}`);
      await this.auditRefusal(`OIDC token refused: ${reason}`, ip, key);
      if (error instanceof ProblemError && error.status === 403) throw error;
      throw unauthorized();
    }
    // Reuse the verified token briefly, never past its expiry.
    const exp = decodeJwt(token).exp;
    const ttl = Math.min(AUTH_CACHE_MS, typeof exp === 'number' ? exp * 1000 - Date.now() : 0);
    const cached: Actor = { ...actor, via: actor.via || 'oidc' };
    delete cached.from;
    if (ttl > 0) this.cache.set(key, { actor: cached, userId: null, tokenId: null, sessionHash: null }, { ttl });
    return withFrom(cached, ip);
  }

  private adminActors = new Map<string, Actor>();
  private adminActor(ip: string | undefined): Actor {
    let actor = this.adminActors.get(ip ?? '');
    if (!actor) {
      actor = this.admin.actor(ip);
      if (this.adminActors.size >= 1000) this.adminActors.clear();
      this.adminActors.set(ip ?? '', actor);
    }
    return actor;
  }

  private async session(secret: string, ip: string | undefined): Promise<Actor | null> {
    const key = `s:${hashSessionSecret(secret)}`;
    const cached = this.cache.get(key);
    if (cached) return this.sessionActor(cached, ip);
    const session = await this.sessions.resolve(secret);
    if (typeof session === 'string') {
      await this.auditRefusal(`session ${session}`, ip, key);
      return null;
    }
    const user = await this.store.getUser(session.userId);
    if (!user || user.disabled) {
      await this.sessions.end(session.idHash);
      await this.auditRefusal('session of a disabled or deleted user', ip, key);
      return null;
    }
    const entry: CacheEntry = { actor: await this.userActor(user, 'session'), userId: user.id, tokenId: null, sessionHash: session.idHash };
    const now = Date.now();
    const ttl = Math.min(AUTH_CACHE_MS, session.expiresAt - now, session.lastSeenAt + this.config.auth.sessionIdleMs - now);
    if (ttl > 0) this.cache.set(key, entry, { ttl });
    return this.sessionActor(entry, ip);
  }

  private sessionActor(entry: CacheEntry, ip: string | undefined): Actor {
    const actor = actorFrom(entry, ip);
    this.sessionOf.set(actor, entry.sessionHash!);
    return actor;
  }

  /** The Actor of a user: instance role plus one role per project. */
  async userActor(user: UserRecord, via: string): Promise<Actor> {
    const projects: Record<string, ProjectRole> = {};
    for (const m of await this.store.listMemberships(user.id)) projects[m.projectId] = m.role;
    return { kind: 'user', id: user.id, name: user.username, instanceRole: user.instanceRole, projects, via };
  }

  private async refuse(reason: string, ip: string | undefined, key: string, detail: Record<string, unknown> = {}): Promise<never> {
    await this.auditRefusal(reason, ip, key, detail);
    throw unauthorized();
  }

  private async auditRefusal(reason: string, ip: string | undefined, key: string, detail: Record<string, unknown> = {}): Promise<void> {
    const throttle = `${reason}|${ip ?? ''}|${key}`;
    if (this.refusals.has(throttle)) return;
    this.refusals.set(throttle, true);
    const perIp = `${reason}|${ip ?? ''}`;
    const count = (this.refusalsPerIp.get(perIp) ?? 0) + 1;
    // The first entry of a window sets its expiry; later ones keep it (noUpdateTTL).
    this.refusalsPerIp.set(perIp, count, { noUpdateTTL: count > 1 });
    if (count > REFUSALS_PER_IP) return;
    await this.audit
      .record({ kind: 'anonymous', name: 'unknown' }, { action: 'auth.credential', outcome: 'failure', ip, detail: { reason, ...detail } })
      .catch((e: unknown) => this.log.warn(`audit write failed: ${(e as Error).message}`));
  }
}

function withFrom(actor: Actor, from: string | undefined): Actor {
  return Object.freeze(from ? { ...actor, from } : { ...actor });
}

/** The cached actor with this request's address; the last one is reused (actors are frozen, so sharing is safe). */
function actorFrom(entry: CacheEntry, from: string | undefined): Actor {
  if (entry.last && entry.last.from === from) return entry.last;
  entry.last = withFrom(entry.actor, from);
  return entry.last;
}

/** Tokens made by the admin token or the system have no user behind them. */
function isUserId(id: string): boolean {
  return id !== ADMIN_TOKEN_ACTOR_ID && id !== 'system';
}
