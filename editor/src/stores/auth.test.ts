import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { api, authHooks } from '../api/client';
import type { AuthStatus, UserView } from '../api/types';
import type { OidcClient, OidcSession } from '../lib/oidc';
import { fakeApi, type Route } from '../test/fake-api';
import { flowView } from '../test/fixtures';
import { useAuthStore } from './auth';
import { useFlowsStore } from './flows';

const ada: UserView = { id: 'u1', username: 'ada', name: 'Ada Lovelace', instanceRole: 'admin', disabled: false, projects: { default: 'owner' }, createdAt: 1, updatedAt: 1, lastLoginAt: null };
const status = (over: Partial<AuthStatus> = {}): AuthStatus => ({ setupRequired: false, user: null, oidc: null, ...over });
const problem = (status: number, title: string) => ({ status, body: { title, status } });
const keycloak = { issuer: 'http://127.0.0.1:8180/realms/flowcrew', clientId: 'flowcrew-editor', url: 'http://127.0.0.1:8180', realm: 'flowcrew' };

/** A stand-in for keycloak-js (the real one runs in the end-to-end test against a real Keycloak). */
function provider(session: Partial<OidcSession> | null, mayRedirect = true) {
  const calls = { login: 0, logout: 0 };
  let n = 0;
  const client: OidcClient = {
    start: async () =>
      session && { username: 'erin', name: 'Erin Editor', token: async () => `access-${++n}`, logout: async () => void calls.logout++, ...session },
    login: async () => void calls.login++,
    mayRedirect: () => mayRedirect,
  };
  return { client: () => client, calls };
}

