/**
 * End to end: the smaller parts of issue 12's stuck points and visual bugs that had no scenario of their own (the
 * audit of session 8), each in headless Chromium against a real runtime, screenshots in
 * test-artifacts/e2e/details-*.png. One runtime and one browser for all.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { createAdmin, signedInEditor } from './auth.ts';
import { drawWire, screenshot } from './browser.ts';
import { clickNode as clickNodeIn, openFlow as openFlowIn } from './editor-page.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

const shot = (name: string) => screenshot(page, 'e2e', `details-${name}`);
const waitForText = (selector: string, content: string | RegExp, timeout = 15_000) => page.locator(selector).filter({ hasText: content }).first().waitFor({ timeout });
const openFlow = (doc: Record<string, unknown>, deploy = false) => openFlowIn(server, page, doc, deploy);
const clickNode = (id: string) => clickNodeIn(page, id);
const labels = async () => (await page.locator('[data-test="properties"] .label').allInnerTexts()).map((l) => l.replace(/\*$/, '').trim());

/** Page coordinates of a point in graph coordinates. */
const pagePoint = (x: number, y: number) =>
  page.evaluate(([gx, gy]) => {
    const view = (window as any).flowcrew.view;
    const [cx, cy] = view.canvas.ds.convertOffsetToCanvas([gx, gy]);
    const rect = view.element.getBoundingClientRect();
    return { x: rect.left + cx, y: rect.top + cy };
  }, [x, y] as const);

/** Right-clicks a node: its menu's entries. */
async function openNodeMenu(id: string): Promise<string[]> {
  const position = await page.evaluate((key) => [...(window as any).flowcrew.view.graph.getNodeById(key).pos] as [number, number], id);
  const point = await pagePoint(position[0] + 30, position[1] + 10);
  await page.mouse.click(point.x, point.y, { button: 'right' });
  await page.locator('.litecontextmenu').waitFor();
  return page.locator('.litecontextmenu .litemenu-entry').allInnerTexts();
}

/** Right-clicks a node and picks a menu entry by its text. */
async function nodeMenu(id: string, item: string): Promise<void> {
  await openNodeMenu(id);
  await page.locator('.litecontextmenu .litemenu-entry').filter({ hasText: item }).first().click();
}

