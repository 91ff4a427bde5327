/**
 * End to end: the visual bugs a new user saw (issue 12) on the shipped example flows, measured on the real canvas in
 * headless Chromium: nodes on top of each other, node titles cut short, a scrollbar over the tab strip. Screenshots
 * in test-artifacts/e2e/visual-*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { createAdmin, signedInEditor, signIn } from './auth.ts';
import { screenshot } from './browser.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
let examples: Array<{ id: string; nodes: unknown[] }> = [];
const pageErrors: string[] = [];

async function openTab(id: string, count: number): Promise<void> {
  await page.goto(`${server.url}/#/flows/${id}`);
  await page.locator(`[data-test="flow-tab-${id}"]`).waitFor();
  await page.waitForFunction(([flow, n]) => {
    const view = (window as any).flowcrew?.view;
    return document.querySelector<HTMLCanvasElement>('[data-test="canvas"]')?.dataset.flowId === flow && view?.graph?._nodes.length === n;
  }, [id, count] as const);
}

/** Each node's box on the canvas (title bar included) and whether litegraph has the room to draw its whole title. */
function canvasNodes(): Promise<Array<{ id: string; title: string; box: [number, number, number, number]; titleFits: boolean }>> {
  return page.evaluate(() => {
    const view = (window as any).flowcrew.view;
    const titleHeight = 30; // LiteGraph.NODE_TITLE_HEIGHT
    const ctx: CanvasRenderingContext2D = view.measureContext;
    return view.graph._nodes.map((n: any) => {
      ctx.font = n.titleFontStyle;
      // litegraph draws the title from x = title height and cuts it to the width less twice that (drawTitleText).
      const titleFits = ctx.measureText(n.title).width <= n.size[0] - titleHeight * 2;
      return { id: String(n.id), title: n.title, box: [n.pos[0], n.pos[1] - titleHeight, n.size[0], n.size[1] + titleHeight], titleFits };
    });
  });
}

/** Boxes closer than GAP count as overlapping: ports stick out of a node's side and a wire needs room between. */
const GAP = 10;
const overlaps = (a: number[], b: number[]) =>
  a[0]! < b[0]! + b[2]! + GAP && b[0]! < a[0]! + a[2]! + GAP && a[1]! < b[1]! + b[3]! + GAP && b[1]! < a[1]! + a[3]! + GAP;

describe('visual checks on the example flows, end to end', () => {
  beforeAll(async () => {
    server = await startTestServer({}, { loadExamples: true });
    await createAdmin(server);
    examples = (await server.api('GET', '/api/v1/flows')).body;
    ({ browser, page } = await signedInEditor(server, { pageErrors }));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('draws every example flow with no node on top of another and every title whole', async () => {
    expect(examples.map((f) => f.id)).toContain('crew-research');
    for (const flow of examples) {
      const full = (await server.api('GET', `/api/v1/flows/${flow.id}`)).body;
      await openTab(flow.id, full.nodes.length);
      await screenshot(page, 'e2e', `visual-example-${flow.id}`);
      const nodes = await canvasNodes();
      for (const node of nodes) expect(node.titleFits, `${flow.id}: title "${node.title}" is cut`).toBe(true);
      for (const [i, a] of nodes.entries()) {
        for (const b of nodes.slice(i + 1)) expect(overlaps(a.box, b.box), `${flow.id}: ${a.id} overlaps ${b.id}`).toBe(false);
      }
    }
    expect(pageErrors).toEqual([]);
  });

  it('fits five open tabs in the strip without a scrollbar, each tab whole and its full name in a tooltip', async () => {
    // A fresh browser context: exactly five tabs (open tabs are restored from the browser's storage).
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(server.url);
    await signIn(page);
    const name = 'A flow with a rather long name for a tab';
    const five: string[] = examples.slice(0, 4).map((f) => f.id);
    for (let i = 0; five.length < 5; i++) {
      const made = await server.api('POST', '/api/v1/flows', { id: `extra-${i}`, name, nodes: [] });
      expect(made.status).toBe(201);
      five.push(`extra-${i}`);
    }
    for (const id of five) {
      const full = (await server.api('GET', `/api/v1/flows/${id}`)).body;
      await openTab(id, full.nodes.length);
    }
    const strip = page.locator('[data-test="flow-tab-strip"]');
    await screenshot(page, 'e2e', 'visual-five-tabs');
    const measured = await strip.evaluate((el) => {
      const bounds = el.getBoundingClientRect();
      const tabs = Array.from(el.querySelectorAll('.tab')).map((t) => t.getBoundingClientRect());
      return {
        // A horizontal scrollbar takes height from the strip: offsetHeight > clientHeight.
        scrollbar: (el as HTMLElement).offsetHeight - el.clientHeight,
        overflow: el.scrollWidth - el.clientWidth,
        tabs: tabs.map((t) => ({ left: t.left - bounds.left, right: bounds.right - t.right, width: t.width })),
      };
    });
    expect(measured.scrollbar).toBe(0);
    expect(measured.overflow).toBeLessThanOrEqual(0);
    expect(measured.tabs.length).toBe(5);
    for (const tab of measured.tabs) {
      expect(tab.left).toBeGreaterThanOrEqual(0);
      expect(tab.right).toBeGreaterThanOrEqual(0);
      expect(tab.width).toBeGreaterThanOrEqual(119);
    }
    const title = await page.locator(`[data-test="flow-tab-${five.at(-1)!}"] .tab-name`).getAttribute('title');
    expect(title).toContain(name);
    await context.close();
  });
});
