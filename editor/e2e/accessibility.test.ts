/**
 * End to end (issue 12, accessibility): the canvas is operable by keyboard (select, move, wire, open properties),
 * and axe-core (injected into the page) finds no serious or critical violation in the editor's main views.
 * Screenshots in test-artifacts/e2e/a11y-*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { createAdmin, signedInEditor } from './auth.ts';
import { axeViolations as axeOn } from './axe.ts';
import { screenshot } from './browser.ts';
import { clickNode, openFlow } from './editor-page.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
const shot = (name: string) => screenshot(page, 'e2e', `a11y-${name}`);
const announced = (text: string | RegExp) => page.locator('[data-test="canvas-announcement"]').filter({ hasText: text }).waitFor({ timeout: 10_000 });
const nodePosition = (id: string) => page.evaluate((key) => [...(window as any).flowcrew.view.graph.getNodeById(key).pos] as [number, number], id);

const axeViolations = () => axeOn(page);

const flow = {
  id: 'keyboard',
  name: 'Keyboard',
  nodes: [
    { id: 'tick', type: 'inject', name: 'Tick', position: { x: 100, y: 100 }, props: {}, wires: [['label']] },
    { id: 'label', type: 'change', name: 'Label', position: { x: 350, y: 100 }, props: { rules: [{ t: 'set', p: 'topic', pt: 'msg', to: 'hi', tot: 'str' }] }, wires: [] },
    { id: 'show', type: 'debug', name: 'Show', position: { x: 600, y: 100 }, props: {}, wires: [] },
  ],
};

describe('accessibility, end to end', () => {
  beforeAll(async () => {
    server = await startTestServer();
    await createAdmin(server);
    ({ browser, page } = await signedInEditor(server, { dialogs: 'accept' }));
    await page.locator('[data-test="palette-node-webhook"]').waitFor();
    await openFlow(server, page, flow);
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await shot(`failed-${context.task.name.split('.')[0]}`);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('9. canvas nodes are selected, moved, wired and opened with the keyboard alone', async () => {
    // Before: the canvas was one Tab stop and nothing on it answered keys.
    await page.focus('[data-test="canvas"]');
    await page.keyboard.press('ArrowRight');
    await announced(/Tick \(inject\) selected, 1 wire out/);
    await page.keyboard.press('ArrowRight');
    await announced(/Label \(set \/ change\) selected/);
    const before = await nodePosition('label');
    await page.keyboard.press('Shift+ArrowDown');
    await page.keyboard.press('Shift+ArrowDown');
    await announced('Moved Label (set / change) down');
    await page.waitForFunction(([y]) => (window as any).flowcrew.view.graph.getNodeById('label').pos[1] === y, [before[1] + 40]);

    // Wire Label → Show: W, an arrow to choose, Enter.
    await page.keyboard.press('w');
    await announced(/Wiring from Label/);
    await page.keyboard.press('ArrowRight');
    await announced(/Wire to Show \(debug\)\?/);
    await shot('01-keyboard-wiring');
    await page.keyboard.press('Enter');
    await announced('Wired Label (set / change) output 1 to Show (debug)');
    await page.waitForFunction(() => (window as any).flowcrew.view.graph.links && Object.values((window as any).flowcrew.view.graph.links).some((l: any) => l && String(l.origin_id) === 'label' && String(l.target_id) === 'show'));

    // W, W again, Enter: Label wired back to itself, a loop, as dragging a wire onto its own input does (was refused:
    // "a node cannot be wired to itself"). Drawn and warned as a loop; undone below with the rest.
    await page.keyboard.press('ArrowLeft');
    await announced(/Label \(set \/ change\) selected, 1 wire out/);
    await page.keyboard.press('w');
    await announced(/W again: this node itself/);
    await page.keyboard.press('w');
    await announced('Wire Label (set / change) back to itself (a loop)?');
    await page.keyboard.press('Enter');
    await announced('Wired Label (set / change) output 1 back to itself: a loop.');
    await page.waitForFunction(() => (window as any).flowcrew.view.selfWires().some((w: any) => w.id === 'label' && w.ports.includes(0)));
    await page.locator('[data-test="loop-warning"]').filter({ hasText: 'Label' }).waitFor();
    await shot('01b-keyboard-self-loop');

    // Enter opens the selected node's properties (Label, selected as the loop's target).
    await page.keyboard.press('Enter');
    await page.locator('[data-test="properties"] code').filter({ hasText: 'label' }).first().waitFor();
    await shot('02-keyboard-properties');
    // One undo step per gesture: the loop, the wire, then the two moves together.
    await page.focus('[data-test="canvas"]');
    await page.keyboard.press('Control+z');
    await page.waitForFunction(() => (window as any).flowcrew.view.selfWires().length === 0);
    await page.keyboard.press('Control+z');
    await page.keyboard.press('Control+z');
    await page.waitForFunction(([y]) => (window as any).flowcrew.view.graph.getNodeById('label').pos[1] === y, [before[1]]);
  });

  it('9b. quick-add: "/" finds a node type by typing and places it after the selected node, wired from it', async () => {
    await page.focus('[data-test="canvas"]');
    // Twice left ends on Tick (the leftmost node), whatever was selected.
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await announced(/Tick \(inject\) selected|No node further left/);
    const count = await page.evaluate(() => (window as any).flowcrew.view.graph._nodes.length);
    await page.keyboard.press('/');
    await page.locator('[data-test="quick-add-input"]').waitFor();
    await page.keyboard.type('JSONat');
    await page.locator('[data-test="quick-add-jsonata"]').waitFor();
    await shot('04-quick-add');
    await page.keyboard.press('Enter');
    await announced('Added jsonata');
    await page.waitForFunction((n) => (window as any).flowcrew.view.graph._nodes.length === n + 1, count);
    const wired = await page.evaluate(() => {
      const graph = (window as any).flowcrew.view.graph;
      const added = graph._nodes.find((n: any) => n.type === 'jsonata' || n.typeLabel === 'JSONata' || String(n.title).includes('JSONata'));
      return Object.values(graph.links ?? {}).some((l: any) => l && String(l.target_id) === String(added?.id));
    });
    expect(wired).toBe(true);
  });

  it('10. axe-core finds no serious or critical violation on the editor, a node form and the run history', async () => {
    await clickNode(page, 'label');
    expect(await axeViolations()).toEqual([]);
    await page.click('[data-test="tab-runs"]');
    await page.locator('[data-test="runs"]').waitFor(); // the run history loads on first open
    expect(await axeViolations()).toEqual([]);
    await page.click('[data-test="tab-debug"]');
    expect(await axeViolations()).toEqual([]);
    await shot('03-axe-clean');
  });

  it('10b. axe-core finds no serious or critical violation in the other panels and dialogs', async () => {
    const found: Record<string, string[]> = {};
    const check = async (name: string) => {
      const violations = await axeViolations();
      if (violations.length) found[name] = violations;
    };
    for (const [tab, panel] of [['help', 'help'], ['versions', 'versions'], ['tests', 'flow-tests']] as const) {
      await page.click(`[data-test="tab-${tab}"]`);
      await page.locator(`[data-test="${panel}"]`).waitFor();
      await check(`${tab} panel`);
    }
    await page.click('[data-test="open-run"]');
    await page.locator('[data-test="run-dialog"]').waitFor();
    await check('run dialog');
    await page.locator('[data-test="run-dialog"] button', { hasText: 'Cancel' }).click();
    await page.click('[data-test="open-import"]');
    await page.locator('[data-test="import-export"]').waitFor();
    await check('import dialog');
    await page.keyboard.press('Escape');
    await page.locator('[data-test="import-export"]').waitFor({ state: 'detached' });
    await page.click('[data-test="palette-manage"]');
    await page.locator('[data-test="palette-manager"]').waitFor();
    await check('palette manager');
    await page.click('[data-test="pm-close"]');
    await page.locator('[data-test="canvas"]').focus();
    await page.keyboard.press('?');
    await page.locator('[data-test="shortcuts"]').waitFor();
    await check('shortcuts');
    await page.keyboard.press('Escape');
    await page.goto(`${server.url}/#/dashboard`);
    await page.locator('[data-test="dashboard"]').waitFor();
    await check('dashboard');
    await shot('04-axe-dashboard');
    expect(found).toEqual({});
    await page.goto(`${server.url}/#/flows/${flow.id}`);
  });
});
