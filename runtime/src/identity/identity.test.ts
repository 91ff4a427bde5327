import { parse } from 'cookie';
import { afterEach, describe, expect, it } from 'vitest';
import { ProblemError } from '../errors.ts';
import { SYSTEM_ACTOR, can, type Actor } from './actor.ts';
import type { Identity } from './identity.ts';
import { SESSION_COOKIE } from './sessions.ts';
import { auditEntries, openTestIdentity, testConfig, type OpenedIdentity } from './testing.ts';

const ADMIN_TOKEN = 'bootstrap-admin-token-for-tests';
let opened: OpenedIdentity | undefined;
afterEach(async () => {
  await opened?.close();
  opened = undefined;
});

async function open(auth: Parameters<typeof testConfig>[0] = {}): Promise<Identity> {
  opened = await openTestIdentity(testConfig({ adminToken: ADMIN_TOKEN, lockoutAttempts: 3, ...auth }));
  return opened.identity;
}

const cookieHeader = (setCookie: string) => `${SESSION_COOKIE}=${parse(setCookie)[SESSION_COOKIE]}`;
const req = (headers: Record<string, string> = {}, method = 'GET') => ({ headers, method, ip: '127.0.0.1' });
const bearer = (token: string) => req({ authorization: `Bearer ${token}` });

async function rejection(promise: Promise<unknown>): Promise<ProblemError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ProblemError);
    return error as ProblemError;
  }
  throw new Error('expected a rejection');
}

