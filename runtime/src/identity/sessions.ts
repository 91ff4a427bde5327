/**
 * Browser sessions: an opaque random secret in an HttpOnly, SameSite=Strict cookie (Secure over https or when
 * configured); only its SHA-256 is stored. Sessions expire (absolute lifetime and idle timeout) and end on logout,
 * password change and disabling. The CSRF token is derived from the session secret with HMAC, so it needs no storage,
 * changes with the session, and cannot be computed by anyone who cannot read the cookie.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { parse as parseCookie, serialize as serializeCookie } from 'cookie';
import type { AuthConfig } from '../config.ts';
import type { IdentityStore, SessionRecord } from '../storage/identity-types.ts';
import type { RequestFrom, SessionGrant } from './types.ts';

export const SESSION_COOKIE = 'flowcrew_session';
export const CSRF_HEADER = 'x-csrf-token';
/** 256 random bits, base64url. */
const SECRET_SHAPE = /^[A-Za-z0-9_-]{43}$/;
/** last_seen_at drives the idle timeout; a minute's resolution is plenty and spares a write per request. */
const TOUCH_EVERY_MS = 60_000;

export function hashSessionSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function csrfTokenOf(secret: string): string {
  return createHmac('sha256', secret).update('flowcrew csrf v1').digest('base64url');
}

/** Constant-time string comparison (a length difference returns false at once: lengths are not secret here). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class Sessions {
  constructor(
    private readonly store: IdentityStore,
    private readonly config: AuthConfig,
  ) {}

  /** The session secret from the request's cookie, if it has a well-formed one. */
  secretFrom(headers: IncomingHttpHeaders): string | null {
    const header = headers.cookie;
    if (!header) return null;
    let value: string | undefined;
    try {
      value = parseCookie(header)[SESSION_COOKIE];
    } catch {
      return null;
    }
    return value !== undefined && SECRET_SHAPE.test(value) ? value : null;
  }

  /** Starts a session for a user. */
  async create(userId: string, from: RequestFrom, now = Date.now()): Promise<SessionGrant & { idHash: string }> {
    const secret = randomBytes(32).toString('base64url');
    const record: SessionRecord = {
      idHash: hashSessionSecret(secret),
      userId,
      createdAt: now,
      expiresAt: now + this.config.sessionTtlMs,
      lastSeenAt: now,
      ip: from.ip ?? null,
      userAgent: from.userAgent?.slice(0, 256) ?? null,
    };
    await this.store.insertSession(record);
    return { idHash: record.idHash, cookie: this.cookie(secret, from, this.config.sessionTtlMs), csrfToken: csrfTokenOf(secret), expiresAt: record.expiresAt };
  }

  /** The live session a secret stands for, or why not. An expired or idle session is deleted on sight. */
  async resolve(secret: string, now = Date.now()): Promise<SessionRecord | 'unknown' | 'expired'> {
    const idHash = hashSessionSecret(secret);
    const session = await this.store.getSession(idHash);
    if (!session) return 'unknown';
    if (session.expiresAt <= now || now - session.lastSeenAt > this.config.sessionIdleMs) {
      await this.store.deleteSession(idHash).catch(() => {});
      return 'expired';
    }
    if (now - session.lastSeenAt >= TOUCH_EVERY_MS) {
      session.lastSeenAt = now;
      this.store.touchSession(idHash, now).catch(() => {});
    }
    return session;
  }

  async end(idHash: string): Promise<void> {
    await this.store.deleteSession(idHash);
  }

  /** Ends a user's sessions, except optionally one. */
  async endAllFor(userId: string, exceptIdHash?: string): Promise<number> {
    return this.store.deleteUserSessions(userId, exceptIdHash);
  }

  /** Set-Cookie that removes the session cookie. */
  clearCookie(from: RequestFrom): string {
    return this.cookie('', from, 0);
  }

  private cookie(value: string, from: RequestFrom, maxAgeMs: number): string {
    const secure = this.config.cookieSecure === 'auto' ? from.secure === true : this.config.cookieSecure;
    return serializeCookie(SESSION_COOKIE, value, {
      httpOnly: true,
      sameSite: 'strict',
      secure,
      path: '/',
      maxAge: Math.floor(maxAgeMs / 1000),
      ...(maxAgeMs === 0 ? { expires: new Date(0) } : {}),
    });
  }
}
