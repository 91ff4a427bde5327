/**
 * The OAuth2 authorization code flow with PKCE against the real Keycloak 26 of `scripts/services keycloak` (its
 * realm's public client flowcrew-editor: standard flow, PKCE S256, redirect URIs http://127.0.0.1:*): consent in a
 * browser played by fetch (Keycloak's real login form), the callback storing the refresh token, then an
 * http-request node calling Keycloak's userinfo with tokens refreshed from it and the rotated refresh token written
 * back to the vault (audited as the system actor).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { KEYCLOAK_ISSUER, KEYCLOAK_USERS, keycloakUnavailable, probeKeycloak } from '../testing/keycloak.ts';

const unavailable = await probeKeycloak();
if (unavailable && process.env.CI) throw new Error(keycloakUnavailable(unavailable));
if (unavailable) console.warn(keycloakUnavailable(unavailable));

let server: TestServer;
let base: string;

beforeAll(async () => {
  if (unavailable) return;
  server = await startTestServer({ outboundAllow: ['127.0.0.1'] });
  const address = server.http.address() as { port: number };
  base = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  await server?.stop();
});

/** A browser's cookie jar for one site, enough for Keycloak's login. */
class Jar {
  private readonly cookies = new Map<string, string>();
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** Sign in on Keycloak's login page as `user` and return where Keycloak redirects the browser (our callback). */
async function consent(authorizationUrl: string, user: keyof typeof KEYCLOAK_USERS): Promise<URL> {
  const jar = new Jar();
  const page = await fetch(authorizationUrl, { redirect: 'manual' });
  jar.take(page);
  const html = await page.text();
  const action = /<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/.exec(html)?.[1];
  expect(action, 'Keycloak login form').toBeDefined();
  const login = await fetch(action!.replaceAll('&amp;', '&'), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
    body: new URLSearchParams({ username: user, password: KEYCLOAK_USERS[user], credentialId: '' }),
  });
  expect(login.status, await login.clone().text()).toBe(302);
  return new URL(login.headers.get('location')!);
}

async function credential(fields: Record<string, unknown>): Promise<string> {
  const created = await server.api('POST', '/api/v1/credentials', { name: `kc ${Math.random().toString(36).slice(2, 8)}`, type: 'http-auth', fields });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id;
}

const keycloakFields = () => ({
  allowedHosts: [new URL(KEYCLOAK_ISSUER).host],
  authorizationUrl: `${KEYCLOAK_ISSUER}/protocol/openid-connect/auth`,
  tokenUrl: `${KEYCLOAK_ISSUER}/protocol/openid-connect/token`,
  clientId: 'flowcrew-editor',
  clientAuth: 'body',
  scope: 'openid',
});