describe('issue 12 stuck points in detail, end to end', () => {
  beforeAll(async () => {
    server = await startTestServer();
    await createAdmin(server);
    ({ browser, page } = await signedInEditor(server, { pageErrors, dialogs: 'accept' }));
    await page.locator('[data-test="palette-node-webhook"]').waitFor();
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await shot(`failed-${context.task.name.split('.')[0]}`);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('2c. a flow with no inject: the Run dialog starts from a node with the typed input, never "…pass nodeId"', async () => {
    await openFlow(
      {
        id: 'no-inject',
        name: 'No inject',
        nodes: [
          { id: 'double', type: 'function', name: 'Double', position: { x: 100, y: 200 }, props: { func: 'msg.payload = { n: msg.payload.n * 2 }; return msg;' }, wires: [['show']] },
          { id: 'show', type: 'debug', name: 'Show', position: { x: 360, y: 200 }, props: {}, wires: [] },
        ],
      },
      true,
    );
    await page.click('[data-test="open-run"]');
    await waitForText('[data-test="run-dialog"]', 'This flow has no trigger');
    expect(await page.locator('[data-test="run-entry-node"]').isChecked()).toBe(true);
    expect(await page.locator('[data-test="run-node"]').inputValue()).toBe('double');
    await page.fill('[data-test="run-input"]', '{"payload": {"n": 4}}');
    await shot('01-run-without-inject');
    await page.click('[data-test="run-start"]');
    await waitForText('[data-test="debug-entry"]', '"n": 8');
    expect(await page.locator('[data-test="run-dialog"]').count()).toBe(0);
    expect(await page.locator('body').innerText()).not.toContain('pass nodeId');
  });

  it('3b. Node-RED nodes pasted without positions are laid out apart, and Fit shows them all', async () => {
    await openFlow({ id: 'paste-target', name: 'Paste target', nodes: [] });
    const nodeRed = [
      { id: 'tab9', type: 'tab', label: 'Pasted from Node-RED' },
      { id: 'a1', type: 'inject', z: 'tab9', name: 'tick', props: [{ p: 'payload' }], payload: '{"n":6}', payloadType: 'json', wires: [['b1']] },
      { id: 'b1', type: 'change', z: 'tab9', name: 'label', rules: [{ t: 'set', p: 'topic', pt: 'msg', to: 'hi', tot: 'str' }], wires: [['c1', 'd1']] },
      { id: 'c1', type: 'debug', z: 'tab9', name: 'out', active: true, complete: 'payload', wires: [] },
      { id: 'd1', type: 'debug', z: 'tab9', name: 'out 2', active: true, complete: 'true', wires: [] },
    ];
    // Pasted onto the canvas (Ctrl+V with a Node-RED export on the clipboard): the import dialog takes it.
    await page.focus('[data-test="canvas"]');
    await page.evaluate((text) => {
      const data = new DataTransfer();
      data.setData('text/plain', text);
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }, JSON.stringify(nodeRed));
    await page.locator('[data-test="import-export"]').waitFor();
    expect(await page.locator('[data-test="import-text"]').inputValue()).toContain('Pasted from Node-RED');
    await page.click('[data-test="import-submit"]');
    await waitForText('[data-test="import-result"]', 'Node-RED');
    await page.locator('[data-test="import-result"] button', { hasText: 'Pasted from Node-RED' }).click();
    await page.waitForFunction(() => (window as any).flowcrew.view.graph._nodes.length === 4);
    await page.click('[data-test="fit"]');
    const boxes = await page.evaluate(() => (window as any).flowcrew.view.graph._nodes.map((n: any) => ({ id: n.id, x: n.pos[0], y: n.pos[1], w: n.size[0], h: n.size[1] })));
    for (const [i, a] of boxes.entries()) for (const b of boxes.slice(i + 1)) expect(a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y, `${a.id} overlaps ${b.id}`).toBe(true);
    // Fit: every node inside the view.
    const inView = await page.evaluate(() => {
      const view = (window as any).flowcrew.view;
      const [x, y, w, h] = view.visibleArea();
      return view.graph._nodes.every((n: any) => n.pos[0] >= x && n.pos[1] >= y && n.pos[0] + n.size[0] <= x + w && n.pos[1] + n.size[1] <= y + h);
    });
    expect(inView).toBe(true);
    await shot('02-node-red-pasted-laid-out');
  });

  it('4c. a node wired back to itself keeps its wire (drawn, warned, saved); a wire dragged onto its own input and the node menu make one', async () => {
    await openFlow({
      id: 'self-loop',
      name: 'Self loop',
      nodes: [
        { id: 'tick', type: 'inject', name: 'Tick', position: { x: 100, y: 200 }, props: {}, wires: [['again']] },
        // As Node-RED exports it: the delay's output goes back into its own input (a delay may close a loop).
        { id: 'again', type: 'delay', name: 'Again', position: { x: 380, y: 200 }, props: { pauseType: 'delay', timeout: 1, timeoutUnits: 'seconds' }, wires: [['again']] },
      ],
    });
    await waitForText('[data-test="loop-warning"]', 'Again');
    // Moving the node (a canvas gesture read back into the flow) used to drop the wire litegraph cannot hold.
    await page.focus('[data-test="canvas"]');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.locator('[data-test="canvas-announcement"]').filter({ hasText: /Again .* selected/ }).waitFor();
    await page.keyboard.press('Shift+ArrowDown');
    await waitForText('[data-test="tab-state-self-loop"]', 'unsaved');
    await shot('03-self-wire-drawn');
    await page.keyboard.press('Control+s');
    await waitForText('[data-test="tab-state-self-loop"]', 'not deployed');
    const stored = async () => (await server.api('GET', '/api/v1/flows/self-loop')).body.nodes.find((n: any) => n.id === 'again').wires;
    expect(await stored()).toEqual([['again']]);

    // The node menu removes it.
    await nodeMenu('again', 'Remove the wire from output to itself');
    await page.locator('[data-test="loop-warning"]').waitFor({ state: 'detached' });
    // A node without an input (the inject) offers none.
    expect((await openNodeMenu('tick')).filter((e) => e.includes('itself') || e.includes('back to this node'))).toEqual([]);
    await page.keyboard.press('Escape');
    await page.locator('.litecontextmenu').waitFor({ state: 'detached' });

    // Before: a wire dragged from the output onto the node's own input was refused without a word. Now (as in
    // Node-RED) it makes the loop: kept, drawn, warned about, saved, and one undo step.
    await drawWire(page, 'again', 'again');
    await waitForText('[data-test="loop-warning"]', 'Again');
    await shot('03b-self-wire-dragged');
    await page.keyboard.press('Control+s');
    await waitForText('[data-test="tab-state-self-loop"]', 'not deployed');
    expect(await stored()).toEqual([['again']]);
    await page.keyboard.press('Control+z');
    await page.locator('[data-test="loop-warning"]').waitFor({ state: 'detached' });
    await page.keyboard.press('Control+y');
    await waitForText('[data-test="loop-warning"]', 'Again');
    await page.keyboard.press('Control+z');
    await page.locator('[data-test="loop-warning"]').waitFor({ state: 'detached' });

    // The node menu makes one too.
    await nodeMenu('again', 'Wire output back to this node');
    await waitForText('[data-test="loop-warning"]', 'Again');
    await page.keyboard.press('Control+s');
    await waitForText('[data-test="tab-state-self-loop"]', 'not deployed');
    expect(await stored()).toEqual([['again']]);
  });

  it('5b. forms show only what the mode uses, numbers without a number/string switch, JSON as written, one picker per typed value', async () => {
    await openFlow({
      id: 'forms',
      name: 'Forms',
      nodes: [
        { id: 'tick', type: 'inject', name: 'Tick', position: { x: 100, y: 200 }, props: { props: [{ p: 'payload', v: '{"n":6}', vt: 'json' }] }, wires: [['label']] },
        { id: 'label', type: 'change', name: 'Label', position: { x: 360, y: 200 }, props: { rules: [{ t: 'set', p: 'topic', pt: 'msg', to: 'hi', tot: 'str' }] }, wires: [['wait']] },
        { id: 'wait', type: 'delay', name: 'Wait', position: { x: 620, y: 200 }, props: { pauseType: 'delay', timeout: '5', timeoutUnits: 'seconds' }, wires: [] },
      ],
    });
    await clickNode('label');
    const setLabels = await labels();
    expect(setLabels).toEqual(expect.arrayContaining(['Action', 'Property', 'Value']));
    expect(setLabels).not.toContain('Search for');
    // One control for the value and its type (Node-RED's typed input): one type picker, not two.
    const rule = page.locator('[data-test="properties"] [data-pointer="/rules/0"]').first();
    expect(await rule.locator('select[aria-label="Value: type"]').count()).toBe(1);
    await page.selectOption('[data-test="field-/rules/0/t"]', { label: 'change' });
    await waitForText('[data-test="properties"] .label', 'Search for');
    expect(await labels()).toEqual(expect.arrayContaining(['Search for', 'Replace with']));
    await shot('04-change-rule-per-action');
    await page.keyboard.press('Control+z');

    await clickNode('wait');
    const delay = page.locator('[data-test="properties"] [data-test="field-/timeout"]');
    expect(await delay.inputValue()).toBe('5');
    expect(await page.locator('[data-test="properties"] select[aria-label="Delay for type"]').count()).toBe(0);
    await shot('05-number-without-switch');

    await clickNode('tick');
    const payload = page.locator('[data-test="properties"] [data-test="field-/props/0/v"]');
    await payload.waitFor();
    const shown = (await payload.inputValue().catch(async () => payload.innerText())).trim();
    expect(shown).toBe('{"n":6}');
    await shot('06-json-payload-as-written');
  });

  it('6c. help texts name the fields by the labels the form shows', async () => {
    await clickNode('label');
    await page.click('[data-test="tab-help"]');
    const help = await page.locator('[data-test="help"]').innerText();
    expect(help).toContain('Action');
    expect(help).toContain('Property');
    expect(help).toContain('Search for');
    for (const code of [/\btot\b/, /\bpt\b/, /\b"t"/]) expect(help).not.toMatch(code);
    await shot('07-help-with-form-labels');
    await page.click('[data-test="tab-properties"]');
  });

  it('visual: the minimap follows a node dragged on the canvas', async () => {
    const map = page.locator('[data-test="minimap"]');
    await map.waitFor();
    const before = await map.evaluate((c: HTMLCanvasElement) => c.toDataURL());
    const position = await page.evaluate(() => [...(window as any).flowcrew.view.graph.getNodeById('wait').pos] as [number, number]);
    const from = await pagePoint(position[0] + 40, position[1] - 10);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(from.x - 200, from.y + 220, { steps: 10 });
    await page.mouse.up();
    await page.waitForFunction(([x]) => (window as any).flowcrew.view.graph.getNodeById('wait').pos[0] < x - 100, [position[0]] as const);
    await expect.poll(() => map.evaluate((c: HTMLCanvasElement) => c.toDataURL())).not.toBe(before);
    await shot('08-minimap-after-drag');
  });

  it('visual: palette tooltips are plain text, not markdown', async () => {
    const titles = await page.locator('[data-test^="palette-node-"]').evaluateAll((items) => items.map((i) => i.getAttribute('title') ?? ''));
    expect(titles.length).toBeGreaterThan(20);
    const marked = titles.filter((t) => /\*\*|`|^#|\]\(/.test(t));
    expect(marked).toEqual([]);
  });

  it('quick-add: Ctrl/Cmd+click on the empty canvas offers node types at that spot', async () => {
    const count = await page.evaluate(() => (window as any).flowcrew.view.graph._nodes.length);
    // A spot of the canvas with no node, away from the minimap and the zoom buttons.
    const spot = await page.evaluate(() => {
      const view = (window as any).flowcrew.view;
      const rect = view.element.getBoundingClientRect();
      for (const [fx, fy] of [[0.5, 0.12], [0.25, 0.12], [0.75, 0.12], [0.5, 0.6], [0.1, 0.4]] as Array<[number, number]>) {
        const x = rect.left + rect.width * fx;
        const y = rect.top + rect.height * fy;
        const at = view.toGraph(x, y);
        if (!view.graph.getNodeOnPos(at.x, at.y)) return { x, y };
      }
      throw new Error('no empty spot on the canvas');
    });
    await page.keyboard.down('Control');
    await page.mouse.click(spot.x, spot.y);
    await page.keyboard.up('Control');
    await page.locator('[data-test="quick-add-input"]').waitFor();
    await page.keyboard.type('debu');
    await page.locator('[data-test="quick-add-debug"]').waitFor();
    await shot('09-quick-add-ctrl-click');
    await page.keyboard.press('Enter');
    await page.waitForFunction((n) => (window as any).flowcrew.view.graph._nodes.length === n + 1, count);
    expect(pageErrors).toEqual([]);
  });
});
