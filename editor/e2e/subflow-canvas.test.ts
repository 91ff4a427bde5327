/**
 * End to end (issue 14, "the editor opens it in place"): a library sub-flow used in a flow opens from the node's panel
 * as a canvas tab of its own (as Node-RED's subflow tab), edited exactly as a flow is: a node dropped from the
 * palette, wired with the mouse, its expression edited in the property panel, copy/paste, undo/redo, and the next
 * version published with Ctrl+S. The runtime stores v2 with exactly those inner nodes, the flow's node is offered the
 * upgrade, and a flow pinned to v2 runs the edited expression. A refused publish shows the runtime's problem and
 * stores nothing (undo brings the node back). Its interface (input, output, properties) is edited as fields in the
 * property panel, undone, and published; old versions are listed. Screenshots in test-artifacts/e2e/subflow-*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { createAdmin, signedInEditor } from './auth.ts';
import { drawWire, screenshot } from './browser.ts';
import { clickNode, openFlow, typeInEditor } from './editor-page.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
const shot = (name: string) => screenshot(page, 'e2e', `subflow-${name}`);
const sfx = Date.now().toString(36);
const vatId = `vat-${sfx}`;

const vat = {
  id: vatId,
  name: 'Add VAT',
  properties: { type: 'object', properties: { rate: { type: 'number', minimum: 0, default: 0.2 } } },
  nodes: [
    { id: 'in', type: 'subflow-in', position: { x: 60, y: 80 }, wires: [['calc']] },
    { id: 'calc', type: 'change', name: 'Calc', position: { x: 280, y: 80 }, props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'payload * (1 + subflow.props.rate)', tot: 'jsonata' }] }, wires: [['out']] },
    { id: 'out', type: 'subflow-out', position: { x: 520, y: 80 } },
  ],
};

beforeAll(async () => {
  server = await startTestServer();
  await createAdmin(server);
  expect((await server.api('POST', '/api/v1/subflows', vat)).status).toBe(201);
  ({ browser, page } = await signedInEditor(server, { dialogs: 'accept' }));
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  page.on('console', (m) => void (m.type() === 'error' || m.type() === 'warning' ? console.error(`console ${m.type()}: ${m.text()}`) : undefined));
});

afterEach(async (context) => {
  if (context.task.result?.state === 'fail') await shot(`failed-${context.task.name.slice(0, 20)}`);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const tabOf = (id: string) => `subflow/${id}`;
const waitForCount = (n: number) => page.waitForFunction((count) => (window as any).flowcrew.view.graph._nodes.length === count, n);
const toast = (text: string) => page.locator('[data-test="toast"]').filter({ hasText: text }).first().waitFor({ timeout: 20_000 });

/** Opens the sub-flow used by node `nodeId` of the open flow as a tab, and waits for its nodes on the canvas. */
async function openAsTab(nodeId: string, subflowId: string, nodes: number): Promise<void> {
  await clickNode(page, nodeId);
  await page.click('[data-test="subflow-open-canvas"]');
  await page.locator(`[data-test="flow-tab-${tabOf(subflowId)}"]`).waitFor();
  await page.waitForFunction(([tab, count]) => {
    const canvas = document.querySelector('[data-test="canvas"]') as HTMLCanvasElement | null;
    return canvas?.dataset.flowId === tab && (window as any).flowcrew.view.graph._nodes.length === count;
  }, [tabOf(subflowId), nodes] as const);
}