describe('Identity: setup and sign-in', () => {
  it('setup creates the first admin, owner of default, signed in; only once', async () => {
    const identity = await open();
    expect(await identity.setupRequired()).toBe(true);
    const { user, session } = await identity.setup({ username: 'Ada', password: 'a long passphrase', name: 'Ada L.' }, { ip: '127.0.0.1' });
    expect(user).toMatchObject({ username: 'ada', name: 'Ada L.', instanceRole: 'admin', projects: { default: 'owner' }, disabled: false });
    expect(JSON.stringify(user)).not.toMatch(/argon2|password/i);
    expect(await identity.setupRequired()).toBe(false);
    const actor = await identity.authenticate(req({ cookie: cookieHeader(session.cookie) }));
    expect(actor).toMatchObject({ kind: 'user', id: user.id, name: 'ada', instanceRole: 'admin', via: 'session', from: '127.0.0.1' });
    expect((await rejection(identity.setup({ username: 'eve', password: 'another passphrase' }, {}))).status).toBe(409);
    const actions = (await auditEntries(identity)).map((e) => `${e.action}:${e.outcome}`);
    expect(actions).toEqual(expect.arrayContaining(['user.create:success', 'auth.setup:success', 'auth.setup:failure']));
  });

  it('racing setups: exactly one admin', async () => {
    const identity = await open();
    const results = await Promise.allSettled([1, 2, 3].map((i) => identity.setup({ username: `admin${i}`, password: 'a long passphrase' }, {})));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await identity.users.list()).toHaveLength(1);
  });

  it('login: right password signs in (audited with IP); wrong password or unknown user: the same 401', async () => {
    const identity = await open();
    await identity.setup({ username: 'ada', password: 'a long passphrase' }, {});
    const ok = await identity.login('ADA', 'a long passphrase', { ip: '10.0.0.5', userAgent: 'test' });
    expect(ok.user.username).toBe('ada');
    expect(ok.user.lastLoginAt).toBeGreaterThan(0);
    const wrong = await rejection(identity.login('ada', 'not the passphrase', { ip: '10.0.0.5' }));
    const unknown = await rejection(identity.login('nobody', 'not the passphrase', { ip: '10.0.0.5' }));
    expect([wrong.status, wrong.message]).toEqual([401, 'Invalid username or password.']);
    expect([unknown.status, unknown.message]).toEqual([wrong.status, wrong.message]);
    const entries = await auditEntries(identity, { action: 'auth.login' });
    expect(entries.map((e) => [e.outcome, e.actor.name, e.ip, e.detail?.reason ?? null])).toEqual([
      ['failure', 'nobody', '10.0.0.5', 'unknown user'],
      ['failure', 'ada', '10.0.0.5', 'wrong password'],
      ['success', 'ada', '10.0.0.5', null],
    ]);
  });

  it('lock-out after repeated failures: 423 even with the right password, audited once when it starts', async () => {
    const identity = await open({ lockoutAttempts: 3 });
    await identity.setup({ username: 'ada', password: 'a long passphrase' }, {});
    for (let i = 0; i < 3; i++) expect((await rejection(identity.login('ada', `wrong ${i} wrong`, { ip: '10.0.0.6' }))).status).toBe(401);
    const locked = await rejection(identity.login('ada', 'a long passphrase', { ip: '10.0.0.6' }));
    expect(locked.status).toBe(423);
    expect(locked.extra.retryAfter).toBeGreaterThan(0);
    expect((await auditEntries(identity, { action: 'auth.lockout' })).map((e) => e.detail?.scope)).toEqual(['account']);
    expect((await auditEntries(identity, { action: 'auth.login', outcome: 'denied' })).map((e) => e.detail?.reason)).toEqual(['account locked']);
  });

  it('a disabled user cannot sign in, and their sessions stop working at once', async () => {
    const identity = await open();
    const admin = await identity.setup({ username: 'ada', password: 'a long passphrase' }, {});
    const adminActor = (await identity.authenticate(req({ cookie: cookieHeader(admin.session.cookie) })))!;
    const bob = await identity.users.create(adminActor, { username: 'bob', password: 'bobs passphrase' });
    const { session } = await identity.login('bob', 'bobs passphrase', {});
    expect(await identity.authenticate(req({ cookie: cookieHeader(session.cookie) }))).toMatchObject({ id: bob.id });
    await identity.users.update(adminActor, bob.id, { disabled: true });
    expect(await identity.authenticate(req({ cookie: cookieHeader(session.cookie) }))).toBeNull();
    expect((await rejection(identity.login('bob', 'bobs passphrase', {}))).status).toBe(401);
  });

  it('logout ends the session; the cookie no longer authenticates', async () => {
    const identity = await open();
    const { session } = await identity.setup({ username: 'ada', password: 'a long passphrase' }, {});
    const actor = (await identity.authenticate(req({ cookie: cookieHeader(session.cookie) })))!;
    await identity.logout(actor);
    expect(await identity.authenticate(req({ cookie: cookieHeader(session.cookie) }))).toBeNull();
    expect(identity.clearSessionCookie({})).toMatch(/^flowcrew_session=;/);
    expect((await auditEntries(identity, { action: 'auth.logout' })).length).toBe(1);
  });

  it('password change: needs the current one; ends every session and hands out a new one', async () => {
    const identity = await open();
    const first = await identity.setup({ username: 'ada', password: 'a long passphrase' }, {});
    const other = await identity.login('ada', 'a long passphrase', {});
    const actor = (await identity.authenticate(req({ cookie: cookieHeader(first.session.cookie) })))!;
    expect((await rejection(identity.changePassword(actor, 'wrong', 'a newer passphrase', {}))).status).toBe(401);
    expect((await rejection(identity.changePassword(actor, 'a long passphrase', 'short', {}))).issues[0]!.pointer).toBe('/newPassword');
    const renewed = (await identity.changePassword(actor, 'a long passphrase', 'a newer passphrase', {}))!;
    expect(await identity.authenticate(req({ cookie: cookieHeader(first.session.cookie) }))).toBeNull();
    expect(await identity.authenticate(req({ cookie: cookieHeader(other.session.cookie) }))).toBeNull();
    expect(await identity.authenticate(req({ cookie: cookieHeader(renewed.session.cookie) }))).toMatchObject({ name: 'ada' });
    expect((await rejection(identity.login('ada', 'a long passphrase', {}))).status).toBe(401);
    await identity.login('ada', 'a newer passphrase', {});
    expect((await rejection(identity.changePassword(SYSTEM_ACTOR, 'x', 'a newer passphrase', {}))).status).toBe(403);
  });
});

