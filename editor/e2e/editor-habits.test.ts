/**
 * End to end (issue 12, session 4): n8n's and Node-RED's habits that were missing, each as a scenario in headless
 * Chromium against a real runtime, screenshots in test-artifacts/e2e/habits-*.png. One runtime and one browser.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { createAdmin, signIn } from './auth.ts';
import { launchBrowser, screenshot } from './browser.ts';
import { clickNode as clickNodeIn, openFlow as openFlowIn } from './editor-page.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
/** What the next prompt() is answered with (undefined: its default). */
let promptAnswer: string | undefined;

const shot = (name: string) => screenshot(page, 'e2e', `habits-${name}`);
const waitForText = (selector: string, content: string | RegExp, timeout = 15_000) => page.locator(selector).filter({ hasText: content }).first().waitFor({ timeout });
const openFlow = (doc: Record<string, unknown>, deploy = false) => openFlowIn(server, page, doc, deploy);
const clickNode = (id: string) => clickNodeIn(page, id);

describe('editor habits, end to end', () => {
  beforeAll(async () => {
    server = await startTestServer();
    await createAdmin(server);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('dialog', (dialog) => void dialog.accept(promptAnswer));
    await page.goto(server.url);
    await signIn(page);
    await page.locator('[data-test="palette-node-inject"]').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('pins a node output: drawn as pinned, ▶ Run uses the pin instead of calling the node (no deploy needed)', async () => {
    await openFlow({
      id: 'pinned',
      name: 'Pinned',
      nodes: [
        { id: 'in', type: 'inject', position: { x: 100, y: 200 }, wires: [['call']] },
        // Port 9 refuses: before pins, a manual run had to deploy and really call it, and failed.
        { id: 'call', type: 'http-request', name: 'Customer API', position: { x: 320, y: 200 }, props: { method: 'GET', url: 'http://127.0.0.1:9/customer' }, wires: [['greet']] },
        { id: 'greet', type: 'change', position: { x: 560, y: 200 }, props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '"Hello " & payload.name', tot: 'jsonata' }] }, wires: [['out']] },
        { id: 'out', type: 'debug', position: { x: 780, y: 200 } },
      ],
    });
    await clickNode('call');
    await page.click('[data-test="node-pin-type"]');
    await page.fill('[data-test="node-pin-text"]', '{"payload": {"name": "Ada"}}');
    await page.click('[data-test="node-pin-save"]');
    await page.locator('[data-test="node-pinned"]').waitFor();
    await waitForText('[data-test="node-states"] li[data-node="call"]', 'output pinned');
    await shot('01-pinned-node');

    await page.click('[data-test="open-run"]');
    await page.locator('[data-test="run-pinned-hint"]').waitFor();
    await page.click('[data-test="run-start"]');
    await waitForText('[data-test="run-pinned-answer"]', 'Pinned run succeeded', 30_000);
    expect(await page.locator('[data-test="run-pinned-node-greet"]').innerText()).toContain('Hello Ada');
    expect(await page.locator('[data-test="run-pinned-node-call"]').innerText()).toContain('(pinned)');
    await shot('02-pinned-run');
    await page.locator('[data-test="run-dialog"] button', { hasText: 'Close' }).click();

    // The run's data is each node's last data; the real flow has no run (nothing was deployed or called).
    await clickNode('greet');
    await waitForText('[data-test="node-last-output"]', 'Hello Ada');
    await page.locator('[data-test="node-last-run-pinned"]').waitFor();
    expect((await server.api('GET', '/api/v1/runs?flowId=pinned')).body).toEqual([]);

    await clickNode('call');
    await page.click('[data-test="node-unpin"]');
    await page.locator('[data-test="node-pin-last"]').waitFor();
    expect((await server.api('GET', '/api/v1/flows/pinned/pins')).body).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('groups nodes: named and coloured, moved together by the group title, stored in the flow', async () => {
    await openFlow({
      id: 'grouped',
      name: 'Grouped',
      nodes: [
        { id: 'a', type: 'inject', position: { x: 100, y: 150 }, wires: [['b']] },
        { id: 'b', type: 'debug', position: { x: 340, y: 150 } },
        { id: 'c', type: 'debug', position: { x: 340, y: 420 } },
      ],
    });
    const pos = (id: string) => page.evaluate((key) => [...(window as any).flowcrew.view.graph.getNodeById(key).pos], id) as Promise<number[]>;
    const toScreen = (point: number[]) =>
      page.evaluate((p) => {
        const view = (window as any).flowcrew.view;
        const [cx, cy] = view.canvas.ds.convertOffsetToCanvas(p);
        const rect = view.element.getBoundingClientRect();
        return { x: rect.left + cx, y: rect.top + cy };
      }, point);
    await clickNode('a');
    const b = await toScreen([(await pos('b'))[0]! + 30, (await pos('b'))[1]! - 10]);
    await page.keyboard.down('Shift');
    await page.mouse.click(b.x, b.y);
    await page.keyboard.up('Shift');
    promptAnswer = 'Inputs';
    await page.locator('[data-test="canvas"]').focus();
    await page.keyboard.press('Control+g');
    await page.waitForFunction(() => (window as any).flowcrew.view.groupTitlePoint('group-1') !== undefined);
    promptAnswer = undefined;
    await clickNode('a');
    await page.locator('[data-test="group-panel"]').waitFor();
    expect(await page.locator('[data-test="group-name"]').inputValue()).toBe('Inputs');
    await page.click('[data-test="group-colour-22c55e"]');

    const [ax, ay] = await pos('a');
    const [cx, cy] = await pos('c');
    const title = await toScreen(await page.evaluate(() => (window as any).flowcrew.view.groupTitlePoint('group-1')));
    await page.mouse.move(title.x, title.y);
    await page.mouse.down();
    await page.mouse.move(title.x + 100, title.y + 60, { steps: 8 });
    await page.mouse.up();
    await page.waitForFunction(([x]) => (window as any).flowcrew.view.graph.getNodeById('a').pos[0] !== x, [ax]);
    const [ax2, ay2] = await pos('a');
    const [bx2, by2] = await pos('b');
    expect([ax2! - ax!, ay2! - ay!]).toEqual([bx2! - 340, by2! - 150]); // moved together
    expect(ax2! - ax!).toBeGreaterThan(50);
    expect(await pos('c')).toEqual([cx, cy]); // not in the group: stays
    await shot('03-group');

    await page.keyboard.press('Control+s');
    await waitForText('[data-test="toast"]', 'Saved "Grouped"');
    const stored = (await server.api('GET', '/api/v1/flows/grouped')).body;
    expect(stored.groups).toEqual([{ id: 'group-1', name: 'Inputs', color: '#22c55e', nodes: ['a', 'b'] }]);
    expect(stored.nodes.find((n: any) => n.id === 'b').position).toEqual({ x: bx2, y: by2 });
    expect(pageErrors).toEqual([]);
  });
});
