/**
 * "Connect" on a Salesforce credential (flow web-server): the runtime's OAuth2 authorization code flow with PKCE
 * against a local stand-in of Salesforce's /services/oauth2/authorize and token endpoints (Salesforce cannot run
 * here; its consent page answers at once, as if the user allowed the app), the refresh token stored in the vault,
 * and then Test connection signing in with it through the real jsforce client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredential, startRuntime, type TestServer } from '../../../db/src/shared/runtime-testing.ts';
import { SalesforceStandIn } from './testing/stand-in.ts';

const app = { clientId: '3MVG9-web-app', clientSecret: 'web-secret-1', username: 'integration@example.com', password: 'unused', refreshToken: '5Aep-web-refresh-1' };
let sf: SalesforceStandIn;
let server: TestServer;

beforeAll(async () => {
  sf = await new SalesforceStandIn(app).start();
  server = await startRuntime();
});
afterAll(async () => {
  await server?.stop();
  await sf?.close();
});

describe('salesforce web-server flow against a local stand-in of the Salesforce OAuth 2.0 endpoints', () => {
  it('connects a credential by consent (PKCE) and signs in with the stored refresh token', async () => {
    const id = await createCredential(server, 'salesforce', { flow: 'web-server', loginUrl: sf.url, clientId: app.clientId, clientSecret: app.clientSecret });
    const before = await server.api('POST', `/api/v1/credentials/${id}/test`, {});
    expect(before.body).toMatchObject({ ok: false, message: expect.stringContaining('not connected yet') });

    const started = await server.api('POST', `/api/v1/credentials/${id}/oauth2/authorize`, {});
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const consent = new URL(started.body.authorizationUrl);
    expect(`${consent.origin}${consent.pathname}`).toBe(`${sf.url}/services/oauth2/authorize`);
    expect(consent.searchParams.get('scope')).toBe('api refresh_token');
    const cookie = started.headers.getSetCookie()[0]!.split(';')[0]!;
    const redirect = await fetch(consent, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const done = await fetch(redirect.headers.get('location')!, { redirect: 'manual', headers: { cookie } });
    expect(done.status, await done.clone().text()).toBe(302);
    expect((await server.runtime.vault.resolve(id))!).toMatchObject({ flow: 'web-server', refreshToken: app.refreshToken });

    const after = await server.api('POST', `/api/v1/credentials/${id}/test`, {});
    expect(after.body).toMatchObject({ ok: true, message: expect.stringContaining('as integration@example.com') });
  });
});
