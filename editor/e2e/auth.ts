/** Signing in for the end-to-end tests: the first admin made through the public setup route, then the sign-in page. */
import type { Page } from 'playwright-core';
import type { TestServer } from '../../runtime/src/testing/server.ts';

export const ADMIN = { username: 'e2e-admin', password: 'e2e admin password', name: 'E2E Admin' };

/** Creates the first admin through POST /auth/setup, as a script would (409 when it exists already is fine). */
export async function createAdmin(server: Pick<TestServer, 'url'>, admin = ADMIN): Promise<void> {
  const response = await fetch(`${server.url}/api/v1/auth/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(admin),
  });
  if (response.status !== 201 && response.status !== 409) throw new Error(`first-admin setup answered ${response.status}: ${await response.text()}`);
}

/** Fills the editor's sign-in form and waits until the workspace shows who is signed in. */
export async function signIn(page: Page, user: { username: string; password: string; name?: string } = ADMIN): Promise<void> {
  await page.locator('[data-test="signin-form"]').waitFor();
  await page.fill('[data-test="signin-username"]', user.username);
  await page.fill('[data-test="signin-password"]', user.password);
  await page.click('[data-test="signin-submit"]');
  await page.locator('[data-test="account-name"]').filter({ hasText: user.name ?? user.username }).waitFor();
}
