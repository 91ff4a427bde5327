/**
 * End to end (issue 12, test runs): a test run (▶ Run with a pinned node) shows live in the editor that started it
 * while it runs — node states, node status, debug messages marked "test run" — and is marked "test" in the run
 * detail; re-run from the run detail, it runs again as a test run. The run is held at an HTTP call to a server of
 * this test, so "while it runs" is a fact, not a race.
 * Screenshots in test-artifacts/e2e/test-runs-*.png.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { createAdmin, signedInEditor } from './auth.ts';
import { screenshot } from './browser.ts';
import { openFlow } from './editor-page.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
let gate: Server;
/** Requests the gate holds until the test answers them. */
const held: ServerResponse[] = [];
const pageErrors: string[] = [];
const shot = (name: string) => screenshot(page, 'e2e', `test-runs-${name}`);
const waitForText = (selector: string, content: string | RegExp, timeout = 20_000) => page.locator(selector).filter({ hasText: content }).first().waitFor({ timeout });

describe('test runs, end to end', () => {
  beforeAll(async () => {
    gate = createServer((_req, res) => void held.push(res));
    await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
    // The held call goes to this test's server on the loopback: allowed for that one address.
    server = await startTestServer({}, { env: { FLOWCREW_OUTBOUND_ALLOW: `127.0.0.1:${(gate.address() as AddressInfo).port}` } });
    await createAdmin(server);
    ({ browser, page } = await signedInEditor(server, { pageErrors }));
    await page.locator('[data-test="palette-node-inject"]').waitFor();
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await shot('failed');
  });

  afterAll(async () => {
    for (const res of held.splice(0)) res.end();
    await browser?.close();
    await server?.stop();
    await new Promise((resolve) => gate?.close(resolve));
  });

  it('shows a test run live in the editor that started it, and marks it "test" in the run detail', async () => {
    const port = (gate.address() as AddressInfo).port;
    await openFlow(server, page, {
      id: 'live-test',
      name: 'Live test',
      nodes: [
        { id: 'in', type: 'inject', name: 'Start', position: { x: 100, y: 200 }, wires: [['lookup']] },
        // Port 9 refuses: the pin answers instead.
        { id: 'lookup', type: 'http-request', name: 'Lookup', position: { x: 320, y: 200 }, props: { method: 'GET', url: 'http://127.0.0.1:9/customer' }, wires: [['early', 'hold']] },
        { id: 'early', type: 'debug', name: 'Early', position: { x: 560, y: 120 }, props: { tostatus: true, statusType: 'msg', statusVal: 'payload.name' } },
        { id: 'hold', type: 'http-request', name: 'Held call', position: { x: 560, y: 280 }, props: { method: 'GET', url: `http://127.0.0.1:${port}/slow`, ret: 'obj' }, wires: [['late']] },
        { id: 'late', type: 'debug', name: 'Late', position: { x: 800, y: 280 } },
      ],
    });
    const pinned = await server.api('PUT', '/api/v1/flows/live-test/pins/lookup', { outputs: [{ msg: { payload: { name: 'Ada' } } }] });
    expect(pinned.status).toBe(200);
    await page.reload();
    await page.locator('[data-test="flow-tab-live-test"]').waitFor();
    await page.click('[data-test="tab-debug"]');

    await page.click('[data-test="open-run"]');
    await page.locator('[data-test="run-pinned-hint"]').waitFor();
    await page.click('[data-test="run-start"]');

    // The run now waits at the held call: what the editor shows came live, not with the run's answer.
    await expect.poll(() => held.length, { timeout: 30_000 }).toBe(1);
    await waitForText('[data-test="node-states"] li[data-node="hold"]', 'running');
    await waitForText('[data-test="node-states"] li[data-node="early"]', 'status "Ada"');
    const entry = page.locator('[data-test="debug-entry"]').filter({ has: page.locator('[data-test="debug-test-badge"]') }).first();
    await entry.waitFor({ timeout: 20_000 });
    expect(await entry.innerText()).toContain('Ada');
    expect(await page.locator('[data-test="run-pinned-answer"]').count()).toBe(0);
    await shot('01-live-while-running');

    held.shift()!.end(JSON.stringify({ ok: true }));
    await waitForText('[data-test="run-pinned-answer"]', 'Pinned run succeeded', 30_000);
    await waitForText('[data-test="node-states"] li[data-node="hold"]', 'succeeded');
    await expect.poll(() => page.locator('[data-test="debug-test-badge"]').count()).toBe(2);
    await shot('02-finished');

    await page.click('[data-test="run-pinned-open"]');
    await page.locator('[data-test="run-detail"] [data-test="run-test-badge"]').waitFor();
    await shot('03-run-detail-test-badge');
    // The run list shows production and test runs apart (GET /runs?test=).
    await page.locator('[data-test="run-detail"] button', { hasText: '← Runs' }).click();
    await page.selectOption('[data-test="runs-kind-filter"]', 'production');
    await waitForText('[data-test="runs"]', 'No production runs yet.');
    await page.selectOption('[data-test="runs-kind-filter"]', 'test');
    await page.locator('[data-test="run-row"] [data-test="run-test-badge"]').waitFor();
    expect(await page.locator('[data-test="run-row"]').count()).toBe(1);
    await shot('04-test-runs-filter');
    const runs = (await server.api('GET', '/api/v1/runs?flowId=live-test&test=true')).body;
    expect(runs.map((r: any) => [r.status, r.test])).toEqual([['succeeded', true]]);
    expect((await server.api('GET', '/api/v1/runs?flowId=live-test&test=false')).body).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('re-runs a test run from the run detail as a test run, not as a run of the deployed flow', async () => {
    // Before: ↻ Re-run asked POST /runs/{id}/rerun, which runs the deployed flow (here: refused, it is not deployed).
    await page.locator('[data-test="run-row"]').first().click();
    const original = await page.locator('[data-test="run-detail"] [data-test="run-id"]').getAttribute('title');
    await waitForText('[data-test="rerun"]', 'Re-run as test');
    await page.click('[data-test="rerun"]');
    await expect.poll(() => held.length, { timeout: 30_000 }).toBe(1);
    held.shift()!.end(JSON.stringify({ ok: true }));
    await waitForText('[data-test="toast"]', 'Test run ran again with the original input', 30_000);
    await page.locator(`[data-test="run-detail"] [data-test="run-id"]:not([title="${original}"])`).waitFor();
    await page.locator('[data-test="run-detail"] [data-test="run-test-badge"]').waitFor();
    await waitForText('[data-test="run-status"]', 'succeeded');
    await shot('05-rerun-as-test');
    const runs = (await server.api('GET', '/api/v1/runs?flowId=live-test&test=true')).body;
    expect(runs.map((r: any) => [r.status, r.test, r.triggerNodeId])).toEqual([['succeeded', true, 'in'], ['succeeded', true, 'in']]);
    expect((await server.api('GET', '/api/v1/runs?flowId=live-test&test=false')).body).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
