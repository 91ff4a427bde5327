/**
 * Access control as users meet it: the first-admin setup, projects keeping their flows, runs and credentials to
 * themselves (a 404 that reads exactly like a made-up id), viewers who cannot deploy, CSRF on cookie sessions, API
 * tokens shown once and bounded by their scopes, Socket.IO subscriptions, and the audit trail of every change.
 */
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type Credentials, type TestServer } from '../testing/server.ts';

let server: TestServer;
let editorA: Credentials;
let viewerA: Credentials;
const flowDoc = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: id,
  nodes: [{ id: 'go', type: 'inject', wires: [['out']] }, { id: 'out', type: 'debug', ...extra }],
});

beforeAll(async () => {
  server = await startTestServer();
  for (const id of ['team-a', 'team-b']) expect((await server.api('POST', '/api/v1/projects', { id, name: id })).status).toBe(201);
  editorA = (await server.userWith('ed-a', { projects: { 'team-a': 'editor' } })).credentials;
  viewerA = (await server.userWith('view-a', { projects: { 'team-a': 'viewer' } })).credentials;
  // Project B's things, made by the admin.
  expect((await server.api('POST', '/api/v1/flows', { ...flowDoc('b-flow'), projectId: 'team-b' })).status).toBe(201);
  expect((await server.api('POST', '/api/v1/flows/b-flow/deploy')).status).toBe(200);
  expect((await server.api('POST', '/api/v1/flows', { ...flowDoc('a-flow'), projectId: 'team-a' })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

/** The body of a 404 with the id replaced, to compare a hidden thing with a missing one. */
const shape = (body: { detail: string }, id: string) => ({ ...body, detail: body.detail.replace(id, '<id>') });

describe('without credentials', () => {
  it('answers 401 problem+json saying only that authentication is required, on every non-public route', async () => {
    for (const [method, path] of [['GET', '/api/v1/flows'], ['GET', '/api/v1/credentials'], ['POST', '/api/v1/flows/b-flow/deploy'], ['GET', '/api/v1/audit']] as const) {
      const res = await server.apiAs(null, method, path);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(res.body).toEqual({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: expect.stringMatching(/^authentication required/) });
    }
  });

  it('refuses a forged or unknown bearer token with a 401 that says nothing about why', async () => {
    for (const token of ['fct_' + 'x'.repeat(43), 'not-a-token', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.']) {
      const res = await server.apiAs({ token }, 'GET', '/api/v1/flows');
      expect(res.status).toBe(401);
      expect(JSON.stringify(res.body)).not.toMatch(/expired|revoked|unknown|malformed|signature|alg/i);
    }
  });

  it('keeps the health check public but says no more than "ok" to strangers', async () => {
    const anonymous = await server.apiAs(null, 'GET', '/api/v1/health');
    expect(anonymous.status).toBe(200);
    expect(Object.keys(anonymous.body).sort()).toEqual(['status', 'uptimeSeconds']);
    const admin = await server.api('GET', '/api/v1/health');
    expect(admin.body).toHaveProperty('nodePacks');
  });
});

describe('first admin', () => {
  it('only health, the API document, status and setup answer until the first admin exists; setup works once', async () => {
    const fresh = await startTestServer();
    try {
      expect((await fresh.apiAs(null, 'GET', '/api/v1/auth/status')).body).toMatchObject({ setupRequired: true, user: null });
      expect((await fresh.apiAs(null, 'GET', '/api/v1/flows')).status).toBe(401);
      const setup = await fresh.apiAs(null, 'POST', '/api/v1/auth/setup', { username: 'first', password: 'first admin passphrase 9' });
      expect(setup.status).toBe(201);
      expect(setup.body).toMatchObject({ username: 'first', instanceRole: 'admin', projects: { default: 'owner' } });
      expect(setup.headers.get('set-cookie')).toMatch(/HttpOnly/i);
      const again = await fresh.apiAs(null, 'POST', '/api/v1/auth/setup', { username: 'second', password: 'second admin passphrase 9' });
      expect(again.status).toBe(409);
      const session = await fresh.signIn('first', 'first admin passphrase 9');
      const status = await fresh.apiAs(session, 'GET', '/api/v1/auth/status');
      expect(status.body).toMatchObject({ setupRequired: false, user: { username: 'first' }, csrfToken: expect.any(String) });
    } finally {
      await fresh.stop();
    }
  });
});

describe('projects keep their things to themselves', () => {
  it("an editor of project A gets the same 404 for project B's flow as for a flow that does not exist", async () => {
    for (const [method, suffix, body] of [
      ['GET', '', undefined],
      ['GET', '/export', undefined],
      ['GET', '/debug', undefined],
      ['PUT', '', flowDoc('b-flow')],
      ['DELETE', '', undefined],
      ['POST', '/deploy', undefined],
      ['POST', '/runs', {}],
    ] as const) {
      const hidden = await server.apiAs(editorA, method, `/api/v1/flows/b-flow${suffix}`, body);
      const missing = await server.apiAs(editorA, method, `/api/v1/flows/no-such-flow${suffix}`, method === 'PUT' ? flowDoc('no-such-flow') : body);
      expect(hidden.status, `${method} ${suffix}`).toBe(404);
      expect(shape(hidden.body, 'b-flow'), `${method} ${suffix}`).toEqual(shape(missing.body, 'no-such-flow'));
    }
    expect((await server.api('GET', '/api/v1/flows/b-flow')).body.deployed).toBe(true); // untouched
    const listed = (await server.apiAs(editorA, 'GET', '/api/v1/flows')).body.map((f: { id: string }) => f.id);
    expect(listed).toContain('a-flow');
    expect(listed).not.toContain('b-flow');
  });

  it("an editor of project A can neither read nor find project B's runs and credentials", async () => {
    const started = await server.api('POST', '/api/v1/flows/b-flow/runs', { input: { payload: 'secret-b' } });
    const run = await server.waitRun(started.body.runId);
    expect(run.projectId).toBe('team-b');
    const hiddenRun = await server.apiAs(editorA, 'GET', `/api/v1/runs/${run.id}`);
    const missingRun = await server.apiAs(editorA, 'GET', '/api/v1/runs/00000000-0000-0000-0000-000000000000');
    expect(hiddenRun.status).toBe(404);
    expect(shape(hiddenRun.body, run.id)).toEqual(shape(missingRun.body, '00000000-0000-0000-0000-000000000000'));
    expect((await server.apiAs(editorA, 'POST', `/api/v1/runs/${run.id}/rerun`)).status).toBe(404);
    expect((await server.apiAs(editorA, 'GET', '/api/v1/runs?flowId=b-flow')).body).toEqual([]);
    expect(JSON.stringify((await server.apiAs(editorA, 'GET', '/api/v1/runs')).body)).not.toContain('secret-b');

    const credential = await server.api('POST', '/api/v1/credentials', { name: 'b-key', type: 'http-auth', fields: { token: 'tok-b' }, projectId: 'team-b' });
    expect(credential.status).toBe(201);
    const hiddenCredential = await server.apiAs(editorA, 'GET', `/api/v1/credentials/${credential.body.id}`);
    const missingCredential = await server.apiAs(editorA, 'GET', '/api/v1/credentials/nope');
    expect(hiddenCredential.status).toBe(404);
    expect(shape(hiddenCredential.body, credential.body.id)).toEqual(shape(missingCredential.body, 'nope'));
    expect((await server.apiAs(editorA, 'PATCH', `/api/v1/credentials/${credential.body.id}`, { name: 'mine now' })).status).toBe(404);
    expect((await server.apiAs(editorA, 'DELETE', `/api/v1/credentials/${credential.body.id}`)).status).toBe(404);
    expect((await server.apiAs(editorA, 'GET', '/api/v1/credentials')).body.map((c: { id: string }) => c.id)).not.toContain(credential.body.id);

    // Nor can a flow of project A borrow it.
    const borrow = await server.apiAs(editorA, 'POST', '/api/v1/flows', { ...flowDoc('a-borrower'), projectId: 'team-a', nodes: [{ id: 'get', type: 'http-request', credentials: credential.body.id, props: { url: 'https://example.com' } }] });
    expect(borrow.status).toBe(422);
    expect(borrow.body.errors).toEqual([expect.objectContaining({ pointer: '/nodes/0/credentials' })]);
    expect(JSON.stringify(borrow.body)).not.toMatch(/team-b|b-key|http-auth/);
    // An import says no more: not even the credential's type, which a type mismatch would otherwise name.
    const debugNode = { id: 'show', type: 'debug', credentials: credential.body.id };
    const imported = await server.apiAs(editorA, 'POST', '/api/v1/flows/import?projectId=team-a', [flowDoc('a-import-ok'), { ...flowDoc('a-import-borrower'), nodes: [debugNode] }]);
    expect(imported.status).toBe(422);
    expect(imported.body.errors).toEqual([expect.objectContaining({ pointer: '/1/nodes/0/credentials' })]);
    expect(JSON.stringify(imported.body)).not.toMatch(/team-b|b-key|http-auth/);
    expect((await server.api('GET', '/api/v1/flows/a-import-ok')).status).toBe(404);
    const checked = await server.apiAs(editorA, 'POST', '/api/v1/flows/validate', { ...flowDoc('a-check'), nodes: [debugNode] });
    expect(checked.body).toEqual({ valid: false, issues: [expect.objectContaining({ pointer: '/nodes/0/credentials' })], warnings: [] });
    expect(JSON.stringify(checked.body)).not.toMatch(/team-b|b-key|http-auth/);
  });

  it('an editor cannot create things in a project they are not in (404: it does not exist for them)', async () => {
    const flow = await server.apiAs(editorA, 'POST', '/api/v1/flows', { ...flowDoc('a-into-b'), projectId: 'team-b' });
    const nowhere = await server.apiAs(editorA, 'POST', '/api/v1/flows', { ...flowDoc('a-into-x'), projectId: 'no-such-project' });
    expect(flow.status).toBe(404);
    expect(shape(flow.body, 'team-b')).toEqual(shape(nowhere.body, 'no-such-project'));
    expect((await server.apiAs(editorA, 'GET', '/api/v1/projects/team-b')).status).toBe(404);
    expect((await server.apiAs(editorA, 'GET', '/api/v1/projects')).body.map((p: { id: string }) => p.id)).toEqual(['team-a']);
  });
});

describe('roles within a project', () => {
  it('a viewer trying to deploy gets 403 and the flow stays undeployed', async () => {
    const res = await server.apiAs(viewerA, 'POST', '/api/v1/flows/a-flow/deploy');
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.detail).toMatch(/flow:deploy/);
    expect((await server.api('GET', '/api/v1/flows/a-flow')).body.deployed).toBe(false);
    expect((await server.apiAs(viewerA, 'GET', '/api/v1/flows/a-flow')).status).toBe(200);
  });

  it('a session needs its CSRF token for unsafe requests', async () => {
    const { cookie, csrfToken } = editorA as { cookie: string; csrfToken: string };
    const without = await server.apiAs(null, 'POST', '/api/v1/flows/a-flow/deploy', undefined, { cookie });
    expect(without.status).toBe(403);
    expect(without.body.detail).toMatch(/CSRF/);
    const wrong = await server.apiAs(null, 'POST', '/api/v1/flows/a-flow/deploy', undefined, { cookie, 'x-csrf-token': `${csrfToken}x` });
    expect(wrong.status).toBe(403);
    expect((await server.apiAs(editorA, 'POST', '/api/v1/flows/a-flow/deploy')).status).toBe(200);
  });
});

describe('API tokens', () => {
  it('shows the secret once, never in lists, works within its scopes, and stops at once when revoked', async () => {
    const owner = (await server.userWith('own-a', { projects: { 'team-a': 'owner' } })).credentials;
    const created = await server.apiAs(owner, 'POST', '/api/v1/tokens', { name: 'ci', projectId: 'team-a', permissions: ['flow:read', 'run:start'] });
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^fct_/);
    const listed = await server.apiAs(owner, 'GET', '/api/v1/tokens?projectId=team-a');
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect(listed.body.map((t: { id: string }) => t.id)).toContain(created.body.token.id);

    const token = { token: secret };
    expect((await server.apiAs(token, 'GET', '/api/v1/flows/a-flow')).status).toBe(200);
    expect((await server.apiAs(token, 'POST', '/api/v1/flows/a-flow/undeploy')).status).toBe(403);
    expect((await server.apiAs(token, 'GET', '/api/v1/flows/b-flow')).status).toBe(404);
    expect((await server.apiAs(token, 'POST', '/api/v1/tokens', { name: 'child', projectId: 'team-a', permissions: ['flow:read'] })).status).toBe(403);

    // Not beyond its creator: an editor of team-a cannot mint tokens at all, an owner not with instance powers.
    expect((await server.apiAs(editorA, 'POST', '/api/v1/tokens', { name: 'x', projectId: 'team-a', permissions: ['flow:read'] })).status).toBe(403);
    expect((await server.apiAs(owner, 'POST', '/api/v1/tokens', { name: 'x', projectId: 'team-a', permissions: ['user:manage'] })).status).toBe(422);

    expect((await server.apiAs(owner, 'DELETE', `/api/v1/tokens/${created.body.token.id}`)).status).toBe(204);
    const after = await server.apiAs(token, 'GET', '/api/v1/flows/a-flow');
    expect(after.status).toBe(401);
    expect(JSON.stringify(after.body)).not.toMatch(/revoked/i);
  });
});

describe('Socket.IO', () => {
  const open = (auth: Record<string, string>, headers: Record<string, string> = {}) =>
    connect(server.url, { transports: ['websocket'], auth, extraHeaders: headers, reconnection: false });

  it('refuses an anonymous connection', async () => {
    const socket = open({});
    const error = await new Promise<Error>((resolve) => socket.on('connect_error', resolve));
    expect(error.message).toMatch(/unauthorized/);
    socket.close();
  });

  it("refuses a subscription to a flow or run the user may not see, exactly like a missing one, and sends it none of that flow's events", async () => {
    const socket: Socket = open({}, { cookie: (editorA as { cookie: string }).cookie });
    await new Promise<void>((resolve, reject) => {
      socket.on('connect', resolve);
      socket.on('connect_error', reject);
    });
    const ask = (target: unknown) => new Promise<{ ok: boolean; error?: string }>((resolve) => socket.emit('subscribe', target, resolve));
    const hidden = await ask({ flowId: 'b-flow' });
    const missing = await ask({ flowId: 'nope' });
    expect(hidden.ok).toBe(false);
    expect(hidden.error!.replace('b-flow', '<id>')).toBe(missing.error!.replace('nope', '<id>'));
    const bRun = (await server.api('GET', '/api/v1/runs?flowId=b-flow&limit=1')).body[0];
    expect((await ask({ runId: bRun.id })).ok).toBe(false);
    expect(await ask({ flowId: 'a-flow' })).toMatchObject({ ok: true });

    const seen: Array<{ flowId: string }> = [];
    socket.onAny((_event, payload: { flowId: string }) => seen.push(payload));
    const started = await server.api('POST', '/api/v1/flows/b-flow/runs', { input: { payload: 'for b only' } });
    await server.waitRun(started.body.runId);
    const own = await server.apiAs(editorA, 'POST', '/api/v1/flows/a-flow/runs', {});
    await server.waitRun(own.body.runId);
    await new Promise((r) => setTimeout(r, 100));
    socket.close();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((e) => e.flowId === 'a-flow')).toBe(true);
  });
});

describe('Socket.IO after the handshake', () => {
  it('drops a subscription when the role is taken away, and the connection when the session ends', async () => {
    const live = await startTestServer({}, { liveRecheckMs: 100 });
    try {
      await live.api('POST', '/api/v1/flows', flowDoc('watched'));
      await live.api('POST', '/api/v1/flows/watched/deploy');
      const watcher = await live.userWith('watcher', { projects: { default: 'viewer' } });
      const { cookie } = watcher.credentials as { cookie: string };
      const socket = connect(live.url, { transports: ['websocket'], extraHeaders: { cookie }, reconnection: false });
      await new Promise<void>((resolve, reject) => {
        socket.on('connect', resolve);
        socket.on('connect_error', reject);
      });
      expect(await new Promise((resolve) => socket.emit('subscribe', { flowId: 'watched' }, resolve))).toMatchObject({ ok: true });
      const seen: string[] = [];
      socket.on('run:finished', (e: { runId: string }) => seen.push(e.runId));
      const first = await live.api('POST', '/api/v1/flows/watched/runs', {});
      await live.waitRun(first.body.runId);
      await expect.poll(() => seen).toContain(first.body.runId);

      const dropped = new Promise<{ room: string; reason: string }>((resolve) => socket.on('subscription:dropped', resolve));
      expect((await live.api('DELETE', `/api/v1/projects/default/members/${watcher.id}`)).status).toBe(204);
      // The next re-check (every 100 ms here) drops the room and says so.
      expect(await dropped).toEqual({ room: 'flow:watched', reason: 'no longer allowed: flow:read' });
      const second = await live.api('POST', '/api/v1/flows/watched/runs', {});
      await live.waitRun(second.body.runId);
      await new Promise((r) => setTimeout(r, 100));
      expect(seen).not.toContain(second.body.runId);

      const disconnected = new Promise<string>((resolve) => socket.on('disconnect', resolve));
      expect((await live.apiAs(watcher.credentials, 'POST', '/api/v1/auth/logout')).status).toBe(204);
      expect(await disconnected).toBe('io server disconnect');
      socket.close();
    } finally {
      await live.stop();
    }
  });
});

describe('audit trail', () => {
  it('records who changed which flow and credential, when and from where (never a secret value)', async () => {
    await server.apiAs(editorA, 'PUT', '/api/v1/flows/a-flow', { ...flowDoc('a-flow'), name: 'renamed' });
    const cred = await server.apiAs(editorA, 'POST', '/api/v1/credentials', { name: 'a-key', type: 'http-auth', fields: { token: 'very-secret-value' }, projectId: 'team-a' });
    await server.apiAs(editorA, 'PATCH', `/api/v1/credentials/${cred.body.id}`, { fields: { token: 'another-secret' } });
    await server.apiAs(editorA, 'DELETE', `/api/v1/credentials/${cred.body.id}`);
    const page = await server.api('GET', '/api/v1/audit?limit=200');
    const mine = (page.body.entries as Array<{ action: string; actor: { name: string }; ip: string; projectId: string; at: number }>).filter((e) => e.actor.name === 'ed-a' && /^(flow|credential)\./.test(e.action));
    const actions = mine.map((e) => e.action);
    for (const action of ['flow.update', 'flow.deploy', 'credential.create', 'credential.update', 'credential.delete']) expect(actions, action).toContain(action);
    expect(mine.every((e) => e.ip && e.projectId === 'team-a' && e.at > 0)).toBe(true);
    expect(JSON.stringify(page.body)).not.toMatch(/very-secret-value|another-secret/);
    const exported = await server.api('GET', '/api/v1/audit/export?action=credential.');
    expect(exported.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (exported.body as string).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.every((l: { action: string }) => l.action.startsWith('credential.'))).toBe(true);
    expect((await server.apiAs(editorA, 'GET', '/api/v1/audit')).status).toBe(403);
  });

  it('records refused attempts at identity routes (a member probing for admin powers)', async () => {
    expect((await server.apiAs(viewerA, 'GET', '/api/v1/users')).status).toBe(403);
    expect((await server.apiAs(viewerA, 'POST', '/api/v1/projects', { name: 'mine' })).status).toBe(403);
    const denied = (await server.api('GET', '/api/v1/audit?outcome=denied&limit=100')).body.entries as Array<{ action: string; actor: { name: string }; targetId: string | null }>;
    const probes = denied.filter((e) => e.actor.name === 'view-a' && e.action === 'access.denied').map((e) => e.targetId);
    expect(probes).toEqual(expect.arrayContaining(['GET /users', 'POST /projects']));
  });
});