describe('Identity: authenticate', () => {
  it('no credential: anonymous (null)', async () => {
    const identity = await open();
    expect(await identity.authenticate(req())).toBeNull();
  });

  it('FLOWCREW_ADMIN_TOKEN: instance admin via admin-token, audited once (not per request)', async () => {
    const identity = await open();
    for (let i = 0; i < 5; i++) expect(await identity.authenticate(bearer(ADMIN_TOKEN))).toMatchObject({ id: 'admin-token', instanceRole: 'admin', via: 'admin-token' });
    expect(await auditEntries(identity, { action: 'auth.admin-token' })).toHaveLength(1);
  });

  it('a flood of refused credentials from one address leaves a bounded number of audit entries', async () => {
    const identity = await open();
    for (let i = 0; i < 60; i++) await rejection(identity.authenticate(bearer(`fct_${String(i).padStart(43, 'x')}`)));
    for (let i = 0; i < 3; i++) await rejection(identity.authenticate(bearer(`fct_${'y'.repeat(43)}`)));
    expect((await auditEntries(identity, { action: 'auth.credential' })).length).toBe(20);
  });

  it('no admin token configured: the same value is refused', async () => {
    const identity = await open({ adminToken: undefined });
    expect((await rejection(identity.authenticate(bearer(ADMIN_TOKEN)))).status).toBe(401);
  });

  it('a malformed Authorization header or an unknown bearer value: 401, audited without the value', async () => {
    const identity = await open();
    expect((await rejection(identity.authenticate(req({ authorization: 'Basic YWRhOnB3' })))).status).toBe(401);
    expect((await rejection(identity.authenticate(bearer('some-random-value')))).status).toBe(401);
    const entries = await auditEntries(identity, { action: 'auth.credential' });
    expect(entries.map((e) => e.detail?.reason)).toEqual(['unknown bearer credential', 'malformed authorization header']);
    expect(JSON.stringify(entries)).not.toContain('some-random-value');
  });

  it('API token: scoped to its project and permissions, never more than its creator', async () => {
    const identity = await open();
    const admin = (await identity.authenticate(bearer(ADMIN_TOKEN)))!;
    const bob = await identity.users.create(admin, { username: 'bob', password: 'bobs passphrase' });
    await identity.projects.create(admin, { id: 'p1', name: 'P1' });
    await identity.projects.setMember(admin, 'p1', bob.id, 'viewer');
    const bobActor: Actor = { kind: 'user', id: bob.id, name: 'bob', instanceRole: 'member', projects: { p1: 'viewer' }, via: 'session' };
    const { secret, token } = await identity.tokens.create(bobActor, { name: 'ci', projectId: 'p1', permissions: ['flow:read', 'flow:write'] });
    const actor = (await identity.authenticate(bearer(secret)))!;
    expect(actor).toMatchObject({ kind: 'token', id: token.id, name: 'ci', instanceRole: 'member', projects: { p1: 'viewer' }, via: 'token' });
    expect(can(actor, 'flow:read', 'p1')).toBe(true);
    expect(can(actor, 'flow:write', 'p1')).toBe(false); // in scope, but bob is only a viewer
    expect(can(actor, 'run:read', 'p1')).toBe(false); // bob may, the token's scope does not
    expect(can(actor, 'flow:read', 'default')).toBe(false);
    // Promote bob: the token follows at once (the cache entry is dropped).
    await identity.projects.setMember(admin, 'p1', bob.id, 'editor');
    expect(can((await identity.authenticate(bearer(secret)))!, 'flow:write', 'p1')).toBe(true);
    // Delete bob: his tokens go with him.
    await identity.users.delete(admin, bob.id);
    expect((await rejection(identity.authenticate(bearer(secret)))).status).toBe(401);
  });

  it('API token: revoked or expired is refused with 401 and audited', async () => {
    const identity = await open();
    const admin = (await identity.authenticate(bearer(ADMIN_TOKEN)))!;
    const a = await identity.tokens.create(admin, { name: 'a', projectId: 'default', permissions: ['flow:read'] });
    expect(await identity.authenticate(bearer(a.secret))).toMatchObject({ id: a.token.id, projects: { default: 'owner' } });
    await identity.tokens.revoke(admin, a.token.id);
    expect((await rejection(identity.authenticate(bearer(a.secret)))).status).toBe(401);
    // Expiry 2 s ahead, then wait until it passed (the cached actor's TTL is capped at the expiry, on the real clock):
    // 150 ms ahead raced a loaded machine (refused as already past, or expired before the first check).
    const expiresAt = Date.now() + 2000;
    const b = await identity.tokens.create(admin, { name: 'b', projectId: 'default', permissions: ['flow:read'], expiresAt });
    expect(await identity.authenticate(bearer(b.secret))).not.toBeNull();
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 50));
    expect((await rejection(identity.authenticate(bearer(b.secret)))).status).toBe(401);
    const reasons = (await auditEntries(identity, { action: 'auth.credential' })).map((e) => e.detail?.reason);
    expect(reasons).toEqual(['API token expired', 'API token revoked']);
  });

  it('a forged or expired session cookie is anonymous (audited), never an error', async () => {
    const identity = await open({ sessionIdleMs: 100 });
    expect(await identity.authenticate(req({ cookie: `${SESSION_COOKIE}=${'x'.repeat(43)}` }))).toBeNull();
    const { session } = await identity.setup({ username: 'ada', password: 'a long passphrase' }, {});
    await new Promise((r) => setTimeout(r, 150));
    expect(await identity.authenticate(req({ cookie: cookieHeader(session.cookie) }))).toBeNull();
    expect((await auditEntries(identity, { action: 'auth.credential' })).map((e) => e.detail?.reason).sort()).toEqual(['session expired', 'session unknown']);
  });
});

