/**
 * End to end (issue 14, "the editor opens it in place"): a library sub-flow used in a flow is opened on a canvas of
 * its own from the node's panel (as Node-RED's subflow tab), its inner nodes drawn; a node's expression is edited in
 * its form, a node is added and wired with the mouse, and the next version is published from there. The runtime
 * stores v2 with exactly those inner nodes, the flow's node is offered the upgrade, and a flow pinned to v2 runs the
 * edited expression. A refused publish shows the runtime's problems. Its interface (input, output, properties) is
 * edited as fields and published. Screenshots in test-artifacts/e2e/subflow-*.png.
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

/** Page coordinates of a point of a node on the sub-flow's canvas (its title bar, or a port). */
async function subflowPoint(id: string, where: 'title' | 'output' | 'input'): Promise<{ x: number; y: number }> {
  return page.evaluate(
    ([key, at]) => {
      const view = (window as any).flowcrewSubflow.view;
      const node = view.graph.getNodeById(key);
      if (!node) throw new Error(`no node ${key} on the sub-flow canvas`);
      const point = at === 'title' ? [node.pos[0] + 30, node.pos[1] - 10] : at === 'output' ? node.getOutputPos(0) : node.getInputPos(0);
      const [cx, cy] = view.canvas.ds.convertOffsetToCanvas(point);
      const rect = view.element.getBoundingClientRect();
      return { x: rect.left + cx, y: rect.top + cy };
    },
    [id, where] as const,
  );
}

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

