/**
 * The automation bootstrap: FLOWCREW_ADMIN_TOKEN, when set, is accepted as an instance-admin bearer token so scripts,
 * CI and orchestration can set up an instance without a browser (as Keycloak's and Grafana's bootstrap admins do).
 * Off when unset. Compared in constant time (digests of equal length, so neither content nor length leaks).
 * Each use is audited, at most once per minute, so a script calling in a loop does not flood the log.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Actor } from './actor.ts';

export const ADMIN_TOKEN_ACTOR_ID = 'admin-token';
const AUDIT_EVERY_MS = 60_000;

export const digest = (value: string) => createHash('sha256').update(value).digest();

export class AdminToken {
  private readonly expected: Buffer | null;
  private lastAudited = Number.NEGATIVE_INFINITY;

  constructor(token: string | undefined) {
    this.expected = token ? digest(token) : null;
  }

  get enabled(): boolean {
    return this.expected !== null;
  }

  matches(presented: string): boolean {
    return this.matchesDigest(digest(presented));
  }

  /** Same, given the SHA-256 of the presented value (the authenticator hashes each credential once). */
  matchesDigest(presented: Buffer): boolean {
    return this.expected !== null && timingSafeEqual(presented, this.expected);
  }

  actor(from: string | undefined): Actor {
    return Object.freeze({ kind: 'token', id: ADMIN_TOKEN_ACTOR_ID, name: ADMIN_TOKEN_ACTOR_ID, instanceRole: 'admin', projects: Object.freeze({}), via: 'admin-token', ...(from ? { from } : {}) });
  }

  /** True for the first use after start and then at most once per minute. */
  shouldAudit(now = Date.now()): boolean {
    if (now - this.lastAudited < AUDIT_EVERY_MS) return false;
    this.lastAudited = now;
    return true;
  }
}
