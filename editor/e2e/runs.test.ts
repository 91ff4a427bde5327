/**
 * End to end (issue 12, stuck point 4: "loops run forever without a word; after Cancel the delay node still read
 * running"): a looping run fails at its step budget with a reason, and a cancelled run leaves no node running.
 * Screenshots in test-artifacts/e2e/runs-*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { createAdmin, signedInEditor } from './auth.ts';
import { screenshot } from './browser.ts';
import { openFlow } from './editor-page.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
const shot = (name: string) => screenshot(page, 'e2e', `runs-${name}`);
const waitForText = (selector: string, content: string | RegExp, timeout = 15_000) => page.locator(selector).filter({ hasText: content }).first().waitFor({ timeout });

describe('runs without surprises, end to end', () => {
  beforeAll(async () => {
    server = await startTestServer();
    await createAdmin(server);
    ({ browser, page } = await signedInEditor(server, { dialogs: 'accept' }));
    await page.locator('[data-test="palette-node-webhook"]').waitFor();
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await shot(`failed-${context.task.name.split('.')[0]}`);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('4. a loop fails at the flow’s step budget, saying why, instead of running forever', async () => {
    await openFlow(
      server,
      page,
      {
        id: 'loop',
        name: 'Loop',
        settings: { maxSteps: 30 },
        nodes: [
          { id: 'go', type: 'inject', name: 'Go', position: { x: 100, y: 100 }, props: {}, wires: [['count']] },
          { id: 'count', type: 'change', name: 'Count', position: { x: 320, y: 100 }, props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '$number(payload) + 1', tot: 'jsonata' }] }, wires: [['pause']] },
          { id: 'pause', type: 'delay', name: 'Pause', position: { x: 540, y: 100 }, props: { pauseType: 'delay', timeout: 1, timeoutUnits: 'milliseconds' }, wires: [['count']] },
        ],
      },
      true,
    );
    await page.locator('[data-test="loop-warning"]').waitFor();
    const started = await server.api('POST', '/api/v1/flows/loop/runs', { input: {}, nodeId: 'go' });
    const run = await server.waitRun(started.body.runId);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/^step budget exceeded: the run made 30 node invocations/);
    await page.goto(`${server.url}/#/runs/${started.body.runId}`);
    await waitForText('[data-test="run-detail"]', 'step budget exceeded');
    await shot('01-step-budget');
  });

  it('4b. a cancelled run leaves no node "running"', async () => {
    await openFlow(
      server,
      page,
      {
        id: 'wait',
        name: 'Wait',
        nodes: [
          { id: 'go', type: 'inject', name: 'Go', position: { x: 100, y: 100 }, props: {}, wires: [['hold']] },
          { id: 'hold', type: 'delay', name: 'Hold', position: { x: 320, y: 100 }, props: { pauseType: 'delay', timeout: 60, timeoutUnits: 'seconds' }, wires: [] },
        ],
      },
      true,
    );
    const started = await server.api('POST', '/api/v1/flows/wait/runs', { input: {}, nodeId: 'go' });
    await page.locator('[data-test="node-states"] [data-node="hold"]').filter({ hasText: 'Hold: running' }).waitFor();
    await page.goto(`${server.url}/#/runs/${started.body.runId}`);
    await page.locator('[data-test="run-detail"] button:has-text("Cancel")').click();
    await waitForText('[data-test="run-status"]', 'cancelled');
    // Before: the delay node still read "running" after Cancel.
    await page.locator('[data-test="node-states"] [data-node="hold"]').filter({ hasText: 'Hold: cancelled' }).waitFor();
    await shot('02-cancelled-not-running');
  });
});
