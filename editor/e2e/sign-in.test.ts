/**
 * End to end, local accounts: the first run asks for the first admin in the editor; the session cookie then carries
 * the REST calls (with the CSRF token on unsafe ones) and the Socket.IO handshake; a session that ends mid-work brings
 * the sign-in back over the workspace without losing the unsaved edit; password change and sign-out.
 * Screenshots in test-artifacts/e2e/ (sign-in-*).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { launchBrowser, screenshot } from './browser.ts';

const ADMIN = { username: 'ada', name: 'Ada Lovelace', password: 'analytical engine 1843' };
const NEW_PASSWORD = 'difference engine 1822';

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let step = 0;
const pageErrors: string[] = [];
const shot = (name: string) => screenshot(page, 'e2e', `sign-in-${String(++step).padStart(2, '0')}-${name}`);
const nodeCount = () => page.evaluate(() => (window as any).flowcrew.view.graph._nodes.length as number);

async function signInForm(username: string, password: string): Promise<void> {
  await page.fill('[data-test="signin-username"]', username);
  await page.fill('[data-test="signin-password"]', password);
  await page.click('[data-test="signin-submit"]');
}

describe('signing in to the editor (local accounts)', () => {
  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('asks for the first admin on a new runtime, and refuses a weak password before sending it', async () => {
    await page.goto(server.url);
    await page.locator('[data-test="setup-form"]').waitFor();
    expect(await page.locator('h1').innerText()).toBe('Set up Flowcrew');
    // Nothing else answers yet.
    expect((await fetch(`${server.url}/api/v1/flows`)).status).toBe(401);
    await page.fill('[data-test="setup-username"]', ADMIN.username);
    await page.fill('[data-test="setup-name"]', ADMIN.name);
    await page.fill('[data-test="setup-password"]', 'short');
    await page.fill('[data-test="setup-confirm"]', 'short');
    await page.click('[data-test="setup-submit"]');
    await page.locator('[data-test="setup-problem"]').filter({ hasText: 'at least 10 characters' }).waitFor();
    await shot('setup-weak-password');
    await page.fill('[data-test="setup-password"]', ADMIN.password);
    await page.fill('[data-test="setup-confirm"]', ADMIN.password);
    await shot('setup');
    await page.click('[data-test="setup-submit"]');
    await page.locator('[data-test="account-name"]').filter({ hasText: ADMIN.name }).waitFor();
    // The session cookie authenticates the Socket.IO handshake too.
    await page.locator('[data-test="connection"]').filter({ hasText: 'live' }).waitFor();
    await shot('signed-in-as-first-admin');
    const cookies = await context.cookies(server.url);
    expect(cookies.find((c) => c.httpOnly)).toBeTruthy();
  });

  it('saves and deploys with the session cookie and its CSRF token', async () => {
    const unsafe: Array<Record<string, string>> = [];
    page.on('request', (request) => {
      if (request.url().includes('/api/v1/flows') && request.method() !== 'GET') unsafe.push(request.headers());
    });
    await page.click('[data-test="new-flow"]');
    await page.fill('[data-test="new-flow-name"]', 'Signed in');
    await page.press('[data-test="new-flow-name"]', 'Enter');
    await page.locator('[data-test="flow-tab-signed-in"]').waitFor();
    await page.dragAndDrop('[data-test="palette-node-inject"]', '[data-test="canvas"]', { targetPosition: { x: 200, y: 200 } });
    await page.click('[data-test="deploy"]');
    await page.locator('[data-test="toast"]').filter({ hasText: 'Deployed "Signed in"' }).waitFor();
    expect(unsafe.length).toBeGreaterThan(0);
    for (const headers of unsafe) {
      expect(headers['x-csrf-token']).toBeTruthy();
      expect(headers.authorization).toBeUndefined();
    }
    const stored = await server.api('GET', '/api/v1/flows/signed-in');
    expect(stored.body.deployed).toBe(true);
  });

  it('brings the sign-in back when the session ends mid-work, and keeps the unsaved edit', async () => {
    await page.dragAndDrop('[data-test="palette-node-debug"]', '[data-test="canvas"]', { targetPosition: { x: 500, y: 200 } });
    expect(await nodeCount()).toBe(2);
    await context.clearCookies(); // the session is gone (expired, revoked, signed out elsewhere)
    await page.click('[data-test="save"]');
    await page.locator('[data-test="auth-notice"]').filter({ hasText: 'unsaved changes are kept' }).waitFor();
    await shot('session-ended-over-workspace');
    expect(await nodeCount()).toBe(2);
    expect((await server.api('GET', '/api/v1/flows/signed-in')).body.nodes).toHaveLength(1);

    await signInForm(ADMIN.username, ADMIN.password);
    await page.locator('[data-test="auth-screen"]').waitFor({ state: 'detached' });
    expect(await nodeCount()).toBe(2);
    await page.click('[data-test="save"]');
    await expect.poll(async () => (await server.api('GET', '/api/v1/flows/signed-in')).body.nodes.length, { timeout: 10_000 }).toBe(2);
    await page.locator('[data-test="connection"]').filter({ hasText: 'live' }).waitFor();
    await shot('signed-in-again-saved');
  });

  it('changes the password; the old one stops working', async () => {
    await page.click('[data-test="account-button"]');
    await page.click('[data-test="change-password"]');
    await page.fill('[data-test="password-current"]', 'not my password');
    await page.fill('[data-test="password-new"]', NEW_PASSWORD);
    await page.fill('[data-test="password-confirm"]', NEW_PASSWORD);
    await page.click('[data-test="password-submit"]');
    await page.locator('[data-test="password-error"]').filter({ hasText: 'The current password is wrong.' }).waitFor();
    await shot('password-wrong-current');
    await page.fill('[data-test="password-current"]', ADMIN.password);
    await page.click('[data-test="password-submit"]');
    await page.locator('[data-test="toast"]').filter({ hasText: 'Password changed' }).waitFor();
    // Still signed in (the runtime issued a new session for this browser).
    expect((await page.evaluate(() => fetch('/api/v1/auth/status').then((r) => r.json()))).user.username).toBe(ADMIN.username);
  });

  it('signs out, refuses the old password, signs in with the new one', async () => {
    await page.click('[data-test="account-button"]');
    await page.click('[data-test="signout"]');
    await page.locator('[data-test="signin-form"]').waitFor();
    expect((await page.evaluate(() => fetch('/api/v1/flows').then((r) => r.status)))).toBe(401);
    await signInForm(ADMIN.username, ADMIN.password);
    await page.locator('[data-test="signin-error"]').filter({ hasText: 'Wrong username or password.' }).waitFor();
    await shot('wrong-password');
    await signInForm(ADMIN.username, NEW_PASSWORD);
    await page.locator('[data-test="auth-screen"]').waitFor({ state: 'detached' });
    await page.locator('[data-test="account-name"]').filter({ hasText: ADMIN.name }).waitFor();
  });

  it('a fresh page with the session cookie opens signed in', async () => {
    await page.reload();
    await page.locator('[data-test="account-name"]').filter({ hasText: ADMIN.name }).waitFor();
    await page.locator('[data-test="flow-tab-signed-in"]').waitFor();
  });

  it('raised no uncaught errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
