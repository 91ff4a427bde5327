/**
 * End to end (issue 12, session 4): n8n's and Node-RED's habits that were missing, each as a scenario in headless
 * Chromium against a real runtime, screenshots in test-artifacts/e2e/habits-*.png. One runtime and one browser.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { createAdmin, signIn } from './auth.ts';
import { launchBrowser, screenshot } from './browser.ts';
import { clickNode as clickNodeIn, openFlow as openFlowIn } from './editor-page.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

const shot = (name: string) => screenshot(page, 'e2e', `habits-${name}`);
const waitForText = (selector: string, content: string | RegExp, timeout = 15_000) => page.locator(selector).filter({ hasText: content }).first().waitFor({ timeout });
const openFlow = (doc: Record<string, unknown>, deploy = false) => openFlowIn(server, page, doc, deploy);
const clickNode = (id: string) => clickNodeIn(page, id);

describe('editor habits, end to end', () => {
  beforeAll(async () => {
    server = await startTestServer();
    await createAdmin(server);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(server.url);
    await signIn(page);
    await page.locator('[data-test="palette-node-inject"]').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('pins a node output: drawn as pinned, ▶ Run uses the pin instead of calling the node (no deploy needed)', async () => {
    await openFlow({
      id: 'pinned',
      name: 'Pinned',
      nodes: [
        { id: 'in', type: 'inject', position: { x: 100, y: 200 }, wires: [['call']] },
        // Port 9 refuses: before pins, a manual run had to deploy and really call it, and failed.
        { id: 'call', type: 'http-request', name: 'Customer API', position: { x: 320, y: 200 }, props: { method: 'GET', url: 'http://127.0.0.1:9/customer' }, wires: [['greet']] },
        { id: 'greet', type: 'change', position: { x: 560, y: 200 }, props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '"Hello " & payload.name', tot: 'jsonata' }] }, wires: [['out']] },
        { id: 'out', type: 'debug', position: { x: 780, y: 200 } },
      ],
    });
    await clickNode('call');
    await page.click('[data-test="node-pin-type"]');
    await page.fill('[data-test="node-pin-text"]', '{"payload": {"name": "Ada"}}');
    await page.click('[data-test="node-pin-save"]');
    await page.locator('[data-test="node-pinned"]').waitFor();
    await waitForText('[data-test="node-states"] li[data-node="call"]', 'output pinned');
    await shot('01-pinned-node');

    await page.click('[data-test="open-run"]');
    await page.locator('[data-test="run-pinned-hint"]').waitFor();
    await page.click('[data-test="run-start"]');
    await waitForText('[data-test="run-pinned-answer"]', 'Pinned run succeeded', 30_000);
    expect(await page.locator('[data-test="run-pinned-node-greet"]').innerText()).toContain('Hello Ada');
    expect(await page.locator('[data-test="run-pinned-node-call"]').innerText()).toContain('(pinned)');
    await shot('02-pinned-run');
    await page.locator('[data-test="run-dialog"] button', { hasText: 'Close' }).click();

    // The run's data is each node's last data; the real flow has no run (nothing was deployed or called).
    await clickNode('greet');
    await waitForText('[data-test="node-last-output"]', 'Hello Ada');
    await page.locator('[data-test="node-last-run-pinned"]').waitFor();
    expect((await server.api('GET', '/api/v1/runs?flowId=pinned')).body).toEqual([]);

    await clickNode('call');
    await page.click('[data-test="node-unpin"]');
    await page.locator('[data-test="node-pin-last"]').waitFor();
    expect((await server.api('GET', '/api/v1/flows/pinned/pins')).body).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
