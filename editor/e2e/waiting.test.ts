/**
 * End to end, human in the loop (issue 13): a run waiting for approval is answered in the editor's Waiting panel, and
 * a run waiting for a form answer is answered through its signed link by someone with no account; both runs go on.
 * Screenshots in test-artifacts/e2e/waiting-*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { createAdmin, signedInEditor } from './auth.ts';
import { screenshot } from './browser.ts';

let server: TestServer;
let browser: Browser;
let page: Page;

const flow = (id: string, ask: Record<string, unknown>) => ({
  id,
  name: id,
  nodes: [
    { id: 'go', type: 'inject', wires: [['ask']] },
    { id: 'ask', type: 'human-input', props: ask, wires: [['yes'], ['no']] },
    { id: 'yes', type: 'debug' },
    { id: 'no', type: 'debug' },
  ],
});

async function parked(flowId: string): Promise<{ runId: string; waitId: string }> {
  const started = await server.api('POST', `/api/v1/flows/${flowId}/runs`, { input: { payload: { invoice: 'INV-7', amount: 1200 } } });
  const runId = started.body.runId as string;
  for (let i = 0; i < 400; i++) {
    const waits = (await server.api('GET', `/api/v1/waits?runId=${runId}`)).body as Array<{ id: string }>;
    if (waits.length && (await server.api('GET', `/api/v1/runs/${runId}`)).body.status === 'waiting') return { runId, waitId: waits[0]!.id };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`run ${runId} did not wait`);
}

describe('waiting for people, end to end', () => {
  beforeAll(async () => {
    server = await startTestServer();
    await createAdmin(server);
    for (const doc of [flow('approve-invoice', { title: 'Pay invoice INV-7?' }), flow('ask-reason', { mode: 'form', title: 'Why this supplier?', schema: { type: 'object', required: ['reason'], properties: { reason: { type: 'string', title: 'Reason' } } } })]) {
      expect((await server.api('POST', '/api/v1/flows/import?deploy=true', doc)).status).toBe(201);
    }
    ({ browser, page } = await signedInEditor(server));
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await screenshot(page, 'e2e', `waiting-failed-${context.task.name.slice(0, 20)}`);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('answers an approval in the editor’s Waiting panel, and the run takes the approved path', async () => {
    const { runId } = await parked('approve-invoice');
    // The editor was open before the run asked: the badge counts the question live (Socket.IO waits:changed, no poll).
    await page.locator('[data-test="open-waiting"] .badge').filter({ hasText: '1' }).waitFor({ timeout: 15_000 });
    await page.locator('[data-test="open-waiting"]').click();
    await page.locator('[data-test="waiting-panel"]').waitFor();
    await page.locator('[data-test="waiting-ask"]').first().click();
    await page.locator('[data-test="answer-context"]').filter({ hasText: 'INV-7' }).waitFor();
    await screenshot(page, 'e2e', 'waiting-panel');
    await page.locator('[data-test="answer-approve"]').click();
    await page.locator('[data-test="answer-done"]').waitFor();
    const run = await server.waitRun(runId);
    expect(run.status).toBe('succeeded');
    const ask = run.invocations.find((i: { nodeId: string }) => i.nodeId === 'ask');
    expect(ask.outputs[0]).toMatchObject({ port: 0, msg: { approval: { approved: true, via: 'editor', by: 'e2e-admin' } } });
  });

  it('answers a form through its signed link with no account, once', async () => {
    const { runId, waitId } = await parked('ask-reason');
    const { token } = (await server.api('POST', `/api/v1/waits/${encodeURIComponent(waitId)}/link`)).body as { token: string };
    const anonymous = await browser.newContext();
    const linkPage = await anonymous.newPage();
    await linkPage.goto(`${server.url}/#/answer/${token}`);
    await linkPage.locator('[data-test="answer-page"] input[type="text"], [data-test="answer-page"] textarea').first().fill('only one with stock');
    await screenshot(linkPage, 'e2e', 'waiting-link');
    await linkPage.locator('[data-test="answer-submit"]').click();
    await linkPage.locator('[data-test="answer-done"]').waitFor();
    const run = await server.waitRun(runId);
    expect(run.status).toBe('succeeded');
    const ask = run.invocations.find((i: { nodeId: string }) => i.nodeId === 'ask');
    expect(ask.outputs[0].msg.approval).toMatchObject({ answer: { reason: 'only one with stock' }, via: 'link' });
    // Used: the page now says the question is answered, and offers no form.
    await linkPage.reload();
    await linkPage.locator('[data-test="answer-page"]').filter({ hasText: 'answered' }).waitFor();
    expect(await linkPage.locator('[data-test="answer-submit"]').count()).toBe(0);
    await anonymous.close();
  });
});