describe('Identity: CSRF', () => {
  it('a session actor needs the CSRF token of ITS session; bearer actors need none', async () => {
    const identity = await open();
    const { session } = await identity.setup({ username: 'ada', password: 'a long passphrase' }, {});
    const other = await identity.login('ada', 'a long passphrase', {});
    const headers = { cookie: cookieHeader(session.cookie) };
    const actor = (await identity.authenticate(req(headers, 'POST')))!;
    expect(identity.csrfTokenFor({ headers })).toBe(session.csrfToken);
    expect(identity.checkCsrf(actor, { headers: { ...headers, 'x-csrf-token': session.csrfToken } })).toBe(true);
    expect(identity.checkCsrf(actor, { headers })).toBe(false);
    expect(identity.checkCsrf(actor, { headers: { ...headers, 'x-csrf-token': other.session.csrfToken } })).toBe(false);
    expect(identity.checkCsrf(actor, { headers: { cookie: cookieHeader(other.session.cookie), 'x-csrf-token': other.session.csrfToken } })).toBe(false);
    const admin = (await identity.authenticate(bearer(ADMIN_TOKEN)))!;
    expect(identity.checkCsrf(admin, { headers: {} })).toBe(true);
    // A hand-made 'session' actor that did not come from authenticate() is never trusted.
    expect(identity.checkCsrf({ ...actor }, { headers: { ...headers, 'x-csrf-token': session.csrfToken } })).toBe(false);
    const reasons = (await auditEntries(identity, { action: 'auth.csrf' })).map((e) => e.detail?.reason);
    expect(reasons).toEqual(expect.arrayContaining(['missing CSRF token', 'wrong CSRF token']));
  });
});
