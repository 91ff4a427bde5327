/**
 * Identity bad input through the REAL runtime server (startTestServer): wrong passwords and lock-out, a revoked or
 * expired API token, a forged or expired session, CSRF attempts, a foreign Host or Origin. Each is refused with the
 * right status, leaves an audit entry where it concerns identity, and leaks no detail in the body.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SqlStorage } from '../storage/sql-storage.ts';
import { TEST_PASSWORD, startTestServer, type TestServer } from '../testing/server.ts';

/** Words that would tell an attacker why a credential failed. */
const LEAKY = /revoked|expired|unknown user|wrong password|no such|not found|does not exist|hash|argon|fct_[A-Za-z0-9_-]{10}/i;

async function audit(server: TestServer, query: string) {
  await new Promise((r) => setTimeout(r, 30)); // fire-and-forget entries (CSRF) commit in the next batch
  const res = await server.api('GET', `/api/v1/audit?${query}`);
  expect(res.status).toBe(200);
  return res.body.entries as Array<{ action: string; outcome: string; ip: string | null; actor: { name: string }; detail: Record<string, unknown> | null }>;
}

function expectOpaque(res: { status: number; body: unknown; headers: Headers }, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  expect(JSON.stringify(res.body)).not.toMatch(LEAKY);
}

describe('identity bad input (real server)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({}, { env: { FLOWCREW_LOCKOUT_ATTEMPTS: '3', FLOWCREW_LOCKOUT_IP_ATTEMPTS: '0' } });
    const setup = await server.apiAs(null, 'POST', '/api/v1/auth/setup', { username: 'ada', password: TEST_PASSWORD });
    expect(setup.status).toBe(201);
  });
  afterAll(() => server?.stop());

  it('wrong passwords: 401 with the same body as an unknown user; the 4th attempt is locked (423) even with the right password', async () => {
    await server.userWith('bob');
    const wrong = await server.apiAs(null, 'POST', '/api/v1/auth/login', { username: 'bob', password: 'not the password' });
    const unknown = await server.apiAs(null, 'POST', '/api/v1/auth/login', { username: 'nobody-here', password: 'not the password' });
    expectOpaque(wrong, 401);
    expect(unknown.body).toEqual(wrong.body);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    for (let i = 0; i < 2; i++) expectOpaque(await server.apiAs(null, 'POST', '/api/v1/auth/login', { username: 'bob', password: `still wrong ${i}` }), 401);
    const locked = await server.apiAs(null, 'POST', '/api/v1/auth/login', { username: 'bob', password: TEST_PASSWORD });
    expectOpaque(locked, 423);
    expect(locked.headers.get('set-cookie')).toBeNull();
    const logins = await audit(server, 'action=auth.');
    const bob = logins.filter((e) => e.actor.name === 'bob');
    expect(bob.map((e) => `${e.action}:${e.outcome}`)).toEqual(['auth.login:denied', 'auth.lockout:success', 'auth.login:failure', 'auth.login:failure', 'auth.login:failure', 'auth.login:success']);
    expect(bob[0]!.ip).toMatch(/127\.0\.0\.1/);
  });

  it('a revoked API token: 401 at once, no detail; audited', async () => {
    const created = await server.api('POST', '/api/v1/tokens', { name: 'ci', projectId: 'default', permissions: ['flow:read'] });
    expect(created.status).toBe(201);
    const who = { token: created.body.secret as string };
    expect((await server.apiAs(who, 'GET', '/api/v1/flows')).status).toBe(200);
    expect((await server.api('DELETE', `/api/v1/tokens/${created.body.token.id}`)).status).toBe(204);
    expectOpaque(await server.apiAs(who, 'GET', '/api/v1/flows'), 401);
    const refusals = await audit(server, 'action=auth.credential');
    expect(refusals.some((e) => e.detail?.reason === 'API token revoked')).toBe(true);
    expect(JSON.stringify(refusals)).not.toContain(who.token.slice(12));
  });

  it('an expired API token: 401, no detail; audited', async () => {
    // A stopped clock (Date only), moved past the expiry: with a real one the POST could take over the 400 ms on a
    // loaded machine and be refused as already expired.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      const created = await server.api('POST', '/api/v1/tokens', { name: 'short', projectId: 'default', permissions: ['flow:read'], expiresAt: Date.now() + 400 });
      expect(created.status).toBe(201);
      vi.setSystemTime(Date.now() + 500);
      expectOpaque(await server.apiAs({ token: created.body.secret }, 'GET', '/api/v1/flows'), 401);
    } finally {
      vi.useRealTimers();
    }
    expect((await audit(server, 'action=auth.credential')).some((e) => e.detail?.reason === 'API token expired')).toBe(true);
  });

  it('a forged API token or bearer value: 401, no detail', async () => {
    expectOpaque(await server.apiAs({ token: `fct_${'A'.repeat(43)}` }, 'GET', '/api/v1/flows'), 401);
    expectOpaque(await server.apiAs({ token: 'x'.repeat(40) }, 'GET', '/api/v1/flows'), 401);
    expectOpaque(await server.apiAs(null, 'GET', '/api/v1/flows', undefined, { authorization: 'Basic YWRhOnB3' }), 401);
  });

  it('a forged session cookie: 401 on the API (anonymous), audited; public routes still answer', async () => {
    const cookie = `flowcrew_session=${'Z'.repeat(43)}`;
    expectOpaque(await server.apiAs(null, 'GET', '/api/v1/flows', undefined, { cookie }), 401);
    const status = await server.apiAs(null, 'GET', '/api/v1/auth/status', undefined, { cookie });
    expect(status.status).toBe(200);
    expect(status.body.user).toBeNull();
    expect((await audit(server, 'action=auth.credential')).some((e) => e.detail?.reason === 'session unknown')).toBe(true);
  });

  it('an expired session: 401, audited', async () => {
    const { credentials } = await server.userWith('carol', { projects: { default: 'viewer' } });
    // Expire it in the database (as the clock would), before the runtime has seen the cookie.
    const driver = (server.runtime.storage as SqlStorage).driver;
    await driver.writeBatch([{ sql: 'UPDATE sessions SET expires_at = 1 WHERE user_id = (SELECT id FROM users WHERE username = ?)', params: ['carol'] }]);
    expectOpaque(await server.apiAs(credentials, 'GET', '/api/v1/flows'), 401);
    expect((await audit(server, 'action=auth.credential')).some((e) => e.detail?.reason === 'session expired')).toBe(true);
  });

  it('CSRF: a valid cookie without the X-CSRF-Token, or with a wrong one, is refused (403) and audited; nothing is written', async () => {
    const { credentials } = await server.userWith('dave', { projects: { default: 'editor' } });
    const flow = (id: string) => ({ id, name: id, nodes: [{ id: 'a', type: 'inject' }] });
    const missing = await server.apiAs(null, 'POST', '/api/v1/flows', flow('csrf-1'), { cookie: credentials.cookie });
    const wrong = await server.apiAs(null, 'POST', '/api/v1/flows', flow('csrf-2'), { cookie: credentials.cookie, 'x-csrf-token': 'A'.repeat(43) });
    expectOpaque(missing, 403);
    expectOpaque(wrong, 403);
    expect((await server.api('GET', '/api/v1/flows/csrf-1')).status).toBe(404);
    expect((await server.api('GET', '/api/v1/flows/csrf-2')).status).toBe(404);
    expect((await server.apiAs(credentials, 'POST', '/api/v1/flows', flow('csrf-3'))).status).toBe(201);
    const entries = (await audit(server, 'action=auth.csrf')).filter((e) => e.actor.name === 'dave');
    expect(entries.map((e) => e.detail?.reason).sort()).toEqual(['missing CSRF token', 'wrong CSRF token']);
  });

  it('a foreign Origin on a cookie request: 403 before anything runs, audited', async () => {
    const { credentials } = await server.userWith('erin', { projects: { default: 'editor' } });
    const res = await server.apiAs(credentials, 'POST', '/api/v1/flows', { id: 'origin-1', name: 'o', nodes: [] }, { origin: 'https://attacker.example' });
    expectOpaque(res, 403);
    expect(JSON.stringify(res.body)).not.toContain('attacker');
    expect((await server.api('GET', '/api/v1/flows/origin-1')).status).toBe(404);
    expect((await audit(server, 'action=auth.csrf')).some((e) => e.detail?.origin === 'https://attacker.example')).toBe(true);
  });

  it('a foreign Host (DNS rebinding): 403 on the API, the editor and webhooks alike', async () => {
    const { port } = new URL(server.url);
    for (const path of ['/api/v1/flows', '/', '/webhook/orders', '/api/v1/health']) {
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port: Number(port), path, headers: { host: `rebind.attacker.example:${port}`, authorization: `Bearer ${server.adminToken}` }, setHost: false }, (r) => {
          let body = '';
          r.on('data', (c) => (body += c));
          r.on('end', () => resolve({ status: r.statusCode!, body }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(res.status).toBe(403);
      expect(res.body).not.toContain('attacker');
    }
  });
});
