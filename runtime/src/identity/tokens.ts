/**
 * API tokens: 'fct_' + 256 random bits (base64url). Only a SHA-256 of the secret is stored (a fast hash is right
 * here: the secret is random, not a password, and every API request checks it). Scoped to one project and a set
 * of permissions, expiring, revocable, shown once at creation; the last use is recorded (at most once a minute).
 */
import { createHash, randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { ProblemError, notFound } from '../errors.ts';
import type { IdentityStore, TokenFilter, TokenRecord } from '../storage/identity-types.ts';
import { INSTANCE_ONLY, PERMISSIONS, type Actor, type Permission } from './actor.ts';
import type { AuditLog } from './audit.ts';
import type { CreatedToken, NewToken, TokenView } from './types.ts';

export const TOKEN_PREFIX = 'fct_';
/** 'fct_' + 43 base64url characters (32 bytes). */
const TOKEN_SHAPE = /^fct_[A-Za-z0-9_-]{43}$/;
/** Characters of the secret kept in clear to recognise a token in a list (32 random bits: useless to an attacker). */
const SHOWN_CHARS = TOKEN_PREFIX.length + 6;
const MAX_NAME = 200;
/** last_used_at is a hint for people, not a ledger: one write per token per minute at most. */
const TOUCH_EVERY_MS = 60_000;

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function looksLikeToken(value: string): boolean {
  return value.startsWith(TOKEN_PREFIX);
}

function invalidToken(pointer: string, message: string): ProblemError {
  return new ProblemError(422, 'Invalid token', message, [{ pointer, message }]);
}

/** Why a presented token was refused (for the audit log only: the caller just gets 401). */
export type TokenRefusal = 'malformed' | 'unknown' | 'revoked' | 'expired';

export function tokenView(t: TokenRecord): TokenView {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    projectId: t.projectId,
    permissions: t.permissions as Permission[],
    createdBy: t.createdBy,
    createdAt: t.createdAt,
    expiresAt: t.expiresAt,
    revokedAt: t.revokedAt,
    lastUsedAt: t.lastUsedAt,
  };
}

export class Tokens {
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly store: IdentityStore,
    private readonly audit: AuditLog,
    private readonly defaultTtlMs: number,
    /** Called when a token stops working, so a cached actor for it is dropped. */
    private readonly revoked: (tokenId: string) => void,
  ) {}

  async list(filter: TokenFilter = {}): Promise<TokenView[]> {
    return (await this.store.listTokens(filter)).map(tokenView);
  }

  async get(id: string): Promise<TokenView | null> {
    const t = await this.store.getToken(id);
    return t ? tokenView(t) : null;
  }

  /**
   * Creates a token owned by the acting user (or by the instance-admin actor that made it). The secret is in the
   * result and nowhere else. 404 for an unknown project, 422 for bad permissions or expiry, 403 when an API token
   * tries to mint tokens.
   */
  async create(actor: Actor, input: NewToken): Promise<CreatedToken> {
    if (actor.via === 'token') throw new ProblemError(403, 'Forbidden', 'An API token cannot create API tokens.');
    if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > MAX_NAME) {
      throw invalidToken('/name', `The name must be a non-empty string of at most ${MAX_NAME} characters.`);
    }
    if (typeof input.projectId !== 'string' || !(await this.store.getProject(input.projectId))) throw notFound(`Project "${String(input.projectId)}"`);
    const permissions = checkPermissions(input.permissions);
    const now = Date.now();
    let expiresAt: number | null = input.expiresAt === undefined ? (this.defaultTtlMs > 0 ? now + this.defaultTtlMs : null) : input.expiresAt;
    if (expiresAt !== null && (!Number.isSafeInteger(expiresAt) || expiresAt <= now)) {
      throw invalidToken('/expiresAt', 'expiresAt must be a future time in epoch milliseconds, or null for no expiry.');
    }
    const secret = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const record: TokenRecord = {
      id: uuidv7(),
      name: input.name.trim(),
      hash: hashSecret(secret),
      prefix: secret.slice(0, SHOWN_CHARS),
      projectId: input.projectId,
      permissions,
      createdBy: actor.id,
      createdAt: now,
      expiresAt,
      revokedAt: null,
      lastUsedAt: null,
    };
    await this.store.insertToken(record);
    await this.audit.record(actor, {
      action: 'token.create',
      outcome: 'success',
      target: { type: 'token', id: record.id },
      projectId: record.projectId,
      detail: { name: record.name, prefix: record.prefix, permissions, expiresAt },
    });
    return { token: tokenView(record), secret };
  }

  /** Revokes at once (a second revoke is harmless). 404 for an unknown token. */
  async revoke(actor: Actor, id: string): Promise<TokenView> {
    const token = await this.store.getToken(id);
    if (!token) throw notFound(`Token "${id}"`);
    await this.store.revokeToken(id, Date.now());
    this.revoked(id);
    await this.audit.record(actor, { action: 'token.revoke', outcome: 'success', target: { type: 'token', id }, projectId: token.projectId, detail: { name: token.name, prefix: token.prefix } });
    return (await this.get(id))!;
  }

  /** Looks a presented secret up: the token record, or why it is refused. */
  async resolve(secret: string, now = Date.now()): Promise<TokenRecord | TokenRefusal> {
    if (!TOKEN_SHAPE.test(secret)) return 'malformed';
    const token = await this.store.getTokenByHash(hashSecret(secret));
    if (!token) return 'unknown';
    if (token.revokedAt !== null) return 'revoked';
    if (token.expiresAt !== null && token.expiresAt <= now) return 'expired';
    return token;
  }

  /** Records a use (throttled per token). Never fails the request. */
  noteUse(token: TokenRecord, now = Date.now()): void {
    const last = this.touched.get(token.id) ?? token.lastUsedAt ?? 0;
    if (now - last < TOUCH_EVERY_MS) return;
    this.touched.set(token.id, now);
    if (this.touched.size > 10_000) this.touched.delete(this.touched.keys().next().value!);
    this.store.touchToken(token.id, now).catch(() => {});
  }
}

function checkPermissions(value: unknown): Permission[] {
  if (!Array.isArray(value) || value.length === 0) throw invalidToken('/permissions', 'permissions must be a non-empty array of permission names.');
  const out = new Set<Permission>();
  value.forEach((p, i) => {
    if (!PERMISSIONS.includes(p as Permission)) throw invalidToken(`/permissions/${i}`, `"${String(p)}" is not a permission (known: ${PERMISSIONS.join(', ')}).`);
    if (INSTANCE_ONLY.has(p as Permission)) throw invalidToken(`/permissions/${i}`, `"${p}" is instance-wide: a project token cannot hold it.`);
    out.add(p as Permission);
  });
  return [...out];
}
