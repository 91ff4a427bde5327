/**
 * End to end: the stuck points a citizen developer met in the editor (issue 12), each as a scenario in headless
 * Chromium against a real runtime, with screenshots in test-artifacts/e2e/stuck-*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { createAdmin, signedInEditor } from './auth.ts';
import { screenshot } from './browser.ts';
import { clickNode as clickNodeIn, openFlow as openFlowIn } from './editor-page.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

const shot = (name: string) => screenshot(page, 'e2e', `stuck-${name}`);
const waitForText = (selector: string, content: string | RegExp, timeout = 15_000) => page.locator(selector).filter({ hasText: content }).first().waitFor({ timeout });

const openFlow = (doc: Record<string, unknown>, deploy = false) => openFlowIn(server, page, doc, deploy);
const clickNode = (id: string) => clickNodeIn(page, id);

describe('issue 12 stuck points, end to end', () => {
  beforeAll(async () => {
    server = await startTestServer();
    await createAdmin(server);
    ({ browser, page } = await signedInEditor(server, { pageErrors, dialogs: 'accept' }));
    await page.locator('[data-test="palette-node-webhook"]').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('1. an AI model credential is configured from its schema on the crew node, its key never read back', async () => {
    await openFlow({ id: 'crew-cred', name: 'Crew credential', nodes: [{ id: 'crew', type: 'ai-crew', position: { x: 300, y: 200 }, props: { agents: [{ key: 'a', template: 'research' }], tasks: [{ key: 't', description: 'Facts about {input}', agent: 'a' }] } }] });
    await clickNode('crew');
    await page.click('[data-test="credential-new"]');
    const form = page.locator('[data-test="credential-form"]');
    await form.waitFor();
    // Before: only a name box and "This node has no properties". Now the provider's fields.
    expect(await form.innerText()).not.toContain('This node has no properties');
    await form.locator('[data-test="field-/baseUrl"]').waitFor();
    expect(await form.locator('[data-test="field-/apiKey"]').getAttribute('type')).toBe('password');
    await form.locator('select[data-test="field-"]').selectOption({ label: 'Anthropic' });
    await form.locator('[data-test="field-/baseUrl"]').waitFor(); // Anthropic has its own optional base URL
    await form.locator('[data-test="field-/version"]').waitFor();
    await page.fill('[data-test="credential-name"]', 'Claude');
    await form.locator('[data-test="field-/apiKey"]').fill('sk-ant-e2e-secret');
    await form.locator('[data-test="field-/model"]').fill('claude-3-5-haiku-latest');
    await shot('01-ai-credential-form');
    await page.click('[data-test="credential-save"]');
    await form.waitFor({ state: 'detached' });
    const chosen = await page.locator('[data-test="node-credential"]').inputValue();
    expect(chosen).not.toBe('');
    const stored = (await server.api('GET', `/api/v1/credentials/${chosen}`)).body;
    expect(stored).toMatchObject({ name: 'Claude', type: 'ai-model' });
    expect(stored.fields).toEqual(expect.arrayContaining(['apiKey', 'model', 'provider']));
    expect(JSON.stringify(stored)).not.toContain('sk-ant-e2e-secret');

    // Editing: nothing is read back; an empty secret keeps its value, a typed one replaces it.
    await page.click('[data-test="credential-edit"]');
    await form.locator('select[data-test="field-"]').selectOption({ label: 'Anthropic' });
    const key = form.locator('[data-test="field-/apiKey"]');
    expect(await key.inputValue()).toBe('');
    expect(await key.getAttribute('placeholder')).toMatch(/stored/);
    await form.locator('[data-test="field-/model"]').fill('claude-3-7-sonnet-latest');
    await shot('02-ai-credential-edit');
    await page.click('[data-test="credential-save"]');
    await form.waitFor({ state: 'detached' });
    expect((await server.api('GET', `/api/v1/credentials/${chosen}`)).body.fields).toEqual(expect.arrayContaining(['apiKey', 'model', 'provider']));
  });

  it('1b. "Test connection" runs the credential type’s test with what is typed and shows what happened', async () => {
    await openFlow({ id: 'pg-cred', name: 'PostgreSQL credential', nodes: [{ id: 'db', type: 'postgres', position: { x: 300, y: 200 }, props: { sql: 'SELECT 1' } }] });
    await clickNode('db');
    await page.click('[data-test="credential-new"]');
    const form = page.locator('[data-test="credential-form"]');
    await form.locator('[data-test="field-/host"]').fill('127.0.0.1');
    await form.locator('[data-test="field-/port"]').fill('9');
    await form.locator('[data-test="field-/database"]').fill('nothing');
    await form.locator('[data-test="field-/user"]').fill('nobody');
    await form.locator('[data-test="field-/password"]').fill('e2e-pg-secret');
    await page.click('[data-test="credential-test"]');
    await waitForText('[data-test="credential-test-result"]', 'Connection failed');
    expect(await page.locator('[data-test="credential-test-result"]').innerText()).not.toContain('e2e-pg-secret');
    await shot('03-test-connection');
    expect((await server.api('GET', '/api/v1/credentials')).body.filter((c: any) => c.type === 'postgres')).toHaveLength(0);
    await page.click('[data-test="credential-form"] button:has-text("Cancel")');
  });

  it('2. ▶ Run starts at the inject with its own payload; the selection does not decide; "run from here" is explicit', async () => {
    await openFlow(
      {
        id: 'run-inject',
        name: 'Run inject',
        nodes: [
          { id: 'tick', type: 'inject', name: 'Tick', position: { x: 100, y: 200 }, props: { payload: '{"n":6}', payloadType: 'json' }, wires: [['double']] },
          { id: 'double', type: 'function', name: 'Double', position: { x: 360, y: 200 }, props: { func: 'msg.payload = { n: msg.payload.n * 2 }; return msg;' }, wires: [['show']] },
          { id: 'show', type: 'debug', name: 'Show', position: { x: 620, y: 200 }, props: {}, wires: [] },
        ],
      },
      true,
    );
    await clickNode('double'); // selected mid-flow: before, "Start at" took it and the run failed with a TypeError
    await page.click('[data-test="open-run"]');
    await page.locator('[data-test="run-dialog"]').waitFor();
    expect(await page.locator('[data-test="run-input"]').inputValue()).toBe(''); // before: {"payload":"hello"}
    expect(await page.locator('[data-test="run-entry-tick"]').isChecked()).toBe(true);
    await shot('04-run-dialog-inject');
    await page.click('[data-test="run-start"]');
    await waitForText('[data-test="debug-entry"]', '"n": 12');
    expect(await page.locator('[data-test="debug"]').innerText()).not.toContain('hello');
    await shot('05-run-inject-own-payload');

    // Run from here, with this input: explicit, and the input is required.
    await page.click('[data-test="open-run"]');
    await page.check('[data-test="run-entry-node"]');
    expect(await page.locator('[data-test="run-node"]').inputValue()).toBe('double');
    await page.click('[data-test="run-start"]');
    await waitForText('[data-test="run-dialog"] [role="alert"]', 'Type the message this node receives');
    await page.fill('[data-test="run-input"]', '{"payload": {"n": 50}}');
    await shot('06-run-from-here');
    await page.click('[data-test="run-start"]');
    await waitForText('[data-test="debug-entry"]', '"n": 100');
  });

  it('2b. a webhook flow is run through its webhook: POST to its address with the typed body, the answer shown', async () => {
    await openFlow(
      {
        id: 'run-hook',
        name: 'Run webhook',
        nodes: [
          { id: 'hook', type: 'webhook', name: 'Hello', position: { x: 100, y: 200 }, props: { method: 'POST', url: '/run-hello' }, wires: [['greet']] },
          { id: 'greet', type: 'function', name: 'Greet', position: { x: 360, y: 200 }, props: { func: 'msg.payload = { greeting: "hi " + msg.payload.name }; return msg;' }, wires: [['answer', 'show']] },
          { id: 'answer', type: 'webhook-response', name: 'Answer', position: { x: 620, y: 140 }, props: {}, wires: [] },
          { id: 'show', type: 'debug', name: 'Show', position: { x: 620, y: 280 }, props: {}, wires: [] },
        ],
      },
      true,
    );
    await page.click('[data-test="open-run"]');
    expect(await page.locator('[data-test="run-entry-hook"]').isChecked()).toBe(true);
    expect(await page.locator('[data-test="run-webhook-url"]').innerText()).toBe(`${server.url}/webhook/run-hello`);
    await page.fill('[data-test="run-input"]', '{"name": "Ada"}');
    await page.click('[data-test="run-start"]');
    await waitForText('[data-test="run-webhook-answer"]', 'HTTP 200');
    expect(await page.locator('[data-test="run-webhook-answer"]').innerText()).toContain('hi Ada');
    await shot('07-run-through-webhook');
    await page.click('[data-test="run-dialog"] button:has-text("Close")');
    await waitForText('[data-test="debug-entry"]', 'hi Ada');
  });

  it('3. property labels are words, not code names', async () => {
    await openFlow({
      id: 'labels',
      name: 'Labels',
      nodes: [
        { id: 'wait', type: 'delay', position: { x: 100, y: 200 }, props: { pauseType: 'rate' }, wires: [['show']] },
        { id: 'show', type: 'debug', position: { x: 400, y: 200 }, props: {}, wires: [] },
      ],
    });
    await clickNode('wait');
    const labels = async () => (await page.locator('[data-test="properties"] .label').allInnerTexts()).map((l) => l.replace(/\*$/, '').trim());
    const delayLabels = await labels();
    expect(delayLabels).toEqual(expect.arrayContaining(['Action', 'Rate (messages)', 'Rate unit', 'Per (period length)', 'Allow msg.rate to override', 'Drop extra messages']));
    // Only the chosen action's fields: a rate limit has no fixed or random delay.
    for (const hidden of ['Delay for', 'Random delay from']) expect(delayLabels).not.toContain(hidden);
    for (const code of ['pauseType', 'nbRateUnits', 'allowrate', 'timeoutUnits']) expect(delayLabels).not.toContain(code);
    await shot('08-delay-labels');
    await clickNode('show');
    const debugLabels = await labels();
    expect(debugLabels).toEqual(expect.arrayContaining(['Show in the debug sidebar', 'Show as node status', 'Output']));
    expect(debugLabels).not.toContain('tosidebar');
  });

  it('4. the webhook’s method and full address are on the node and copyable from the form', async () => {
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await openFlow({ id: 'hook-address', name: 'Hook address', nodes: [{ id: 'hook', type: 'webhook', position: { x: 200, y: 200 }, props: { method: 'POST', url: '/hello' }, wires: [] }] });
    expect(await page.evaluate(() => (window as any).flowcrew.view.graph.getNodeById('hook').detail)).toBe('POST /webhook/hello');
    await clickNode('hook');
    expect(await page.locator('[data-test="webhook-url"]').innerText()).toBe(`POST ${server.url}/webhook/hello`);
    await page.click('[data-test="webhook-copy"]');
    await waitForText('[data-test="webhook-copy"]', 'Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`${server.url}/webhook/hello`);
    await page.fill('[data-test="field-/url"]', '/orders/:id');
    await page.waitForFunction(() => (window as any).flowcrew.view.graph.getNodeById('hook').detail === 'POST /webhook/orders/:id');
    await shot('09-webhook-address');
  });

  it('4b. deploy state on every tab; Ctrl+S without a change stores no new version; tabs come back after a reload', async () => {
    await openFlow({ id: 'state-a', name: 'State A', nodes: [{ id: 'n', type: 'debug', position: { x: 200, y: 200 }, props: {}, wires: [] }] }, true);
    await openFlow({ id: 'state-b', name: 'State B', nodes: [{ id: 'n', type: 'debug', position: { x: 200, y: 200 }, props: {}, wires: [] }] });
    const state = (id: string) => page.locator(`[data-test="tab-state-${id}"]`).innerText();
    expect(await state('state-a')).toBe('v1 live');
    expect(await state('state-b')).toBe('not deployed');

    // Ctrl+S with nothing changed: no new version.
    await page.click('[data-test="canvas"]', { position: { x: 40, y: 40 } });
    await page.keyboard.press('Control+s');
    await waitForText('[data-test="toast"]', 'has no unsaved changes');
    expect((await server.api('GET', '/api/v1/flows/state-b')).body.version).toBe(1);

    // Saved but not deployed, on a deployed flow: the tab says so.
    await page.click('[data-test="flow-tab-state-a"]');
    await clickNode('n');
    await page.fill('[data-test="node-name"]', 'Renamed');
    await waitForText('[data-test="tab-state-state-a"]', 'unsaved');
    await page.keyboard.press('Control+s');
    await waitForText('[data-test="tab-state-state-a"]', 'v1 live · changes not deployed');
    expect((await server.api('GET', '/api/v1/flows/state-a')).body.version).toBe(2);
    await page.keyboard.press('Control+s');
    expect((await server.api('GET', '/api/v1/flows/state-a')).body.version).toBe(2);
    await shot('10-tab-deploy-state');

    // After a reload every open tab is back, not only the active one.
    const before = await page.locator('[data-test^="flow-tab-"]').evaluateAll((tabs) => tabs.map((t) => t.getAttribute('data-test')));
    await page.reload();
    await page.locator('[data-test="flow-tab-state-a"]').waitFor();
    await page.locator('[data-test="flow-tab-state-b"]').waitFor();
    const after = await page.locator('[data-test^="flow-tab-"]').evaluateAll((tabs) => tabs.map((t) => t.getAttribute('data-test')));
    expect(after.sort()).toEqual(before.sort());
    await waitForText('[data-test="tab-state-state-a"]', 'v1 live · changes not deployed');
    await shot('11-tabs-after-reload');
    expect(pageErrors).toEqual([]);
  });

  it('5. nodes stored without positions are laid out, not stacked; the inject button on the canvas runs the flow', async () => {
    await openFlow(
      {
        id: 'no-positions',
        name: 'No positions',
        nodes: [
          { id: 'tick', type: 'inject', name: 'Tick', props: { payload: '{"n":21}', payloadType: 'json' }, wires: [['double']] },
          { id: 'double', type: 'function', name: 'Double', props: { func: 'msg.payload = { n: msg.payload.n * 2 }; return msg;' }, wires: [['show']] },
          { id: 'show', type: 'debug', name: 'Show', props: {}, wires: [] },
        ],
      },
      true,
    );
    const boxes = await page.evaluate(() => (window as any).flowcrew.view.graph._nodes.map((n: any) => ({ id: n.id, x: n.pos[0], y: n.pos[1], w: n.size[0], h: n.size[1] })));
    for (const [i, a] of boxes.entries()) for (const b of boxes.slice(i + 1)) expect(a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y, `${a.id} overlaps ${b.id}`).toBe(true);
    await page.click('[data-test="tab-debug"]');
    const button = await page.evaluate(() => {
      const view = (window as any).flowcrew.view;
      const node = view.graph.getNodeById('tick');
      const [cx, cy] = view.canvas.ds.convertOffsetToCanvas([node.pos[0] + 16, node.pos[1] + 16]);
      const rect = view.element.getBoundingClientRect();
      return { x: rect.left + cx, y: rect.top + cy };
    });
    await page.mouse.click(button.x, button.y);
    await waitForText('[data-test="toast"]', 'Injected "Tick"');
    await waitForText('[data-test="debug-entry"]', '"n": 42');
    await shot('12-layout-and-inject-button');

    // The debug node's toggle, on the canvas.
    const toggle = await page.evaluate(() => {
      const view = (window as any).flowcrew.view;
      const node = view.graph.getNodeById('show');
      const [cx, cy] = view.canvas.ds.convertOffsetToCanvas([node.pos[0] + node.size[0] - 16, node.pos[1] + 16]);
      const rect = view.element.getBoundingClientRect();
      return { x: rect.left + cx, y: rect.top + cy };
    });
    expect(await page.evaluate(() => (window as any).flowcrew.view.graph.getNodeById('show').debugToggle)).toBe(true);
    await page.mouse.click(toggle.x, toggle.y);
    await page.waitForFunction(() => (window as any).flowcrew.view.graph.getNodeById('show').debugToggle === false);
    await waitForText('[data-test="tab-state-no-positions"]', 'unsaved');
    await shot('13-debug-toggle-off');

    // Escape closes the canvas menu; "Arrange all nodes" is on it.
    const box = (await page.locator('[data-test="canvas"]').boundingBox())!;
    await page.mouse.click(box.x + 60, box.y + 60, { button: 'right' });
    await page.locator('.litecontextmenu').filter({ hasText: 'Arrange all nodes' }).waitFor();
    await page.keyboard.press('Escape');
    await page.locator('.litecontextmenu').waitFor({ state: 'detached' });
  });

  it('6. visual bugs: code is coloured for the dark theme; the Runs tab does not keep another flow’s run', async () => {
    await page.click('[data-test="flow-tab-run-inject"]');
    await clickNode('double');
    const code = page.locator('[data-test="properties"] .cm-editor').first();
    await code.waitFor();
    expect(await code.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(40, 44, 52)'); // one-dark
    await shot('14-code-dark-theme');

    await page.click('[data-test="tab-runs"]');
    await page.locator('[data-test="run-row"]').first().click();
    await page.locator('[data-test="run-detail"]').waitFor();
    await page.click('[data-test="flow-tab-run-hook"]');
    await page.locator('[data-test="run-detail"]').waitFor({ state: 'detached' });
    await shot('15-runs-tab-follows-flow');
  });

  it('7. a loop is warned about while editing, naming its nodes', async () => {
    await openFlow({
      id: 'looping',
      name: 'Looping',
      nodes: [
        { id: 'tick', type: 'inject', name: 'Tick', position: { x: 100, y: 200 }, props: {}, wires: [['set']] },
        { id: 'set', type: 'function', name: 'Set', position: { x: 360, y: 200 }, props: { func: 'return msg;' }, wires: [['wait']] },
        { id: 'wait', type: 'delay', name: 'Wait', position: { x: 620, y: 200 }, props: {}, wires: [['set']] },
      ],
    });
    await waitForText('[data-test="loop-warning"]', 'Set → Wait → back to Set');
    await shot('16-loop-warning');
    // Cut the loop: the warning goes.
    await clickNode('wait');
    await page.keyboard.press('Delete');
    await page.locator('[data-test="loop-warning"]').waitFor({ state: 'detached' });
  });

  it('8. Ctrl+F finds a node on the canvas; ? lists the shortcuts', async () => {
    await page.click('[data-test="tab-properties"]');
    await page.click('[data-test="canvas"]', { position: { x: 40, y: 300 } });
    await page.keyboard.press('Control+f');
    await page.locator('[data-test="canvas-search-input"]').waitFor();
    await page.keyboard.type('funct');
    await page.locator('[data-test="canvas-search-set"]').waitFor();
    expect(await page.locator('[data-test="canvas-search"] li').count()).toBe(1);
    await shot('17-find-node');
    await page.keyboard.press('Enter');
    await page.locator('[data-test="canvas-search"]').waitFor({ state: 'detached' });
    expect(await page.evaluate(() => (window as any).flowcrew.view.selectedIds())).toEqual(['set']);
    await page.locator('[data-test="properties"] code').filter({ hasText: 'set' }).first().waitFor();

    await page.click('[data-test="canvas"]', { position: { x: 40, y: 300 } });
    await page.keyboard.press('Shift+?');
    await waitForText('[data-test="shortcuts"]', 'Find a node on the canvas');
    await shot('18-shortcuts');
    await page.keyboard.press('Escape');
    await page.locator('[data-test="shortcuts"]').waitFor({ state: 'detached' });
  });
});
