import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeApi } from '../test/fake-api';
import { ApiError, api, authHooks } from './client';

describe('REST client authentication', () => {
  beforeEach(() => vi.unstubAllGlobals());
  afterEach(() => Object.assign(authHooks, { csrfToken: null, bearer: null, onUnauthorized: null }));

  it("sends the session's CSRF token on unsafe requests only", async () => {
    const calls = fakeApi({ 'GET /flows': { body: [] }, 'DELETE /flows/a': { status: 204 }, 'POST /flows/a/deploy': { body: {} } });
    authHooks.csrfToken = 'csrf-1';
    await api.listFlows();
    await api.deleteFlow('a');
    await api.deployFlow('a');
    expect(calls.called('GET /flows')[0]!.headers['x-csrf-token']).toBeUndefined();
    expect(calls.called('DELETE /flows/a')[0]!.headers['x-csrf-token']).toBe('csrf-1');
    expect(calls.called('POST /flows/a/deploy')[0]!.headers['x-csrf-token']).toBe('csrf-1');
  });

  it('sends a fresh bearer token on every request when signed in through the provider (no CSRF token needed)', async () => {
    const calls = fakeApi({ 'GET /flows': { body: [] }, 'POST /flows/a/deploy': { body: {} } });
    let n = 0;
    authHooks.csrfToken = 'csrf-1';
    authHooks.bearer = async () => `token-${++n}`;
    await api.listFlows();
    await api.deployFlow('a');
    expect(calls.calls.map((c) => c.headers.authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
    expect(calls.called('POST /flows/a/deploy')[0]!.headers['x-csrf-token']).toBeUndefined();
  });

  it('sends the cookie along (same-origin) on every request', async () => {
    const seen: RequestInit[] = [];
    vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => (seen.push(init), new Response('[]', { status: 200 })));
    await api.listFlows();
    expect(seen[0]!.credentials).toBe('same-origin');
  });

  it('reports a 401 from the API as a lost session, but not a wrong password at sign-in', async () => {
    const unauthorized = { title: 'Unauthorized', status: 401 };
    fakeApi({ 'GET /flows': { status: 401, body: unauthorized }, 'POST /auth/login': { status: 401, body: unauthorized } });
    const lost = vi.fn();
    authHooks.onUnauthorized = lost;
    await expect(api.login('ada', 'wrong')).rejects.toBeInstanceOf(ApiError);
    expect(lost).not.toHaveBeenCalled();
    await expect(api.listFlows()).rejects.toMatchObject({ status: 401 });
    expect(lost).toHaveBeenCalledTimes(1);
  });
});
