/**
 * End to end (issue 13): the run view follows a crew while it runs. The model stand-in (OpenAI wire format) holds
 * each agent's answer until the test releases it, so what the view shows is checked at known points, not by timing:
 * opened while the first task is still with its model, the run shows no task step; once the researcher answers, its
 * stored task appears while the writer is still held and the run (and the crew node, not "pending") still "running" —
 * no reload, no Refresh click; then the writer's. Screenshots in test-artifacts/e2e/crew-live-steps-*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fakeModelCredential, openAIAnswer, startFakeModelServer, type FakeServer } from '../../nodes/ai/src/testing/fake-model-server.ts';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { createAdmin, signedInEditor } from './auth.ts';
import { screenshot } from './browser.ts';
import { clickNode, openFlow } from './editor-page.ts';

let server: TestServer;
let model: FakeServer;
let browser: Browser;
let page: Page;
const shot = (name: string) => screenshot(page, 'e2e', `crew-live-steps-${name}`);
const sfx = Date.now().toString(36);
const flowId = `crew-live-steps-${sfx}`;

/** One gate per agent: its model call waits until the test opens it. */
function gate(): { wait: Promise<void>; open: () => void; asked: Promise<void>; ask: () => void } {
  let open!: () => void;
  let ask!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  const asked = new Promise<void>((resolve) => (ask = resolve));
  return { wait, open, asked, ask };
}
const researcher = gate();
const writer = gate();
type Message = { role: string; content: string | null };

beforeAll(async () => {
  model = await startFakeModelServer(async (req) => {
    const body = req.body as { messages: Message[] };
    const system = body.messages[0]?.content ?? '';
    if (system.startsWith('You are Researcher.')) {
      researcher.ask();
      await researcher.wait;
      return { json: openAIAnswer('Otters hold hands while they sleep.', undefined, { prompt_tokens: 40, completion_tokens: 8 }) };
    }
    writer.ask();
    await writer.wait;
    return { json: openAIAnswer('Sleeping otters hold hands so they do not drift apart.', undefined, { prompt_tokens: 60, completion_tokens: 11 }) };
  });
  server = await startTestServer({}, { env: { FLOWCREW_OUTBOUND_ALLOW: `127.0.0.1:${new URL(model.url).port}` } });
  await createAdmin(server);
  ({ browser, page } = await signedInEditor(server, { viewport: { width: 1440, height: 1000 } }));
});

afterEach(async (context) => {
  if (context.task.result?.state === 'fail') await shot(`failed-${context.task.name.slice(0, 20)}`);
});

afterAll(async () => {
  // Nothing left waiting on a gate.
  researcher.open();
  writer.open();
  await browser?.close();
  await server?.stop();
  await model?.close();
});

const stepTitles = () => page.locator('[data-test="step-task"] > header > [data-test="step-title"]').allTextContents();

describe('the run view while a crew runs, end to end', () => {
  it("shows each task's stored step as soon as it is done, while the run goes on", async () => {
    const credential = await fakeModelCredential(server, model);
    await openFlow(
      server,
      page,
      {
        id: flowId,
        name: 'Live crew',
        nodes: [
          { id: 'go', type: 'inject', position: { x: 100, y: 160 }, props: { props: [] }, wires: [['crew']] },
          {
            id: 'crew',
            type: 'ai-crew',
            position: { x: 320, y: 160 },
            credentials: credential,
            props: {
              stream: false,
              agents: [
                { key: 'researcher', role: 'Researcher', goal: 'Find facts' },
                { key: 'writer', role: 'Writer', goal: 'Write' },
              ],
              tasks: [
                { key: 'research', description: 'Why do otters hold hands ({topic})?', agent: 'researcher' },
                { key: 'write', description: 'One sentence about {topic}', agent: 'writer' },
              ],
            },
            wires: [],
          },
        ],
      },
      true,
    );
    // The crew's live panel proves this editor hears the flow's events before the run is looked at.
    await clickNode(page, 'crew');
    const started = await server.api('POST', `/api/v1/flows/${flowId}/runs`, { input: { payload: { topic: `otters ${sfx}` } } });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const runId = started.body.runId as string;
    await researcher.asked;
    await page.locator('[data-test="crew-live-task-research"]').waitFor({ timeout: 60_000 });

    // The run opened from the history while the researcher's model is still answering: no task stored yet.
    await page.click('[data-test="tab-runs"]');
    await page.locator('[data-test="run-row"]').first().click();
    await page.locator(`[data-test="run-id"][title="${runId}"]`).waitFor();
    expect(await page.locator('[data-test="run-status"]').textContent()).toBe('running');
    expect(await page.locator('[data-test="step-task"]').count()).toBe(0);
    // Before: the crew node's invocation read "pending" (its stored status until it ends) while it ran.
    const crewInvocation = page.locator('[data-test="invocation"]').filter({ hasText: 'ai-crew' }).locator('[data-test="invocation-status"]');
    expect(await crewInvocation.textContent()).toBe('running');
    await shot('01-running-no-step');

    // The researcher answers; the writer is held: the research step appears while the run is still running.
    researcher.open();
    await writer.asked;
    await page.locator('[data-test="step-task"]').first().waitFor({ timeout: 60_000 });
    expect(await stepTitles()).toEqual(['research']);
    expect(await page.locator('[data-test="step-answer"]').first().textContent()).toBe('Otters hold hands while they sleep.');
    expect(await page.locator('[data-test="run-status"]').textContent()).toBe('running');
    expect(await crewInvocation.textContent()).toBe('running');
    await shot('02-first-step-live');

    writer.open();
    await page.locator('[data-test="run-status"]').filter({ hasText: 'succeeded' }).waitFor({ timeout: 60_000 });
    await page.locator('[data-test="step-task"]').nth(1).waitFor({ timeout: 30_000 });
    expect(await stepTitles()).toEqual(['research', 'write']);
    await shot('03-done');
  });
});
