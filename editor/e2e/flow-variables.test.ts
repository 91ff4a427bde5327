/**
 * End to end (issue 12): a flow's own variables (FlowDocument.env, Node-RED's tab env) shown and edited in the flow's
 * properties — name, type, value — saved with the flow, used by the next run, shown again after a reload. A row with
 * a bad name says so and is not saved. Screenshots in test-artifacts/e2e/flow-variables-*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { createAdmin, signedInEditor } from './auth.ts';
import { screenshot } from './browser.ts';
import { openFlow, saveFlow } from './editor-page.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const shot = (name: string) => screenshot(page, 'e2e', `flow-variables-${name}`);
const row = (i: number) => page.locator(`[data-test="flow-var-${i}"]`);

describe('flow variables, end to end', () => {
  beforeAll(async () => {
    server = await startTestServer();
    await createAdmin(server);
    ({ browser, page } = await signedInEditor(server, { pageErrors }));
    await page.locator('[data-test="palette-node-inject"]').waitFor();
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await shot('failed');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("shows and edits the flow's own variables, saved with the flow and read by its next run", async () => {
    await openFlow(server, page, {
      id: 'greeter',
      name: 'Greeter',
      env: { GREETING: 'Hello', TIMES: { type: 'num', value: '2' } },
      nodes: [
        { id: 'in', type: 'inject', position: { x: 100, y: 200 }, wires: [['greet']] },
        { id: 'greet', type: 'change', position: { x: 340, y: 200 }, props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '$env("GREETING") & " Ada x" & $env("COUNT")', tot: 'jsonata' }] }, wires: [['out']] },
        { id: 'out', type: 'debug', position: { x: 580, y: 200 } },
      ],
    });
    await page.click('[data-test="tab-properties"]');
    const panel = page.locator('[data-test="flow-variables"]');
    await panel.waitFor();
    // What the flow holds, with its types.
    expect(await row(0).locator('[data-test="flow-var-name"]').inputValue()).toBe('GREETING');
    expect(await row(0).locator('[data-test="flow-var-type"]').inputValue()).toBe('str');
    expect(await row(1).locator('[data-test="flow-var-name"]').inputValue()).toBe('TIMES');
    expect(await row(1).locator('[data-test="flow-var-type"]').inputValue()).toBe('num');
    expect(await row(1).locator('[data-test="flow-var-value"]').inputValue()).toBe('2');

    await row(0).locator('[data-test="flow-var-value"]').fill('Bonjour');
    await page.click('[data-test="flow-var-add"]');
    await row(2).locator('[data-test="flow-var-name"]').fill('COUNT');
    await row(2).locator('[data-test="flow-var-type"]').selectOption('num');
    await row(2).locator('[data-test="flow-var-value"]').fill('3');
    // A name the runtime would refuse: said at once, and left out of the flow.
    await page.click('[data-test="flow-var-add"]');
    await row(3).locator('[data-test="flow-var-name"]').fill('1bad');
    await page.locator('[data-test="flow-var-problem-3"]').filter({ hasText: 'letters, digits and _' }).waitFor();
    await shot('01-editing');
    await saveFlow(page, 'greeter');
    const saved = (await server.api('GET', '/api/v1/flows/greeter')).body;
    expect(saved.env).toEqual({ GREETING: 'Bonjour', TIMES: { type: 'num', value: '2' }, COUNT: { type: 'num', value: '3' } });

    // The bad row removed; the saved variables are used by the flow's next run.
    await row(3).locator('[data-test="flow-var-remove"]').click();
    expect(await page.locator('[data-test="flow-var-problem-3"]').count()).toBe(0);
    expect((await server.api('POST', '/api/v1/flows/greeter/deploy')).status).toBe(200);
    const started = await server.api('POST', '/api/v1/flows/greeter/runs', {});
    const run = await server.waitRun(started.body.runId);
    expect(run.status).toBe('succeeded');
    const detail = (await server.api('GET', `/api/v1/runs/${started.body.runId}`)).body;
    expect(detail.invocations.find((i: any) => i.nodeId === 'greet').outputs[0].msg.payload).toBe('Bonjour Ada x3');

    // After a reload the flow's variables are shown as saved; removing one is an edit like any other.
    await page.reload();
    await page.locator('[data-test="flow-tab-greeter"]').waitFor();
    await page.click('[data-test="tab-properties"]');
    await panel.waitFor();
    expect(await page.locator('[data-test="flow-var-name"]').evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).value))).toEqual(['GREETING', 'TIMES', 'COUNT']);
    await row(1).locator('[data-test="flow-var-remove"]').click();
    await saveFlow(page, 'greeter');
    expect((await server.api('GET', '/api/v1/flows/greeter')).body.env).toEqual({ GREETING: 'Bonjour', COUNT: { type: 'num', value: '3' } });
    await shot('02-saved');
    expect(pageErrors).toEqual([]);
  });
});