describe.skipIf(unavailable)('OAuth2 authorization code flow against a real Keycloak', () => {
  it('connects a credential by consent (PKCE, state bound to the browser), refreshes with it and writes the rotated refresh token back', async () => {
    const id = await credential(keycloakFields());
    const started = await server.api('POST', `/api/v1/credentials/${id}/oauth2/authorize`, { returnTo: '/credentials' });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const consentUrl = new URL(started.body.authorizationUrl);
    expect(consentUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(consentUrl.searchParams.get('redirect_uri')).toBe(`${base}/api/v1/oauth2/callback`);
    const binding = started.headers.getSetCookie().find((c) => c.startsWith('flowcrew_oauth2_'))!;
    expect(binding).toMatch(/HttpOnly; SameSite=Lax/);

    const back = await consent(consentUrl.href, 'erin');
    expect(back.pathname).toBe('/api/v1/oauth2/callback');
    expect(back.searchParams.get('code')).toBeTruthy();
    // The same redirect in another browser (no binding cookie) is refused, and the attempt is used up.
    const elsewhere = await fetch(back, { redirect: 'manual' });
    expect(elsewhere.status).toBe(400);
    expect((await elsewhere.json()).detail).toMatch(/started in another browser/);

    // Again, in the browser that began it.
    const again = await server.api('POST', `/api/v1/credentials/${id}/oauth2/authorize`, {});
    const cookie = again.headers.getSetCookie().find((c) => c.startsWith('flowcrew_oauth2_'))!.split(';')[0]!;
    const back2 = await consent(again.body.authorizationUrl, 'erin');
    const done = await fetch(back2, { redirect: 'manual', headers: { cookie } });
    expect(done.status, await done.clone().text()).toBe(302);
    expect(done.headers.get('location')).toBe(`/?oauth2=connected&credential=${id}`);
    const stored = (await server.runtime.vault.resolve(id))!;
    expect(stored).toMatchObject({ grantType: 'refresh_token', clientId: 'flowcrew-editor' });
    expect(typeof stored.refreshToken).toBe('string');
    // Replayed: the code and the state are single-use.
    expect((await fetch(back2, { redirect: 'manual', headers: { cookie } })).status).toBe(400);

    // A flow uses it: http-request with OAuth2 (refresh_token grant) calls Keycloak's userinfo as erin.
    const flow = {
      id: `kc-${id.slice(0, 8)}`,
      name: 'userinfo',
      nodes: [
        { id: 'go', type: 'inject', wires: [['ask']] },
        { id: 'ask', type: 'http-request', credentials: id, props: { method: 'GET', url: `${KEYCLOAK_ISSUER}/protocol/openid-connect/userinfo`, ret: 'obj', authType: 'oauth2' } },
      ],
    };
    expect((await server.api('POST', '/api/v1/flows', flow)).status).toBe(201);
    expect((await server.api('POST', `/api/v1/flows/${flow.id}/deploy`)).status).toBe(200);
    const { runId } = await server.runtime.startRun(flow.id, { input: {} });
    await server.runtime.waitForRun(runId);
    const run: any = await server.runtime.getRun(runId);
    expect(run.status, JSON.stringify(run.error ?? run)).toBe('succeeded');
    const answer = run.invocations.find((i: any) => i.nodeId === 'ask').outputs[0].msg;
    expect(answer.statusCode).toBe(200);
    expect(answer.payload.preferred_username).toBe('erin');
    // Keycloak answered the refresh with a new refresh token: stored (write-back), audited as the system actor.
    const after = (await server.runtime.vault.resolve(id))!;
    expect(after.refreshToken).not.toBe(stored.refreshToken);
    const audit = await server.api('GET', `/api/v1/audit?action=credential.`);
    const actions = audit.body.entries.filter((e: any) => e.targetId === id).map((e: any) => `${e.action} by ${e.actor.name}`);
    expect(actions).toEqual(expect.arrayContaining([expect.stringMatching(/^credential\.oauth2-connect by /), 'credential.write-back by system']));
  }, 60_000);

  it('refuses unknown states, provider errors and credentials without the flow', async () => {
    expect((await fetch(`${base}/api/v1/oauth2/callback?state=nope&code=x`, { redirect: 'manual' })).status).toBe(400);
    const id = await credential({ ...keycloakFields(), authorizationUrl: undefined });
    const missing = await server.api('POST', `/api/v1/credentials/${id}/oauth2/authorize`, {});
    expect(missing.status).toBe(422);
    expect(missing.body.detail).toMatch(/needs "authorizationUrl"/);
    const ok = await credential(keycloakFields());
    const started = await server.api('POST', `/api/v1/credentials/${ok}/oauth2/authorize`, {});
    const state = new URL(started.body.authorizationUrl).searchParams.get('state')!;
    const cookie = started.headers.getSetCookie()[0]!.split(';')[0]!;
    const denied = await fetch(`${base}/api/v1/oauth2/callback?state=${state}&error=access_denied&error_description=the+user+said+no`, { redirect: 'manual', headers: { cookie } });
    expect(denied.status).toBe(400);
    expect((await denied.json()).detail).toBe('the provider did not authorize: access_denied: the user said no');
  });
});
