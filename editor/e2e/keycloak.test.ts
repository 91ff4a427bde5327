/**
 * End to end with the REAL Keycloak 26 realm that scripts/services starts (docker/keycloak/flowcrew-realm.json): the
 * editor on a runtime configured for it sends the browser to Keycloak's login page (authorization code + PKCE),
 * comes back signed in, loads flows with the access token as bearer (REST and Socket.IO), refreshes the token before
 * it expires, signs out through Keycloak; a realm user without a Flowcrew role is refused.
 * Screenshots in test-artifacts/e2e/ (keycloak-*).
 */
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYCLOAK_ISSUER, KEYCLOAK_USERS, keycloakOidcConfig, keycloakUnavailable, probeKeycloak } from '../../runtime/src/testing/keycloak.ts';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { launchBrowser, screenshot } from './browser.ts';

const unreachable = await probeKeycloak();
const LOGIN_PAGE = new RegExp(`^${KEYCLOAK_ISSUER.replace(/[.]/g, '\\.')}/protocol/openid-connect/auth`);

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let step = 0;
const pageErrors: string[] = [];
const requests: Request[] = [];
const shot = (name: string) => screenshot(page, 'e2e', `keycloak-${String(++step).padStart(2, '0')}-${name}`);

async function keycloakLogin(user: keyof typeof KEYCLOAK_USERS): Promise<void> {
  await page.waitForURL(LOGIN_PAGE, { timeout: 30_000 });
  await page.locator('#username').waitFor();
  await page.fill('#username', user);
  await page.fill('#password', KEYCLOAK_USERS[user]);
  await page.click('#kc-login');
  await page.waitForURL((url) => url.origin === new URL(server.url).origin, { timeout: 30_000 });
}

const apiCalls = (path: string) => requests.filter((r) => new URL(r.url()).pathname === `/api/v1${path}`);

const suite = unreachable ? (process.env.CI ? describe : describe.skip) : describe;
if (unreachable && !process.env.CI) console.warn(`[keycloak e2e] SKIPPED: ${keycloakUnavailable(unreachable)}`);

suite('signing in to the editor with Keycloak', () => {
  beforeAll(async () => {
    if (unreachable) throw new Error(keycloakUnavailable(unreachable));
    server = await startTestServer({ oidc: keycloakOidcConfig() });
    // A flow in the default project (erin edits there) and one in a project erin has no role in.
    expect((await server.api('POST', '/api/v1/flows', { format: 'flowcrew/flow@1', id: 'kc-orders', name: 'Keycloak orders', nodes: [] })).status).toBe(201);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    // A clock the test can move on (to see the token refreshed before expiry); it runs at normal speed meanwhile.
    await context.clock.install();
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('request', (request) => void requests.push(request));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("sends the browser to Keycloak's login page", async () => {
    await page.goto(`${server.url}/#/flows/kc-orders`);
    await page.waitForURL(LOGIN_PAGE, { timeout: 30_000 });
    const login = new URL(page.url());
    expect(login.searchParams.get('client_id')).toBe('flowcrew-editor');
    expect(login.searchParams.get('response_type')).toBe('code');
    expect(login.searchParams.get('code_challenge_method')).toBe('S256');
    expect(login.searchParams.get('code_challenge')).toBeTruthy();
    expect(login.searchParams.get('redirect_uri')).toBe(`${server.url}/`);
    await page.locator('#username').waitFor();
    await shot('login-page');
  });

  it('comes back signed in, on the flow it was opening, and loads flows with the access token', async () => {
    await keycloakLogin('erin');
    await page.locator('[data-test="account-name"]').filter({ hasText: 'Erin Editor' }).waitFor({ timeout: 30_000 });
    await page.locator('[data-test="flow-tab-kc-orders"]').waitFor();
    expect(page.url()).toBe(`${server.url}/#/flows/kc-orders`); // the code and state are gone from the address
    const listed = apiCalls('/flows').filter((r) => r.method() === 'GET');
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.at(-1)!.headers().authorization).toMatch(/^Bearer ey/);
    // The live connection's handshake is authenticated with the token too.
    await page.locator('[data-test="connection"]').filter({ hasText: 'live' }).waitFor();
    await page.click('[data-test="account-button"]');
    expect(await page.locator('[data-test="account-menu"]').innerText()).toContain('signed in with Keycloak');
    expect(await page.locator('[data-test="change-password"]').count()).toBe(0);
    await shot('signed-in');
    await page.click('[data-test="account-button"]');
  });

  it('can work on the flow: saving is authorised by the token (no cookie, no CSRF token needed)', async () => {
    await page.dragAndDrop('[data-test="palette-node-inject"]', '[data-test="canvas"]', { targetPosition: { x: 200, y: 200 } });
    await page.click('[data-test="save"]');
    await expect.poll(async () => (await server.api('GET', '/api/v1/flows/kc-orders')).body.nodes.length, { timeout: 10_000 }).toBe(1);
    const saved = apiCalls('/flows/kc-orders').filter((r) => r.method() === 'PUT').at(-1)!;
    expect(saved.headers().authorization).toMatch(/^Bearer /);
    expect(saved.headers()['x-csrf-token']).toBeUndefined();
  });

  it('refreshes the access token before it expires', async () => {
    const tokenOf = (r: Request | undefined) => r?.headers().authorization;
    const before = tokenOf(apiCalls('/flows').at(-1));
    // Let the page's clock run 4.5 minutes on (the realm's tokens live 5): the editor refreshes 30 s before expiry.
    const refreshed = page.waitForRequest((r) => r.url().endsWith('/protocol/openid-connect/token') && (r.postData() ?? '').includes('grant_type=refresh_token'), { timeout: 20_000 });
    await page.clock.fastForward('04:30');
    const refresh = await refreshed;
    expect((await refresh.response())?.status()).toBe(200);
    await page.click('a[href="#/dashboard"]');
    await page.locator('[data-test="stat-runs"]').waitFor();
    const after = tokenOf(apiCalls('/stats').at(-1));
    expect(after).toMatch(/^Bearer /);
    expect(after).not.toBe(before);
    await page.goBack();
  });

  it('signs out through Keycloak, which sends the browser back to its login page', async () => {
    await page.click('[data-test="account-button"]');
    await page.click('[data-test="signout"]');
    await page.waitForURL(LOGIN_PAGE, { timeout: 30_000 });
    await page.locator('#username').waitFor();
    await shot('signed-out');
  });

  it('refuses a realm user who has no Flowcrew role', async () => {
    await keycloakLogin('nora');
    await page.locator('[data-test="no-access"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-test="no-access"]').innerText()).toContain('nora');
    const refused = apiCalls('/flows').filter((r) => r.method() === 'GET').at(-1)!;
    expect((await refused.response())?.status()).toBe(403);
    await shot('no-role-refused');
    await page.click('[data-test="signout"]');
    await page.waitForURL(LOGIN_PAGE, { timeout: 30_000 });
  });

  it('raised no uncaught errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
