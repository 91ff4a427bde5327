/**
 * The editor under the runtime's Content-Security-Policy, in headless Chromium: it signs in, goes live over Socket.IO
 * and draws the dashboard's charts without a single CSP violation, while an injected inline script IS refused (so
 * the policy is on and the check can see violations). Needs Chromium (scripts/services) and builds the editor if
 * editor/dist is missing.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdmin, signIn } from '../../../editor/e2e/auth.ts';
import { CHROMIUM, launchBrowser } from '../../../editor/e2e/browser.ts';
import { defaultEditorDist } from '../api/editor-static.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';

const available = existsSync(CHROMIUM);
if (!available) console.warn(`[csp.test] SKIPPED: no Chromium at ${CHROMIUM} (run scripts/services)`);

describe.runIf(available || process.env.CI)('the editor under the CSP (Chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const consoleRefusals: string[] = [];
  const violations = () => page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);

  beforeAll(async () => {
    if (!existsSync(`${defaultEditorDist}/index.html`)) {
      await build({ configFile: fileURLToPath(new URL('../../../vite.config.ts', import.meta.url)), logLevel: 'warn' });
    }
    server = await startTestServer();
    await createAdmin(server);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.addInitScript(() => {
      const list: string[] = [];
      (window as unknown as { cspViolations: string[] }).cspViolations = list;
      document.addEventListener('securitypolicyviolation', (e) => list.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) consoleRefusals.push(message.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('serves the editor with the policy', async () => {
    const res = await fetch(server.url);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('signs in, goes live over Socket.IO, shows the dashboard: no violation', async () => {
    await page.goto(server.url);
    await signIn(page);
    await page.locator('[data-test="connection"]').filter({ hasText: 'live' }).first().waitFor({ timeout: 15_000 });
    await page.goto(`${server.url}/#/dashboard`);
    await page.locator('[data-test="dashboard"]').waitFor();
    await page.locator('[data-test="dashboard"] canvas').first().waitFor({ timeout: 15_000 });
    await page.waitForTimeout(300);
    expect(await violations()).toEqual([]);
    expect(consoleRefusals).toEqual([]);
  }, 120_000);

  it('an injected inline script is refused (the policy is enforced and violations are seen)', async () => {
    const ran = await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.injected = true';
      document.body.append(script);
      return (window as unknown as { injected?: boolean }).injected === true;
    });
    expect(ran).toBe(false);
    await page.waitForTimeout(100);
    expect((await violations()).some((v) => v.startsWith('script-src'))).toBe(true);
  });
});
