import { parse } from 'cookie';
import { afterEach, describe, expect, it } from 'vitest';
import { SESSION_COOKIE, Sessions, csrfTokenOf, hashSessionSecret, safeEqual } from './sessions.ts';
import { openTestIdentity, testConfig, type OpenedIdentity } from './testing.ts';

let opened: OpenedIdentity | undefined;
afterEach(async () => {
  await opened?.close();
  opened = undefined;
});

async function sessions(auth: Parameters<typeof testConfig>[0] = {}) {
  opened = await openTestIdentity(testConfig(auth));
  return { sessions: new Sessions(opened.storage.identity, opened.config.auth), store: opened.storage.identity };
}

const secretOf = (setCookie: string) => parse(setCookie)[SESSION_COOKIE]!;

describe('sessions', () => {
  it('cookie: HttpOnly, SameSite=Strict, Path=/, Max-Age = lifetime; Secure only over https in auto mode', async () => {
    const { sessions: s } = await sessions({ sessionTtlMs: 3_600_000 });
    const plain = await s.create('u1', { ip: '127.0.0.1' });
    expect(plain.cookie).toMatch(/^flowcrew_session=[A-Za-z0-9_-]{43}; Max-Age=3600; Path=\/; HttpOnly; SameSite=Strict$/);
    expect((await s.create('u1', { secure: true })).cookie).toContain('; Secure');
  });

  it('FLOWCREW_COOKIE_SECURE=true forces Secure, false never sets it', async () => {
    expect((await (await sessions({ cookieSecure: true })).sessions.create('u1', {})).cookie).toContain('; Secure');
    await opened!.close();
    expect((await (await sessions({ cookieSecure: false })).sessions.create('u1', { secure: true })).cookie).not.toContain('Secure');
  });

  it('only a hash of the secret is stored; the CSRF token is derived from the secret', async () => {
    const { sessions: s, store } = await sessions();
    const grant = await s.create('u1', { ip: '10.0.0.1', userAgent: 'UA' });
    const secret = secretOf(grant.cookie);
    expect(grant.idHash).toBe(hashSessionSecret(secret));
    expect(await store.getSession(secret)).toBeNull();
    expect(await store.getSession(grant.idHash)).toMatchObject({ userId: 'u1', ip: '10.0.0.1', userAgent: 'UA' });
    expect(grant.csrfToken).toBe(csrfTokenOf(secret));
    expect(grant.csrfToken).not.toBe(secret);
    expect(csrfTokenOf(secretOf((await s.create('u1', {})).cookie))).not.toBe(grant.csrfToken);
  });

  it('resolves a live session; an unknown, expired or idle one is refused (and deleted)', async () => {
    const { sessions: s, store } = await sessions({ sessionTtlMs: 10_000, sessionIdleMs: 2_000 });
    const now = Date.now();
    const grant = await s.create('u1', {}, now);
    const secret = secretOf(grant.cookie);
    expect(await s.resolve(secret, now + 1000)).toMatchObject({ userId: 'u1' });
    expect(await s.resolve('A'.repeat(43), now)).toBe('unknown');
    expect(await s.resolve(secret, now + 3000)).toBe('expired'); // idle for 3 s > 2 s
    expect(await store.getSession(grant.idHash)).toBeNull();
    const other = await s.create('u1', {}, now);
    expect(await s.resolve(secretOf(other.cookie), now + 10_000)).toBe('expired'); // absolute lifetime
  });

  it('reads only a well-formed session cookie among others', async () => {
    const { sessions: s } = await sessions();
    const secret = 'b'.repeat(43);
    expect(s.secretFrom({ cookie: `theme=dark; ${SESSION_COOKIE}=${secret}; x=1` })).toBe(secret);
    expect(s.secretFrom({ cookie: `${SESSION_COOKIE}=short` })).toBeNull();
    expect(s.secretFrom({ cookie: `${SESSION_COOKIE}=${secret}%00` })).toBeNull();
    expect(s.secretFrom({})).toBeNull();
  });

  it('clearing cookie expires it at once', async () => {
    const { sessions: s } = await sessions();
    expect(s.clearCookie({})).toMatch(/^flowcrew_session=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Strict$/);
  });

  it('safeEqual compares whole strings', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
  });
});
