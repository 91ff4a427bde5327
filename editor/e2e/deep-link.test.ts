/**
 * End to end (issue 12): a link followed while signed out lands where it points once signed in — the flow at
 * /#/flows/<id> (not the tab restored from the last session, which used to take the address over while the
 * workspace started), and the run at /#/runs/<id>. Screenshots in test-artifacts/e2e/deep-link-*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { createAdmin, signIn, signedInEditor } from './auth.ts';
import { screenshot } from './browser.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const shot = (name: string) => screenshot(page, 'e2e', `deep-link-${name}`);
const activeTab = () => page.locator('[data-test^="flow-tab-"].on').getAttribute('data-test');
const flow = (id: string) => ({ id, name: id, nodes: [{ id: 'in', type: 'inject', position: { x: 100, y: 100 }, wires: [['out']] }, { id: 'out', type: 'debug', position: { x: 320, y: 100 } }] });

/** Signs out, leaves the page, and opens `hash` in a fresh page load: the sign-in form, then the workspace. */
async function followSignedOut(hash: string): Promise<void> {
  await page.click('[data-test="account-button"]');
  await page.click('[data-test="account-menu"] [data-test="signout"]');
  await page.locator('[data-test="signin-form"]').waitFor();
  await page.goto('about:blank');
  await page.goto(`${server.url}/${hash}`);
  await page.locator('[data-test="signin-form"]').waitFor();
  await signIn(page);
}

describe('links followed while signed out, end to end', () => {
  beforeAll(async () => {
    server = await startTestServer();
    await createAdmin(server);
    for (const id of ['earlier', 'linked', 'ran']) expect((await server.api('POST', '/api/v1/flows', flow(id))).status).toBe(201);
    ({ browser, page } = await signedInEditor(server, { pageErrors }));
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await shot('failed');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('lands on the linked flow after signing in, with the last session’s tabs restored beside it', async () => {
    // The last session worked on "earlier": its tab is remembered and restored at the next start.
    await page.goto(`${server.url}/#/flows/earlier`);
    await page.locator('[data-test="flow-tab-earlier"].on').waitFor();

    await followSignedOut('#/flows/linked');
    await page.locator('[data-test="flow-tab-linked"]').waitFor();
    await page.locator('[data-test="flow-tab-earlier"]').waitFor();
    // Once the workspace has settled: the tab shown and the address are the link's.
    await page.waitForFunction(() => (window as any).flowcrew?.view?.graph?._nodes.length === 2);
    expect(await activeTab()).toBe('flow-tab-linked');
    expect(await page.evaluate(() => location.hash)).toBe('#/flows/linked');
    await shot('01-linked-flow');
    expect(pageErrors).toEqual([]);
  });

  it('lands on the linked run after signing in', async () => {
    expect((await server.api('POST', '/api/v1/flows/ran/deploy')).status).toBe(200);
    const started = await server.api('POST', '/api/v1/flows/ran/runs', {});
    await server.waitRun(started.body.runId);

    await followSignedOut(`#/runs/${started.body.runId}`);
    await page.locator('[data-test="run-detail"] [data-test="run-id"]').waitFor();
    expect(await page.locator('[data-test="run-detail"] [data-test="run-id"]').getAttribute('title')).toBe(started.body.runId);
    await page.locator('[data-test="flow-tab-ran"].on').waitFor();
    expect(await page.evaluate(() => location.hash)).toBe(`#/runs/${started.body.runId}`);
    await shot('02-linked-run');
    expect(pageErrors).toEqual([]);
  });
});
