/** Signing in for the end-to-end tests: the first admin made through the public setup route, then the sign-in page. */
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { launchBrowser } from './browser.ts';
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

export interface EditorPageOptions {
  viewport?: { width: number; height: number };
  acceptDownloads?: boolean;
  /** Accept every dialog (confirm/prompt), with this answer for prompts when given; left alone otherwise. */
  dialogs?: 'accept' | { answer: string };
  /** Collects the page's uncaught errors, for a test that asserts there were none. */
  pageErrors?: string[];
}

/** What most scenarios start from: a browser with the editor open, signed in as the admin (who must exist). */
export async function signedInEditor(server: Pick<TestServer, 'url'>, options: EditorPageOptions = {}): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchBrowser();
  const context: BrowserContextOptions = { viewport: options.viewport ?? { width: 1440, height: 900 }, acceptDownloads: options.acceptDownloads };
  const page = await browser.newPage(context);
  const { dialogs, pageErrors } = options;
  if (dialogs) page.on('dialog', (dialog) => void dialog.accept(typeof dialogs === 'object' ? dialogs.answer : undefined));
  if (pageErrors) page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(server.url);
  await signIn(page);
  return { browser, page };
}
