/**
 * End to end: the built editor in headless Chromium against a real runtime (temporary data directory, port 0).
 * One user story, step by step, with a screenshot of each step in test-artifacts/e2e/:
 * sign in, build a webhook flow by drag and drop, deploy, call the webhook, watch it live, open the run, export and import.
 * Then the bad inputs: invalid props, a refused deploy, malformed import JSON, a lost live connection.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { createAdmin, signedInEditor } from './auth.ts';
import { ARTIFACTS, drawWire, screenshot } from './browser.ts';

const SHOTS = 'e2e';
let server: TestServer;
let browser: Browser;
let page: Page;
let step = 0;
const pageErrors: string[] = [];
/** GET /flows/:id/debug asked by the page: none, the runtime pushes the catch-up with the subscription. */
const debugFetches: string[] = [];

const shot = (name: string) => screenshot(page, SHOTS, `${String(++step).padStart(2, '0')}-${name}`);
const text = (selector: string) => page.locator(selector).first().innerText();
/** Wait until an element matching `selector` contains `content`. */
const waitForText = (selector: string, content: string | RegExp, timeout = 15_000) => page.locator(selector).filter({ hasText: content }).first().waitFor({ timeout });
const nodeState = (name: string) => page.locator('[data-test="node-states"] li').filter({ hasText: new RegExp(`^${name}:`) }).first();

async function dropFromPalette(type: string, x: number, y: number): Promise<void> {
  await page.dragAndDrop(`[data-test="palette-node-${type}"]`, '[data-test="canvas"]', { targetPosition: { x, y } });
}

async function flowFromApi(id: string) {
  return (await server.api('GET', `/api/v1/flows/${id}`)).body;
}