describe('auth store', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
    localStorage.clear();
  });
  afterEach(() => Object.assign(authHooks, { csrfToken: null, bearer: null, onUnauthorized: null }));

  it('asks for the first admin while the runtime has no user, then is signed in with its CSRF token', async () => {
    let signedIn = false;
    const calls = fakeApi({
      'GET /auth/status': () => ({ body: signedIn ? status({ user: ada, csrfToken: 'csrf-A' }) : status({ setupRequired: true }) }),
      'POST /auth/setup': () => ((signedIn = true), { status: 201, body: ada }),
      'POST /flows/x/deploy': { body: flowView() },
    });
    const auth = useAuthStore();
    await auth.init();
    expect(auth.phase).toBe('setup');
    expect(await auth.setup({ username: 'ada', password: 'correct horse battery', name: 'Ada Lovelace' })).toBe(true);
    expect(calls.called('POST /auth/setup')[0]!.body).toEqual({ username: 'ada', password: 'correct horse battery', name: 'Ada Lovelace' });
    expect(auth.phase).toBe('signed-in');
    expect(auth.user).toMatchObject({ username: 'ada', name: 'Ada Lovelace', via: 'password', instanceRole: 'admin' });
    await api.deployFlow('x');
    expect(calls.called('POST /flows/x/deploy')[0]!.headers['x-csrf-token']).toBe('csrf-A');
  });

  it('goes to sign-in when someone else created the first admin meanwhile', async () => {
    fakeApi({ 'GET /auth/status': { body: status({ setupRequired: true }) }, 'POST /auth/setup': problem(409, 'Conflict') });
    const auth = useAuthStore();
    await auth.init();
    expect(await auth.setup({ username: 'ada', password: 'correct horse battery' })).toBe(false);
    expect(auth.phase).toBe('sign-in');
    expect(auth.error).toMatch(/already exists/);
  });

  it('signs in with a password, and says why not without revealing which part was wrong', async () => {
    let reply: Route = problem(401, 'Unauthorized');
    let signedIn = false;
    fakeApi({
      'GET /auth/status': () => ({ body: status(signedIn ? { user: ada, csrfToken: 'c' } : {}) }),
      'POST /auth/login': () => (typeof reply === 'function' ? reply({} as never) : reply),
    });
    const auth = useAuthStore();
    await auth.init();
    expect(auth.phase).toBe('sign-in');
    expect(await auth.login('ada', 'nope')).toBe(false);
    expect(auth.error).toBe('Wrong username or password.');
    reply = problem(423, 'Locked');
    await auth.login('ada', 'nope');
    expect(auth.error).toMatch(/locked/);
    reply = problem(429, 'Too Many Requests');
    await auth.login('ada', 'nope');
    expect(auth.error).toMatch(/Too many attempts/);
    reply = () => ((signedIn = true), { body: ada });
    expect(await auth.login('ada', 'right password')).toBe(true);
    expect(auth.phase).toBe('signed-in');
    expect(auth.error).toBeNull();
  });

  it('is signed in straight away with a live session cookie', async () => {
    fakeApi({ 'GET /auth/status': { body: status({ user: ada, csrfToken: 'c' }) } });
    const auth = useAuthStore();
    await auth.init();
    expect(auth.phase).toBe('signed-in');
    expect(authHooks.csrfToken).toBe('c');
  });

  it('shows sign-in again on a 401, keeping the working copies, and carries on after signing in', async () => {
    let sessionAlive = true;
    fakeApi({
      'GET /auth/status': () => ({ body: status({ user: sessionAlive ? ada : null, csrfToken: sessionAlive ? 'c2' : undefined }) }),
      'GET /flows': () => (sessionAlive ? { body: [flowView()] } : problem(401, 'Unauthorized')),
      'GET /flows/orders': { body: flowView() },
      'POST /auth/login': () => ((sessionAlive = true), { body: ada }),
    });
    const auth = useAuthStore();
    const flows = useFlowsStore();
    await auth.init();
    await flows.openFlow('orders');
    flows.rename('orders', 'Orders (unsaved)');
    sessionAlive = false;
    await flows.loadList();
    expect(auth.phase).toBe('sign-in');
    expect(auth.notice).toMatch(/unsaved changes are kept/);
    expect(flows.active?.doc.name).toBe('Orders (unsaved)');
    expect(await auth.login('ada', 'right password')).toBe(true);
    expect(auth.phase).toBe('signed-in');
    expect(auth.notice).toBeNull();
    expect(flows.active?.doc.name).toBe('Orders (unsaved)');
  });

  it('signs out: the session ends at the runtime and the CSRF token is forgotten', async () => {
    const calls = fakeApi({ 'GET /auth/status': { body: status({ user: ada, csrfToken: 'c' }) }, 'POST /auth/logout': { status: 204 } });
    const auth = useAuthStore();
    await auth.init();
    await auth.logout();
    expect(calls.called('POST /auth/logout')[0]!.headers['x-csrf-token']).toBe('c');
    expect(auth.phase).toBe('sign-in');
    expect(auth.user).toBeNull();
    expect(authHooks.csrfToken).toBeNull();
  });

  it('changes the password and picks up the new session token', async () => {
    let csrf = 'old';
    const calls = fakeApi({
      'GET /auth/status': () => ({ body: status({ user: ada, csrfToken: csrf }) }),
      'POST /auth/password': () => ((csrf = 'new'), { status: 204 }),
    });
    const auth = useAuthStore();
    await auth.init();
    await auth.changePassword('old password 1', 'new password 2');
    expect(calls.called('POST /auth/password')[0]!.body).toEqual({ currentPassword: 'old password 1', newPassword: 'new password 2' });
    expect(calls.called('POST /auth/password')[0]!.headers['x-csrf-token']).toBe('old');
    expect(authHooks.csrfToken).toBe('new');
  });

  describe('with an OIDC provider', () => {
    it('sends the browser to the provider when not signed in there', async () => {
      fakeApi({ 'GET /auth/status': { body: status({ oidc: keycloak, setupRequired: true }) } });
      const { client, calls } = provider(null);
      const auth = useAuthStore();
      await auth.init({ oidcClient: client });
      expect(calls.login).toBe(1);
      expect(auth.phase).toBe('redirecting');
    });

    it('does not loop: back from the provider without a session, it offers the button', async () => {
      fakeApi({ 'GET /auth/status': { body: status({ oidc: keycloak }) } });
      const { client, calls } = provider(null, false);
      const auth = useAuthStore();
      await auth.init({ oidcClient: client });
      expect(calls.login).toBe(0);
      expect(auth.phase).toBe('sign-in');
      await auth.loginWithProvider();
      expect(calls.login).toBe(1);
    });

    it('signs in with the access token as bearer, and signs out through the provider', async () => {
      const calls = fakeApi({ 'GET /auth/status': { body: status({ oidc: keycloak }) }, 'GET /flows': { body: [] } });
      const { client, calls: provided } = provider({});
      const auth = useAuthStore();
      await auth.init({ oidcClient: client });
      expect(auth.phase).toBe('signed-in');
      expect(auth.user).toEqual({ username: 'erin', name: 'Erin Editor', via: 'oidc' });
      expect(auth.canChangePassword).toBe(false);
      await api.listFlows();
      expect(calls.called('GET /flows').map((c) => c.headers.authorization)).toEqual(['Bearer access-1', 'Bearer access-2']);
      await auth.logout();
      expect(provided.logout).toBe(1);
      expect(authHooks.bearer).toBeNull();
      expect(calls.called('POST /auth/logout')).toHaveLength(0);
    });

    it('says so when the account has no Flowcrew role (403)', async () => {
      fakeApi({ 'GET /auth/status': { body: status({ oidc: keycloak }) }, 'GET /flows': problem(403, 'Forbidden') });
      const auth = useAuthStore();
      await auth.init({ oidcClient: provider({ username: 'nora', name: 'Nora' }).client });
      expect(auth.phase).toBe('no-access');
      expect(auth.user?.username).toBe('nora');
    });

    it('still offers the local form at ?local', async () => {
      fakeApi({ 'GET /auth/status': { body: status({ oidc: keycloak }) } });
      const { client, calls } = provider(null);
      const auth = useAuthStore();
      await auth.init({ oidcClient: client, local: true });
      expect(auth.phase).toBe('sign-in');
      expect(auth.local).toBe(true);
      expect(calls.login).toBe(0);
    });
  });

  it('tells when the runtime cannot be reached', async () => {
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch');
    });
    const auth = useAuthStore();
    await auth.init();
    expect(auth.phase).toBe('unreachable');
    expect(auth.error).toMatch(/Failed to fetch/);
  });
});