describe('a library sub-flow opened in place as a tab, end to end', () => {
  it('is edited as a flow is (palette drop, wire, form, copy/paste, undo/redo) and Ctrl+S publishes the next version', async () => {
    await openFlow(server, page, {
      id: `invoice-${sfx}`,
      name: 'Invoice',
      nodes: [
        { id: 'go', type: 'inject', position: { x: 80, y: 100 }, wires: [['tax']] },
        { id: 'tax', type: `subflow:${vatId}`, name: 'VAT', position: { x: 300, y: 100 }, props: { version: 1, rate: 0.1 }, wires: [] },
      ],
    });
    await openAsTab('tax', vatId, 3);
    // A tab beside the flow's, not an overlay: the flow stays open, the sub-flow's tab is the active one.
    expect(await page.locator(`[data-test="flow-tab-${tabOf(vatId)}"]`).innerText()).toContain('Sub-flow: Add VAT');
    await page.locator(`[data-test="flow-tab-invoice-${sfx}"]`).waitFor();
    expect(await page.locator('[data-test="deploy"]').innerText()).toContain('Publish');
    await shot('01-tab');

    // A publish the runtime refuses (the entry node deleted) says why; nothing stored; undo brings the node back.
    await clickNode(page, 'in');
    await page.keyboard.press('Delete');
    await waitForCount(2);
    await page.click('[data-test="deploy"]');
    await page.locator('.flow-issues').filter({ hasText: 'sub-flow entry node' }).waitFor();
    expect((await server.api('GET', `/api/v1/subflows/${vatId}`)).body.definition.version).toBe(1);
    await page.locator('[data-test="canvas"]').focus();
    await page.keyboard.press('Control+z');
    await waitForCount(3);

    // The Calc node's expression, edited in the property panel.
    await clickNode(page, 'calc');
    const field = '[data-test="properties"] [data-test="field-/rules/0/to"]';
    await page.locator(field).waitFor();
    await typeInEditor(page, field, '$round(payload * (1 + subflow.props.rate), 2)');
    // A debug node dropped from the palette and wired from Calc with the mouse.
    // Below the fitted nodes, so that it lands on the empty canvas.
    const box = (await page.locator('[data-test="canvas"]').boundingBox())!;
    await page.dragAndDrop('[data-test="palette-node-debug"]', '[data-test="canvas"]', { targetPosition: { x: box.width / 2, y: box.height - 60 } });
    await waitForCount(4);
    const added = await page.evaluate(() => (window as any).flowcrew.view.graph._nodes.map((n: any) => String(n.id)).find((id: string) => !['in', 'calc', 'out'].includes(id)) as string);
    await drawWire(page, 'calc', added);
    await page.waitForFunction(() => (window as any).flowcrew.view.graph.getNodeById('calc').outputs[0].links?.length === 2);
    // Copy and paste the debug node, then undo and redo the paste, and undo it again.
    await clickNode(page, added);
    await page.keyboard.press('Control+c');
    await page.keyboard.press('Control+v');
    await waitForCount(5);
    await page.keyboard.press('Control+z');
    await waitForCount(4);
    await page.keyboard.press('Control+y');
    await waitForCount(5);
    await page.keyboard.press('Control+z');
    await waitForCount(4);
    expect(await page.locator(`[data-test="tab-state-${tabOf(vatId)}"]`).innerText()).toContain('unpublished');
    await shot('02-edited');

    await page.keyboard.press('Control+s');
    await toast('Published sub-flow "Add VAT" v2');
    expect(await page.locator(`[data-test="tab-state-${tabOf(vatId)}"]`).innerText()).toBe('v2');
    const v2 = (await server.api('GET', `/api/v1/subflows/${vatId}`)).body.definition;
    expect(v2.version).toBe(2);
    const nodes = new Map(v2.nodes.map((n: { id: string }) => [n.id, n]));
    expect(nodes.size).toBe(4);
    expect((nodes.get('calc') as any).props.rules[0].to).toBe('$round(payload * (1 + subflow.props.rate), 2)');
    expect((nodes.get('calc') as any).wires[0].sort()).toEqual(['out', added].sort());
    expect((nodes.get(added) as any).type).toBe('debug');
    // Nothing was stored as a flow.
    expect((await server.api('GET', `/api/v1/flows/${encodeURIComponent(tabOf(vatId))}`)).status).toBe(404);
    await shot('03-published');

    // Back on the flow's tab, its node is offered the upgrade (never automatic).
    await page.click(`[data-test="flow-tab-invoice-${sfx}"] .tab-name`);
    await page.waitForFunction((id) => (document.querySelector('[data-test="canvas"]') as HTMLCanvasElement).dataset.flowId === id, `invoice-${sfx}`);
    await clickNode(page, 'tax');
    await page.locator('[data-test="subflow-upgrade"]').filter({ hasText: 'Upgrade to v2' }).waitFor();

    // A flow pinned to v2 runs the edited expression (v1 gave 55.00000000000001).
    const flowId = `invoice-v2-${sfx}`;
    const flow = { id: flowId, name: 'v2', nodes: [{ id: 'go', type: 'inject', wires: [['tax']] }, { id: 'tax', type: `subflow:${vatId}`, props: { version: 2, rate: 0.1 }, wires: [] }] };
    expect((await server.api('POST', '/api/v1/flows/import?deploy=true', flow)).status).toBe(201);
    const started = await server.api('POST', `/api/v1/flows/${flowId}/runs`, { input: { payload: 50 } });
    const run = await server.waitRun(started.body.runId, 30_000);
    expect(run.status, run.error).toBe('succeeded');
    expect(run.invocations.find((i: { nodeId: string; nodeType: string }) => i.nodeId === 'tax' && i.nodeType.startsWith('subflow:')).outputs[0].msg.payload).toBe(55);
  });

  it("edits the sub-flow's input, output and properties as fields in the property panel (undoable), publishes them, lists its versions", async () => {
    const id = `iface-${sfx}`;
    expect((await server.api('POST', '/api/v1/subflows', { ...vat, id, name: 'Interface' })).status).toBe(201);
    await openFlow(server, page, { id: `uses-${id}`, name: 'Uses interface', nodes: [{ id: 'sub', type: `subflow:${id}`, position: { x: 300, y: 100 }, props: { version: 1 }, wires: [] }] });
    await openAsTab('sub', id, 3);
    await page.click('[data-test="tab-properties"]');
    const iface = page.locator('[data-test="subflow-interface"]');
    await iface.waitFor();
    // The property written in JSON Schema shows as a field: its type, default, and what rows do not edit (minimum) kept.
    const properties = iface.locator('[data-test="output-fields-/properties"]');
    expect(await properties.locator('[data-test="output-field-name"]').inputValue()).toBe('rate');
    expect(await properties.locator('[data-test="output-field-type"]').inputValue()).toBe('number');
    expect(await properties.locator('[data-test="output-field-kept"]').textContent()).toContain('minimum');
    await properties.locator('[data-test="output-field-default"]').fill('0.25');
    await properties.locator('[data-test="output-field-add"]').click();
    await properties.locator('[data-test="output-field-name"]').nth(1).fill('label');
    await properties.locator('[data-test="output-field-required"]').nth(1).uncheck();
    await properties.locator('[data-test="output-field-default"]').nth(1).fill('VAT');
    const input = iface.locator('[data-test="output-fields-/input"]');
    await input.locator('[data-test="output-field-add"]').click();
    await input.locator('[data-test="output-field-name"]').fill('payload');
    await input.locator('[data-test="output-field-type"]').selectOption('number');
    await input.locator('[data-test="output-field-description"]').fill('The net amount');
    // An interface edit is undone like a node edit (the Undo button).
    await page.fill('[data-test="subflow-description"]', 'A typo');
    await page.locator('[data-test="subflow-description"]').blur();
    await page.click('button[title="Undo (Ctrl+Z)"]');
    expect(await page.locator('[data-test="subflow-description"]').inputValue()).toBe('');
    await page.fill('[data-test="subflow-description"]', 'Adds VAT at a rate');
    await shot('04-interface');

    await page.click('[data-test="deploy"]');
    await toast('Published sub-flow "Interface" v2');
    const v2 = (await server.api('GET', `/api/v1/subflows/${id}`)).body.definition;
    expect(v2.version).toBe(2);
    expect(v2.description).toBe('Adds VAT at a rate');
    expect(v2.properties).toEqual({ type: 'object', properties: { rate: { type: 'number', minimum: 0, default: 0.25 }, label: { type: 'string', default: 'VAT' } } });
    expect(v2.input).toEqual({ type: 'object', properties: { payload: { type: 'number', description: 'The net amount' } }, required: ['payload'] });
    expect(v2.output).toBeUndefined();

    // Its versions: v2 the latest, v1 loadable into the tab (publishing it would make v3).
    await page.click('[data-test="tab-versions"]');
    await page.locator('[data-test="subflow-version-2"]').filter({ hasText: 'latest' }).waitFor();
    await page.click('[data-test="subflow-version-load-1"]');
    await page.locator(`[data-test="tab-state-${tabOf(id)}"]`).filter({ hasText: 'unpublished' }).waitFor();
    await page.click('[data-test="tab-properties"]');
    expect(await page.locator('[data-test="subflow-description"]').inputValue()).toBe('');
    await shot('05-versions');

    // A reload reopens the sub-flow's tab, active, with its unpublished working copy (kept as a draft).
    await page.waitForTimeout(600); // the draft is written 300 ms after the last edit
    await page.reload();
    await page.locator(`[data-test="tab-state-${tabOf(id)}"]`).filter({ hasText: 'unpublished' }).waitFor();
    await page.waitForFunction((tab) => (document.querySelector('[data-test="canvas"]') as HTMLCanvasElement | null)?.dataset.flowId === tab, tabOf(id));
    await page.click('[data-test="tab-properties"]');
    expect(await page.locator('[data-test="subflow-description"]').inputValue()).toBe('');
  });

  it('defines a new sub-flow from the Flows menu: v1 (entry wired to answer) opens as a tab, its node in the palette of other tabs (not its own)', async () => {
    await page.click('[data-test="flows-menu"]');
    await page.locator(`[data-test="open-subflow-${vatId}"]`).waitFor(); // the library's sub-flows are listed
    await page.click('[data-test="new-subflow"]');
    await page.fill('[data-test="new-subflow-name"]', 'New sub-flow');
    await page.keyboard.press('Enter');
    await page.locator('[data-test="flow-tab-subflow/new-sub-flow"]').waitFor();
    await page.waitForFunction(() => (document.querySelector('[data-test="canvas"]') as HTMLCanvasElement | null)?.dataset.flowId === 'subflow/new-sub-flow');
    await waitForCount(2);
    // Its own tab's palette offers neither triggers nor itself (no self-nesting); another tab offers it.
    await page.locator('[data-test="palette-node-debug"]').waitFor();
    expect(await page.locator('[data-test="palette-node-inject"]').count()).toBe(0);
    expect(await page.locator('[data-test="palette-node-subflow:new-sub-flow"]').count()).toBe(0);
    await page.click('[data-test="flows-menu"]');
    await page.click(`[data-test="open-subflow-${vatId}"]`);
    await page.waitForFunction((tab) => (document.querySelector('[data-test="canvas"]') as HTMLCanvasElement | null)?.dataset.flowId === tab, tabOf(vatId));
    await page.locator('[data-test="palette-node-subflow:new-sub-flow"]').waitFor();
    const v1 = (await server.api('GET', '/api/v1/subflows/new-sub-flow')).body.definition;
    expect(v1).toMatchObject({ version: 1, name: 'New sub-flow', nodes: [{ id: 'in', type: 'subflow-in', wires: [['out']] }, { id: 'out', type: 'subflow-out' }] });
    await shot('06-new');
  });
});