describe('editor end to end', () => {
  beforeAll(async () => {
    server = await startTestServer();
    await createAdmin(server);
    ({ browser, page } = await signedInEditor(server, { acceptDownloads: true, pageErrors, dialogs: 'accept' }));
    page.on('request', (request) => {
      if (/\/api\/v1\/flows\/[^/]+\/debug/.test(request.url())) debugFetches.push(request.url());
    });
    await page.locator('[data-test="palette-node-webhook"]').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows the palette grouped by category, searchable', async () => {
    await waitForText('[data-test="connection"]', 'live');
    expect(await page.locator('[data-test="palette-group-trigger"]').innerText()).toMatch(/webhook/);
    await shot('palette');
    await page.fill('[data-test="palette-search"]', 'debu');
    await page.locator('[data-test="palette-node-debug"]').waitFor();
    expect(await page.locator('[data-test="palette-node-webhook"]').count()).toBe(0);
    await shot('palette-search');
    await page.fill('[data-test="palette-search"]', '');
  });

  it('creates a flow in a new tab', async () => {
    await page.click('[data-test="new-flow"]');
    await page.fill('[data-test="new-flow-name"]', 'E2E webhook');
    await page.press('[data-test="new-flow-name"]', 'Enter');
    await page.locator('[data-test="flow-tab-e2e-webhook"]').waitFor();
    expect((await flowFromApi('e2e-webhook')).name).toBe('E2E webhook');
    await shot('new-flow');
  });

  it('builds a webhook → debug flow by drag and drop, with inline validation', async () => {
    await dropFromPalette('webhook', 180, 260);
    await waitForText('[data-test="properties"]', 'webhook');
    // The url is required and has no default: flagged before anything is sent.
    await waitForText('[data-test="error-/url"]', 'is required');
    await shot('webhook-dropped-invalid');

    await page.fill('[data-test="field-/url"]', 'no-slash');
    await waitForText('[data-test="error-/url"]', 'must match pattern');
    await page.fill('[data-test="field-/url"]', '/e2e-hook');
    await page.locator('[data-test="error-/url"]').waitFor({ state: 'detached' });
    await page.fill('[data-test="node-name"]', 'Incoming');
    await shot('webhook-properties');

    await dropFromPalette('debug', 560, 260);
    await waitForText('[data-test="properties"]', 'debug');
    await page.fill('[data-test="node-name"]', 'Show it');
    await drawWire(page, 'Incoming', 'Show it');
    await shot('wired');
    const doc = await page.evaluate(() => (window as any).flowcrew.view.graph._links.size);
    expect(doc).toBe(1);
  });

  it('undoes and redoes the wire', async () => {
    await page.click('[data-test="canvas"]', { position: { x: 40, y: 40 } });
    await page.keyboard.press('Control+z');
    await page.waitForFunction(() => (window as any).flowcrew.view.graph._links.size === 0);
    await page.keyboard.press('Control+y');
    await page.waitForFunction(() => (window as any).flowcrew.view.graph._links.size === 1);
  });

  it('multi-selects, copies, pastes and deletes nodes; zooms and fits', async () => {
    const nodeCount = () => page.evaluate(() => (window as any).flowcrew.view.graph._nodes.length as number);
    await page.click('[data-test="tab-properties"]');
    // Ctrl+drag draws a selection rectangle around both nodes.
    const box = (await page.locator('[data-test="canvas"]').boundingBox())!;
    await page.keyboard.down('Control');
    await page.mouse.move(box.x + 60, box.y + 150);
    await page.mouse.down();
    await page.mouse.move(box.x + 800, box.y + 400, { steps: 10 });
    await page.mouse.up();
    await page.keyboard.up('Control');
    await waitForText('[data-test="properties"]', '2 nodes selected');
    await page.keyboard.press('Control+c');
    await page.keyboard.press('Control+v');
    await page.waitForFunction(() => (window as any).flowcrew.view.graph._nodes.length === 4);
    await waitForText('[data-test="properties"]', '2 nodes selected'); // the pasted copies
    await shot('pasted');
    await page.keyboard.press('Delete');
    await page.waitForFunction(() => (window as any).flowcrew.view.graph._nodes.length === 2);
    expect(await nodeCount()).toBe(2);
    await page.click('[aria-label="Zoom in"]');
    expect(await text('.zoom-level')).toBe('120%');
    await page.click('[data-test="fit"]');
    expect(await text('.zoom-level')).toBe('100%');
  });

  it('deploys (save with If-Match, then deploy)', async () => {
    await page.click('[data-test="deploy"]');
    await waitForText('[data-test="toast"]', 'Deployed "E2E webhook"');
    const stored = await flowFromApi('e2e-webhook');
    expect(stored.deployed).toBe(true);
    expect(stored.nodes.map((n: { type: string }) => n.type).sort()).toEqual(['debug', 'webhook']);
    const webhook = stored.nodes.find((n: { type: string }) => n.type === 'webhook');
    const debug = stored.nodes.find((n: { type: string }) => n.type === 'debug');
    expect(webhook.props.url).toBe('/e2e-hook');
    expect(webhook.wires).toEqual([[debug.id]]);
    await shot('deployed');
  });

  it('shows live node status and the debug message when the webhook is called', async () => {
    await page.click('[data-test="tab-debug"]');
    const response = await fetch(`${server.url}/webhook/e2e-hook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hello: 'from e2e' }) });
    expect(response.status).toBe(202);
    await nodeState('Show it').filter({ hasText: 'succeeded, 1 message' }).waitFor({ timeout: 15_000 });
    await waitForText('[data-test="debug-entry"]', 'from e2e');
    // The trigger fired once: one message, counted once (run:started names it, its own node:finished counts it).
    await nodeState('Incoming').filter({ hasText: 'succeeded, 1 message' }).waitFor();
    expect(await nodeState('Incoming').innerText()).toBe('Incoming: succeeded, 1 message');
    await shot('live-status-and-debug');
  });

  it('opens the run in history with each node’s input, output and timing', async () => {
    await page.click('[data-test="tab-runs"]');
    await page.locator('[data-test="run-row"]').first().click();
    await waitForText('[data-test="run-status"]', 'succeeded');
    expect(await page.locator('[data-test="invocation"]').count()).toBe(2);
    expect(await text('[data-test="run-detail"]')).toContain('from e2e');
    await shot('run-detail');
    // Re-run with the original input: the runtime replays it as the webhook's output, so both nodes fire again.
    const original = await page.locator('[data-test="run-id"]').getAttribute('title');
    await page.click('[data-test="rerun"]');
    await waitForText('[data-test="toast"]', 'Run started again');
    await page.locator(`[data-test="run-id"]:not([title="${original}"])`).waitFor();
    await nodeState('Show it').filter({ hasText: 'succeeded, 2 messages' }).waitFor();
    await nodeState('Incoming').filter({ hasText: 'succeeded, 2 messages' }).waitFor();
    // The detail now shows the new run, entered at the webhook like the original, with the same input.
    await waitForText('[data-test="run-status"]', 'succeeded');
    expect(await page.locator('[data-test="invocation"]').count()).toBe(2);
    // (textContent: the invocations' input and output sit in collapsed <details>.)
    const detail = await page.locator('[data-test="run-detail"]').textContent();
    expect(detail).toContain('(trigger: no input)');
    expect(detail).toContain('from e2e');
    expect(await nodeState('Show it').innerText()).toBe('Show it: succeeded, 2 messages');
    await shot('rerun');
    await page.click('[data-test="run-detail"] button:has-text("Runs")');
  });

  it('exports the flow to a file and imports it back', async () => {
    await page.click('[data-test="open-export"]');
    const exported = JSON.parse(await page.locator('[data-test="export-text"]').inputValue());
    expect(exported.format).toBe('flowcrew/flow@1');
    expect(exported.nodes).toHaveLength(2);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-test="export-download"]')]);
    const file = path.join(ARTIFACTS, SHOTS, download.suggestedFilename());
    await download.saveAs(file);
    expect(JSON.parse(await readFile(file, 'utf8')).id).toBe('e2e-webhook');
    await shot('export');

    // Import the file as a copy: another id and a free webhook path.
    await page.click('[data-test="tab-import"]');
    const copy = { ...exported, id: 'e2e-webhook-copy', name: 'E2E webhook (copy)', nodes: exported.nodes.map((n: any) => (n.type === 'webhook' ? { ...n, props: { ...n.props, url: '/e2e-copy' } } : n)) };
    await page.setInputFiles('[data-test="import-file"]', { name: 'copy.flow.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(copy)) });
    await page.waitForFunction(() => (document.querySelector('[data-test="import-text"]') as HTMLTextAreaElement).value.includes('e2e-webhook-copy'));
    await page.click('[data-test="import-submit"]');
    await waitForText('[data-test="import-result"]', 'Imported 1 flow');
    await page.locator('[data-test="flow-tab-e2e-webhook-copy"]').waitFor();
    expect((await flowFromApi('e2e-webhook-copy')).nodes).toHaveLength(2);
    await shot('imported');
  });

  it('says what is wrong with malformed import JSON', async () => {
    await page.fill('[data-test="import-text"]', '{\n  "id": "broken",\n  "nodes": [\n    { "id": "a" \n  ]\n}');
    await page.click('[data-test="import-submit"]');
    await waitForText('[data-test="import-error"]', /Invalid JSON at line 5, column \d+/);
    await shot('import-malformed');
  });

  it('imports Node-RED JSON and lists the nodes it could not map', async () => {
    const nodeRed = [
      { id: 'tab1', type: 'tab', label: 'From Node-RED' },
      { id: 'in1', type: 'inject', z: 'tab1', name: 'tick', props: [{ p: 'payload' }], payloadType: 'date', x: 100, y: 80, wires: [['dbg1']] },
      { id: 'dbg1', type: 'debug', z: 'tab1', name: 'out', active: true, complete: 'payload', x: 300, y: 80, wires: [] },
      { id: 'sp1', type: 'serial out', z: 'tab1', name: 'serial port', x: 300, y: 160, wires: [] },
    ];
    await page.fill('[data-test="import-text"]', JSON.stringify(nodeRed, null, 2));
    await page.click('[data-test="import-submit"]');
    await waitForText('[data-test="import-result"]', 'Node-RED');
    await waitForText('[data-test="unmapped"]', 'serial out');
    await shot('import-node-red-unmapped');
    await page.click('[data-test="import-export"] button.close');
  });

  it('never sends invalid props: the deploy is stopped and the field flagged', async () => {
    await page.click('[data-test="flow-tab-e2e-webhook"]');
    const before = (await flowFromApi('e2e-webhook')).version;
    await dropFromPalette('webhook', 180, 480);
    await waitForText('[data-test="error-/url"]', 'is required');
    await page.click('[data-test="deploy"]');
    await waitForText('[data-test="toast"]', 'to fix first');
    expect((await flowFromApi('e2e-webhook')).version).toBe(before);
    await shot('invalid-not-sent');
  });

  it('shows a deploy refused by the runtime on the offending node, keeping the edits', async () => {
    // Valid on its own, but the path is taken by the copy deployed below: only the runtime can tell.
    await page.fill('[data-test="field-/url"]', '/e2e-copy');
    await page.click('[data-test="flow-tab-e2e-webhook-copy"]');
    await page.click('[data-test="deploy"]');
    await waitForText('[data-test="toast"]', 'Deployed "E2E webhook (copy)"');
    await page.click('[data-test="flow-tab-e2e-webhook"]');
    await page.click('[data-test="deploy"]');
    await waitForText('[data-test="toast"]', 'Deploy refused');
    await page.click('[data-test="tab-properties"]');
    await waitForText('[data-test="node-issues"]', /e2e-copy|already|taken|registered/i);
    await nodeState('webhook').filter({ hasText: '1 problem' }).waitFor();
    const stored = await flowFromApi('e2e-webhook');
    expect(stored.nodes).toHaveLength(3); // saved, not lost
    await shot('deploy-refused-on-node');
    // Fix it and deploy again.
    await page.fill('[data-test="field-/url"]', '/e2e-third');
    await page.click('[data-test="deploy"]');
    await waitForText('[data-test="toast"]', 'Deployed "E2E webhook"');
  });

  it('shows a lost live connection, reconnects and catches up on missed runs and debug messages', async () => {
    await page.click('[data-test="tab-debug"]');
    const entries = page.locator('[data-test="debug-entry"]');
    const entriesBefore = await entries.count();
    const messages = async (name: string) => Number(/(\d+) message/.exec((await nodeState(name).count()) ? await nodeState(name).innerText() : '')?.[1] ?? 0);
    const count = await messages('Show it');
    const triggerCount = await messages('Incoming');
    // Cut the connection and keep the editor from reconnecting while a run happens.
    await page.route('**/socket.io/**', (route) => route.abort());
    for (const socket of server.io.sockets.sockets.values()) socket.conn.close();
    await page.locator('[data-test="connection-lost"]').waitFor();
    await shot('connection-lost');
    const response = await fetch(`${server.url}/webhook/e2e-hook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"missed": true}' });
    expect(response.status).toBe(202);
    await page.unroute('**/socket.io/**');
    await page.locator('[data-test="connection-lost"]').waitFor({ state: 'detached', timeout: 20_000 });
    await waitForText('[data-test="toast"]', 'Live connection restored');
    await nodeState('Show it').filter({ hasText: new RegExp(`succeeded, ${count + 1} messages?`) }).waitFor();
    // The trigger's step is caught up from the run's stored invocations, counted once.
    expect(await nodeState('Incoming').innerText()).toMatch(new RegExp(`^Incoming: succeeded, ${triggerCount + 1} messages?$`));
    // The debug message printed while the connection was down is pushed from the runtime's buffer with the new
    // subscription (debugAfter), once, newest first — not fetched (debugFetches stays empty).
    await waitForText('[data-test="debug-entry"]', '"missed": true');
    await waitForText('[data-test="toast"]', /Caught up on .*\b1 debug message\b/);
    expect(await entries.count()).toBe(entriesBefore + 1);
    expect(await entries.first().innerText()).toContain('"missed": true');
    await shot('reconnected-resynced');
  });

  it('shows the last hour on the dashboard', async () => {
    await page.click('a[href="#/dashboard"]');
    await page.locator('[data-test="stat-runs"]').waitFor();
    // Two webhook calls and one re-run so far, all succeeded; two flows deployed.
    expect(await text('[data-test="stat-runs"]')).toMatch(/^3\s*runs$/);
    expect(await text('[data-test="stat-failed"]')).toMatch(/^0\s*failed/);
    expect(await text('[data-test="stat-active"]')).toMatch(/^2\s*active flows$/);
    await shot('dashboard');
    await page.goBack();
  });

  it('shows a flow’s recent debug messages when it is opened again, pushed with the subscription, not fetched', async () => {
    // Closed while the flow prints a message, then opened again from the flow list.
    await page.click('[data-test="tab-debug"]');
    await page.click('[data-test="flow-tab-e2e-webhook"] button.close');
    await page.locator('[data-test="flow-tab-e2e-webhook"]').waitFor({ state: 'detached' });
    const response = await fetch(`${server.url}/webhook/e2e-hook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"while": "closed"}' });
    expect(response.status).toBe(202);
    await expect.poll(async () => JSON.stringify((await server.api('GET', '/api/v1/flows/e2e-webhook/debug')).body)).toContain('closed');
    await page.goto(`${server.url}/#/flows/e2e-webhook`);
    await page.locator('[data-test="flow-tab-e2e-webhook"]').waitFor();
    await waitForText('[data-test="debug-entry"]', '"while": "closed"');
    expect(await page.locator('[data-test="debug-entry"]').filter({ hasText: '"while": "closed"' }).count()).toBe(1);
    await shot('debug-catchup-on-open');
    expect(debugFetches).toEqual([]);
  });

  it('raised no uncaught errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
