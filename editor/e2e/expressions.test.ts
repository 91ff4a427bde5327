/**
 * End to end (issue 12, stuck point 6: "no help writing expressions"): JSONata and template fields get an editor
 * that highlights, completes message paths from the node's last real input, previews the result live and marks
 * syntax errors where they are before deploy; a node shows its last input and output and runs again from there.
 * Screenshots in test-artifacts/e2e/expr-*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { createAdmin, signedInEditor } from './auth.ts';
import { screenshot } from './browser.ts';
import { clickNode, openFlow, typeInEditor } from './editor-page.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const shot = (name: string) => screenshot(page, 'e2e', `expr-${name}`);
const text = (selector: string) => page.locator(selector).first().innerText();
const waitForText = (selector: string, content: string | RegExp, timeout = 15_000) => page.locator(selector).filter({ hasText: content }).first().waitFor({ timeout });

const order = { price: 2.5, items: [{ sku: 'a', q: 2 }, { sku: 'b', q: 3 }] };
const flow = {
  id: 'orders-expr',
  name: 'Order total',
  nodes: [
    { id: 'in', type: 'inject', name: 'Order', position: { x: 100, y: 150 }, props: { payload: JSON.stringify(order), payloadType: 'json' }, wires: [['total']] },
    { id: 'total', type: 'jsonata', name: 'Total', position: { x: 350, y: 150 }, props: { expression: 'payload', property: 'payload' }, wires: [['label']] },
    { id: 'label', type: 'change', name: 'Label', position: { x: 600, y: 150 }, props: { rules: [{ t: 'set', p: 'topic', pt: 'msg', to: '"order"', tot: 'jsonata' }] }, wires: [['show']] },
    { id: 'show', type: 'debug', name: 'Show', position: { x: 850, y: 150 }, props: {}, wires: [] },
  ],
};

describe('expression editor, pickers and node data, end to end', () => {
  beforeAll(async () => {
    server = await startTestServer();
    await createAdmin(server);
    ({ browser, page } = await signedInEditor(server, { pageErrors, dialogs: 'accept' }));
    await page.locator('[data-test="palette-node-webhook"]').waitFor();
    // One real run, so the nodes have a last input.
    await openFlow(server, page, flow, true);
    const started = await server.api('POST', `/api/v1/flows/${flow.id}/runs`, { input: {}, nodeId: 'in' });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect((await server.waitRun(started.body.runId)).status).toBe('succeeded');
  });

  afterEach(async (context) => {
    // What the page showed when a step failed.
    if (context.task.result?.state === 'fail') await shot(`failed-${context.task.name.split('.')[0]}`);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('6. a JSONata field completes paths from the last input, previews its result, and marks an error where it is', async () => {
    await clickNode(page, 'total');
    // The node's last input and output, from the run history.
    await waitForText('[data-test="node-last-input"]', '"price": 2.5');
    const field = '[data-test="field-/expression"]';
    await page.locator(`${field} .cm-content`).waitFor();
    // Before: a one-line text box, no preview. Now: the result for the last real input.
    await waitForText('[data-test="expression-sample-source"]', /last input \(run/);

    await typeInEditor(page, field, 'payload.price * $sum(payload.it');
    // Completion offers the message's own paths.
    await waitForText('.cm-tooltip-autocomplete', 'payload.items.q');
    await shot('01-completion');
    await page.keyboard.press('Escape');
    await page.keyboard.type('ems.q)');
    await waitForText('[data-test="expression-result"]', '12.5');
    expect(await page.locator(`${field} .cm-line span`).count()).toBeGreaterThan(2); // highlighted tokens
    await waitForText(`[data-test="tab-state-${flow.id}"]`, 'unsaved');
    await shot('02-live-preview');

    // A syntax error is underlined at its token and flagged on the field before anything is deployed.
    await typeInEditor(page, field, 'payload.price + + 2');
    await page.locator(`${field} .cm-lintRange-error`).waitFor();
    expect(await page.locator(`${field} .cm-lintRange-error`).innerText()).toBe('+');
    await waitForText('[data-test="properties"] .field-error', /JSONata error at line 1, column 17: The symbol "\+" cannot be used as a unary operator/);
    await shot('03-syntax-error-marked');
    await typeInEditor(page, field, 'payload.price * $sum(payload.items.q)');
    await page.locator(`${field} .cm-lintRange-error`).waitFor({ state: 'detached' });
  });

  it('6b. a change rule of type JSONata gets the same editor, evaluated as Node-RED does (msg.…)', async () => {
    await clickNode(page, 'label');
    const field = '[data-test="field-/rules/0/to"]';
    await page.locator(`${field} .cm-content`).waitFor();
    await typeInEditor(page, field, 'msg.payload.price & " EUR"');
    // The change node's last input is what the deployed jsonata node sent in the stored run (the order itself).
    await waitForText(`[data-test="expression-result"]`, '"2.5 EUR"');
    // A typed sample replaces the stored input for the preview only.
    await page.click('[data-test="expression-sample-edit"]');
    await page.fill('[data-test="expression-sample"]', '{"payload": {"price": 99}}');
    await page.click('[data-test="expression-sample-apply"]');
    await waitForText(`[data-test="expression-result"]`, '"99 EUR"');
    await shot('04-change-rule-jsonata');
  });

  it('7. a template field previews its rendering from the last input', async () => {
    const saved = await server.api('POST', '/api/v1/flows', {
      id: 'tpl-expr',
      name: 'Template',
      nodes: [{ id: 'tpl', type: 'template', name: 'Greeting', position: { x: 200, y: 150 }, props: { template: 'x', field: 'payload', fieldType: 'msg', syntax: 'mustache', output: 'str' } }],
    });
    expect(saved.status).toBe(201);
    await page.goto(`${server.url}/#/flows/tpl-expr`);
    await page.locator('[data-test="flow-tab-tpl-expr"]').waitFor();
    await clickNode(page, 'tpl');
    const field = '[data-test="field-/template"]';
    await page.locator(`${field} .cm-content`).waitFor();
    await waitForText('[data-test="expression-sample-source"]', 'no input yet');
    await page.click('[data-test="expression-sample-edit"]');
    await page.fill('[data-test="expression-sample"]', '{"payload": {"name": "Ada", "items": [1, 2]}}');
    await page.click('[data-test="expression-sample-apply"]');
    await typeInEditor(page, field, 'Hello {{payload.name}}: {{#payload.items}}<{{.}}>{{/payload.items}}');
    await waitForText('[data-test="expression-result"]', 'Hello Ada: <1><2>');
    // Typing "{{" closes the tag by itself; a section left open is an error, flagged before deploy.
    await typeInEditor(page, field, 'Hello {{#payload.items}}x');
    await waitForText('[data-test="properties"] .field-error', /template error at line 1, column \d+: Unclosed section "payload.items"/);
    await shot('05-template-preview');
  });

  it('8b. a crew task picks its agent and its context from the crew, not as typed keys', async () => {
    const crew = {
      id: 'crew-pick',
      name: 'Crew pickers',
      nodes: [{ id: 'team', type: 'ai-crew', position: { x: 300, y: 200 }, props: { agents: [{ key: 'researcher', template: 'research' }, { key: 'writer', template: 'analysis' }], tasks: [{ key: 'facts', description: 'Facts about {input}', agent: 'researcher' }, { key: 'post', description: 'A post from the facts', agent: 'researcher' }] } }],
    };
    await openFlow(server, page, crew);
    await clickNode(page, 'team');
    const agent = page.locator('select[data-test="field-/tasks/1/agent"]');
    // Before: a free-text box for the agent's key.
    expect(await agent.locator('option').allInnerTexts()).toEqual(['—', 'researcher', 'writer']);
    await agent.selectOption('writer');
    // Context: every earlier task (CrewAI's default), none, or chosen among the EARLIER tasks only (crew/TaskCard.vue).
    await page.check('[data-test="task-card-post"] [data-test="context-chosen"]');
    await page.check('[data-test="pick-/tasks/1/context-facts"]');
    await shot('07-crew-pickers');
    await page.click('[data-test="save"]');
    await waitForText(`[data-test="tab-state-${crew.id}"]`, 'not deployed');
    const stored = (await server.api('GET', `/api/v1/flows/${crew.id}`)).body;
    expect(stored.nodes[0].props.tasks[1]).toMatchObject({ key: 'post', agent: 'writer', context: ['facts'] });
  });

  it('8. a node shows its last input and output, and runs again from there with that input', async () => {
    await page.goto(`${server.url}/#/flows/${flow.id}`);
    await page.locator(`[data-test="flow-tab-${flow.id}"]`).waitFor();
    await clickNode(page, 'label');
    await waitForText('[data-test="node-last-input"]', '"price": 2.5');
    await waitForText('[data-test="node-last-output"]', '"topic": "order"');
    const before = (await server.api('GET', `/api/v1/runs?flowId=${flow.id}`)).body.length;
    await page.click('[data-test="node-run-from-here"]');
    await page.locator('[data-test="run-detail"]').waitFor();
    await waitForText('[data-test="run-status"]', 'succeeded');
    const runs = (await server.api('GET', `/api/v1/runs?flowId=${flow.id}`)).body;
    expect(runs.length).toBe(before + 1);
    expect(runs[0]).toMatchObject({ triggerNodeId: 'label', status: 'succeeded' });
    await shot('06-run-from-here');
    expect(pageErrors).toEqual([]);
  });
});
