/**
 * Lock-out after repeated failed sign-ins, per account and per IP. An account's count lives in the users table (it
 * survives restarts and is shared by every runtime on one database); a username that does not exist is counted in
 * memory the same way, so a locked response never tells an attacker whether the account exists. The per-IP count
 * (any account) stops one address from spraying passwords across many accounts.
 */
import { LRUCache } from 'lru-cache';
import type { AuthConfig } from '../config.ts';
import type { IdentityStore, UserRecord } from '../storage/identity-types.ts';

interface Counter {
  failures: number;
  lastAt: number;
  lockedUntil: number | null;
}

/** Memory bound for counters of IPs and unknown usernames (oldest dropped first). */
const MAX_TRACKED = 50_000;

export class Lockout {
  private readonly ips: LRUCache<string, Counter>;
  private readonly unknownNames: LRUCache<string, Counter>;

  constructor(
    private readonly store: IdentityStore,
    private readonly config: AuthConfig,
  ) {
    const ttl = Math.max(config.lockoutWindowMs, config.lockoutMs, 1);
    this.ips = new LRUCache({ max: MAX_TRACKED, ttl });
    this.unknownNames = new LRUCache({ max: MAX_TRACKED, ttl });
  }

  get enabled(): boolean {
    return this.config.lockoutAttempts > 0;
  }

  /** Until when this IP is blocked from signing in, or null. */
  ipLockedUntil(ip: string | undefined, now = Date.now()): number | null {
    if (!ip || this.config.lockoutIpAttempts === 0) return null;
    const c = this.ips.get(ip);
    return c?.lockedUntil && c.lockedUntil > now ? c.lockedUntil : null;
  }

  /** Until when this account (or unknown username) is locked, or null. */
  accountLockedUntil(username: string, user: UserRecord | null, now = Date.now()): number | null {
    if (!this.enabled) return null;
    const until = user ? user.lockedUntil : (this.unknownNames.get(username)?.lockedUntil ?? null);
    return until !== null && until > now ? until : null;
  }

  /**
   * Counts a failed sign-in. Returns which locks this failure just switched on (each is audited once, when it
   * starts).
   */
  async noteFailure(username: string, user: UserRecord | null, ip: string | undefined, now = Date.now()): Promise<{ account: number | null; ip: number | null }> {
    const result: { account: number | null; ip: number | null } = { account: null, ip: null };
    if (ip && this.config.lockoutIpAttempts > 0 && bump(this.ips, ip, now, this.config.lockoutWindowMs, this.config.lockoutIpAttempts, this.config.lockoutMs)) {
      result.ip = this.ips.get(ip)!.lockedUntil;
    }
    if (!this.enabled) return result;
    if (user) {
      const before = user.lockedUntil;
      const after = await this.store.noteLoginFailure(user.id, now, now - this.config.lockoutWindowMs, this.config.lockoutAttempts, now + this.config.lockoutMs);
      if (after?.lockedUntil && after.lockedUntil !== before && after.lockedUntil > now) result.account = after.lockedUntil;
    } else if (bump(this.unknownNames, username, now, this.config.lockoutWindowMs, this.config.lockoutAttempts, this.config.lockoutMs)) {
      result.account = this.unknownNames.get(username)!.lockedUntil;
    }
    return result;
  }

  /** A successful sign-in clears the account's count (not the IP's: an attacker's own account must not reset it). */
  async noteSuccess(user: UserRecord): Promise<void> {
    if (user.failedLogins > 0 || user.lockedUntil !== null) await this.store.updateUser(user.id, { failedLogins: 0, lockedUntil: null, lastFailedAt: null });
  }
}

/** One more failure; true when this one reached the limit and set the lock. */
function bump(cache: LRUCache<string, Counter>, key: string, now: number, windowMs: number, max: number, lockMs: number): boolean {
  const c = cache.get(key);
  const counter: Counter = c && now - c.lastAt <= windowMs ? { ...c, failures: c.failures + 1, lastAt: now } : { failures: 1, lastAt: now, lockedUntil: null };
  const locks = counter.failures >= max && !(counter.lockedUntil && counter.lockedUntil > now);
  if (locks) counter.lockedUntil = now + lockMs;
  cache.set(key, counter);
  return locks;
}