describe('a library sub-flow opened in place, end to end', () => {
  it('edits the inner nodes on a canvas and publishes the next version from there', async () => {
    await openFlow(server, page, {
      id: `invoice-${sfx}`,
      name: 'Invoice',
      nodes: [
        { id: 'go', type: 'inject', position: { x: 80, y: 100 }, wires: [['tax']] },
        { id: 'tax', type: `subflow:${vatId}`, name: 'VAT', position: { x: 300, y: 100 }, props: { version: 1, rate: 0.1 }, wires: [] },
      ],
    });
    await clickNode(page, 'tax');
    await page.click('[data-test="subflow-open-canvas"]');
    await page.locator('[data-test="subflow-canvas"]').waitFor();
    await page.waitForFunction(() => (window as any).flowcrewSubflow?.view?.graph?._nodes.length === 3);
    await shot('01-opened');

    // A publish the runtime refuses (the entry node removed) says why, marked on the canvas' list; nothing stored.
    const entry = await subflowPoint('in', 'title');
    await page.mouse.click(entry.x, entry.y);
    await page.locator('[data-test="subflow-node-delete"]').click();
    await page.click('[data-test="subflow-canvas-publish"]');
    await page.locator('[data-test="subflow-canvas-problems"]').filter({ hasText: 'sub-flow entry node' }).waitFor();
    expect((await server.api('GET', `/api/v1/subflows/${vatId}`)).body.definition.version).toBe(1);
    await page.click('[data-test="subflow-canvas-close"]'); // confirms dropping the changes (dialog accepted)
    await page.click('[data-test="subflow-open-canvas"]');
    await page.waitForFunction(() => (window as any).flowcrewSubflow?.view?.graph?._nodes.length === 3);

    // Edit the Calc node's expression in its form.
    const calc = await subflowPoint('calc', 'title');
    await page.mouse.click(calc.x, calc.y);
    const field = '[data-test="subflow-canvas"] [data-test="field-/rules/0/to"]';
    await page.locator(field).waitFor();
    await typeInEditor(page, field, '$round(payload * (1 + subflow.props.rate), 2)');
    // Add a debug node and wire Calc to it with the mouse.
    await page.selectOption('[data-test="subflow-add-type"]', 'debug');
    await page.click('[data-test="subflow-add"]');
    await page.waitForFunction(() => (window as any).flowcrewSubflow.view.graph._nodes.length === 4);
    const added = await page.evaluate(() => (window as any).flowcrewSubflow.view.graph._nodes.map((n: any) => String(n.id)).find((id: string) => !['in', 'calc', 'out'].includes(id)));
    const from = await subflowPoint('calc', 'output');
    const to = await subflowPoint(added, 'input');
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 8 });
    await page.mouse.move(to.x, to.y, { steps: 8 });
    await page.mouse.up();
    await page.waitForFunction((id) => (window as any).flowcrewSubflow.view.graph.getNodeById('calc').outputs[0].links?.length === 2, added);
    await shot('02-edited');

    await page.click('[data-test="subflow-canvas-publish"]');
    await page.locator('[data-test="subflow-canvas"]').waitFor({ state: 'detached' });
    await page.locator('[data-test="subflow-published"]').filter({ hasText: 'Published v2' }).waitFor();
    await page.locator('[data-test="subflow-upgrade"]').filter({ hasText: 'Upgrade to v2' }).waitFor();
    await shot('03-published');

    const v2 = (await server.api('GET', `/api/v1/subflows/${vatId}`)).body.definition;
    expect(v2.version).toBe(2);
    const nodes = new Map(v2.nodes.map((n: { id: string }) => [n.id, n]));
    expect((nodes.get('calc') as any).props.rules[0].to).toBe('$round(payload * (1 + subflow.props.rate), 2)');
    expect((nodes.get('calc') as any).wires[0].sort()).toEqual(['out', added].sort());
    expect((nodes.get(added) as any).type).toBe('debug');

    // A flow pinned to v2 runs the edited expression (v1 gave 55.00000000000001).
    const flowId = `invoice-v2-${sfx}`;
    const flow = { id: flowId, name: 'v2', nodes: [{ id: 'go', type: 'inject', wires: [['tax']] }, { id: 'tax', type: `subflow:${vatId}`, props: { version: 2, rate: 0.1 }, wires: [] }] };
    expect((await server.api('POST', '/api/v1/flows/import?deploy=true', flow)).status).toBe(201);
    const started = await server.api('POST', `/api/v1/flows/${flowId}/runs`, { input: { payload: 50 } });
    const run = await server.waitRun(started.body.runId, 30_000);
    expect(run.status, run.error).toBe('succeeded');
    expect(run.invocations.find((i: { nodeId: string; nodeType: string }) => i.nodeId === 'tax' && i.nodeType.startsWith('subflow:')).outputs[0].msg.payload).toBe(55);
  });

  it("edits the sub-flow's input, output and properties as fields, not JSON, and publishes them", async () => {
    const id = `iface-${sfx}`;
    expect((await server.api('POST', '/api/v1/subflows', { ...vat, id, name: 'Interface' })).status).toBe(201);
    await openFlow(server, page, { id: `uses-${id}`, name: 'Uses interface', nodes: [{ id: 'sub', type: `subflow:${id}`, position: { x: 300, y: 100 }, props: { version: 1 }, wires: [] }] });
    await clickNode(page, 'sub');
    await page.click('[data-test="subflow-open-canvas"]');
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
    await page.fill('[data-test="subflow-description"]', 'Adds VAT at a rate');
    await shot('04-interface');

    await page.click('[data-test="subflow-canvas-publish"]');
    await page.locator('[data-test="subflow-canvas"]').waitFor({ state: 'detached' });
    const v2 = (await server.api('GET', `/api/v1/subflows/${id}`)).body.definition;
    expect(v2.version).toBe(2);
    expect(v2.description).toBe('Adds VAT at a rate');
    expect(v2.properties).toEqual({ type: 'object', properties: { rate: { type: 'number', minimum: 0, default: 0.25 }, label: { type: 'string', default: 'VAT' } } });
    expect(v2.input).toEqual({ type: 'object', properties: { payload: { type: 'number', description: 'The net amount' } }, required: ['payload'] });
    expect(v2.output).toBeUndefined();
  });
});
