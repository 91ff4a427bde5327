/** The identity and HTTP-guard settings read by loadConfig (runtime/src/config.ts). */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';

const load = (env: Record<string, string>) => loadConfig({ FLOWCREW_FLOWS_DIR: '', ...env });

describe('auth and HTTP settings', () => {
  it('defaults: admin token off, 12 h sessions, lock-out 5 in 15 min, 90-day tokens, CORS off, loopback hosts, webhook limit off', () => {
    const { auth, http } = load({});
    expect(auth).toEqual({
      adminToken: undefined,
      cookieSecure: 'auto',
      sessionTtlMs: 12 * 3_600_000,
      sessionIdleMs: 120 * 60_000,
      lockoutAttempts: 5,
      lockoutWindowMs: 15 * 60_000,
      lockoutMs: 15 * 60_000,
      lockoutIpAttempts: 50,
      tokenTtlMs: 90 * 86_400_000,
    });
    expect(http).toMatchObject({ allowedHosts: null, corsOrigins: [], trustProxy: false, redisUrl: undefined });
    expect(http.rateLimit).toEqual({ login: { max: 10, windowMs: 60_000 }, api: { max: 6000, windowMs: 60_000 }, webhook: { max: 0, windowMs: 60_000 } });
  });

  it('reads every variable', () => {
    const { auth, http } = load({
      FLOWCREW_ADMIN_TOKEN: 'x'.repeat(32),
      FLOWCREW_COOKIE_SECURE: 'true',
      FLOWCREW_SESSION_HOURS: '1',
      FLOWCREW_SESSION_IDLE_MINUTES: '5',
      FLOWCREW_LOCKOUT_ATTEMPTS: '3',
      FLOWCREW_LOCKOUT_MINUTES: '2',
      FLOWCREW_LOCKOUT_IP_ATTEMPTS: '0',
      FLOWCREW_TOKEN_TTL_DAYS: '0',
      FLOWCREW_ALLOWED_HOSTS: 'flowcrew.lan, *.corp.example ,',
      FLOWCREW_CORS_ORIGINS: 'https://a.example,https://b.example',
      FLOWCREW_TRUST_PROXY: '1',
      FLOWCREW_RATE_LIMIT_LOGIN: '0',
      FLOWCREW_RATE_LIMIT_API: '100',
      FLOWCREW_RATE_LIMIT_WEBHOOK: '600',
      FLOWCREW_REDIS_URL: 'redis://127.0.0.1:6379',
    });
    expect(auth).toEqual({
      adminToken: 'x'.repeat(32),
      cookieSecure: true,
      sessionTtlMs: 3_600_000,
      sessionIdleMs: 300_000,
      lockoutAttempts: 3,
      lockoutWindowMs: 120_000,
      lockoutMs: 120_000,
      lockoutIpAttempts: 0,
      tokenTtlMs: 0,
    });
    expect(http).toMatchObject({ allowedHosts: ['flowcrew.lan', '*.corp.example'], corsOrigins: ['https://a.example', 'https://b.example'], trustProxy: 1, redisUrl: 'redis://127.0.0.1:6379' });
    expect(http.rateLimit.webhook.max).toBe(600);
    expect(load({ FLOWCREW_TRUST_PROXY: 'loopback, 10.0.0.0/8' }).http.trustProxy).toBe('loopback, 10.0.0.0/8');
    expect(load({ FLOWCREW_COOKIE_SECURE: 'false' }).auth.cookieSecure).toBe(false);
  });

  it('refuses values that cannot work, naming the variable', () => {
    expect(() => load({ FLOWCREW_ADMIN_TOKEN: 'short' })).toThrow(/FLOWCREW_ADMIN_TOKEN must be at least 16 characters/);
    expect(() => load({ FLOWCREW_COOKIE_SECURE: 'sometimes' })).toThrow(/FLOWCREW_COOKIE_SECURE must be true or false/);
    expect(() => load({ FLOWCREW_LOCKOUT_ATTEMPTS: '-1' })).toThrow(/FLOWCREW_LOCKOUT_ATTEMPTS must be a non-negative integer/);
    expect(() => load({ FLOWCREW_RATE_LIMIT_API: 'lots' })).toThrow(/FLOWCREW_RATE_LIMIT_API/);
  });
});
