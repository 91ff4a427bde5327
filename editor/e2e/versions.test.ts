/**
 * End to end (issue 14, flow versions): the versions panel of a real editor on a real runtime lists who saved each
 * version and who deployed which; comparing two versions frames the added and changed nodes on the canvas and draws
 * the removed ones as ghosts where they stood, with the removed wires (between live nodes, and into a removed node);
 * restore brings the old document back as a new version.
 * Screenshots in test-artifacts/e2e/versions-*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { ADMIN, createAdmin, signedInEditor } from './auth.ts';
import { screenshot } from './browser.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
const shot = (name: string) => screenshot(page, 'e2e', `versions-${name}`);
const REMOVED_AT = { x: 100, y: 300 };

const set = (to: string) => ({ rules: [{ t: 'set', p: 'payload', pt: 'msg', to, tot: 'str' }] });
const v1 = {
  id: 'review',
  name: 'Review',
  nodes: [
    { id: 'go', type: 'inject', name: 'Go', position: { x: 100, y: 100 }, props: {}, wires: [['set']] },
    { id: 'set', type: 'change', name: 'Set', position: { x: 360, y: 100 }, props: set('one'), wires: [['out']] },
    { id: 'out', type: 'debug', name: 'Old output', position: REMOVED_AT, props: {}, wires: [] },
  ],
};
// v2 drops the wire go → set (both still there) and, with the node, set → out.
const v2 = {
  ...v1,
  nodes: [
    { ...v1.nodes[0], wires: [] },
    { ...v1.nodes[1], props: set('two'), wires: [['log']] },
    { id: 'log', type: 'debug', name: 'Log', position: { x: 360, y: 260 }, props: {}, wires: [] },
  ],
};

/** The canvas pixel's [r, g, b] at a graph point (the front canvas the user sees). */
async function pixelAt(graphX: number, graphY: number): Promise<[number, number, number]> {
  return page.evaluate(([x, y]) => {
    const view = (window as any).flowcrew.view;
    const [cx, cy] = view.canvas.ds.convertOffsetToCanvas([x, y]);
    const ratio = view.element.width / view.element.getBoundingClientRect().width;
    if (cx < 0 || cy < 0 || cx * ratio >= view.element.width || cy * ratio >= view.element.height) throw new Error(`graph point ${x},${y} is off the canvas`);
    const data = view.element.getContext('2d').getImageData(Math.round(cx * ratio), Math.round(cy * ratio), 1, 1).data;
    return [data[0], data[1], data[2]] as [number, number, number];
  }, [graphX, graphY] as const);
}
/**
 * How red the canvas is around the middle of a wire from `from` (a live node's output 0) to `to` (a live node's input,
 * or a graph point: a ghost's input edge): the most red-tinted pixel (r - g) in a small box there, so a dash gap does
 * not hide the dashed wire. The curve's middle is the middle of its ends (its control points are symmetric).
 */
async function wireTint(from: string, to: string | [number, number]): Promise<number> {
  return page.evaluate(([from, to]) => {
    const view = (window as any).flowcrew.view;
    const start = view.graph.getNodeById(from).getOutputPos(0);
    const end = typeof to === 'string' ? view.graph.getNodeById(to).getInputPos(0) : to;
    const [cx, cy] = view.canvas.ds.convertOffsetToCanvas([(start[0] + end[0]) / 2, (start[1] + end[1]) / 2]);
    const ratio = view.element.width / view.element.getBoundingClientRect().width;
    const half = Math.round(8 * ratio);
    const data = view.element.getContext('2d').getImageData(Math.round(cx * ratio) - half, Math.round(cy * ratio) - half, 2 * half + 1, 2 * half + 1).data;
    let most = -255;
    for (let i = 0; i < data.length; i += 4) most = Math.max(most, data[i] - data[i + 1]);
    return most;
  }, [from, to] as const);
}
const OUT_INPUT: [number, number] = [REMOVED_AT.x, REMOVED_AT.y + 10];

/** Inside the ghost box of the removed node: red-tinted once drawn. */
const ghostTint = async () => {
  const [r, g] = await pixelAt(REMOVED_AT.x + 120, REMOVED_AT.y + 20);
  return r - g;
};

describe('flow versions in the editor', () => {
  beforeAll(async () => {
    server = await startTestServer();
    await createAdmin(server);
    ({ browser, page } = await signedInEditor(server, { dialogs: 'accept' }));
    const admin = await server.signIn(ADMIN.username, ADMIN.password);
    expect((await server.apiAs(admin, 'POST', '/api/v1/flows', v1)).status).toBe(201);
    expect((await server.apiAs(admin, 'POST', '/api/v1/flows/review/deploy')).status).toBe(200);
    const saved = await server.apiAs(admin, 'PUT', '/api/v1/flows/review', { ...v2, version: 1 });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
  }, 120_000);

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && page) await shot(`failed-${context.task.id}`);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('lists the versions with who saved them, and the deployed one with who deployed it', async () => {
    await page.goto(`${server.url}/#/flows/review`);
    await page.waitForFunction(() => (window as any).flowcrew?.view?.graph?._nodes.length === 3);
    await page.click('[data-test="tab-versions"]');
    await page.locator('[data-test="version-2"]').filter({ hasText: 'current' }).waitFor();
    expect(await page.locator('[data-test="version-1"]').innerText()).toMatch(/deployed/);
    expect(await page.locator('[data-test="deployed-by"]').innerText()).toMatch(/^Deployed: v1 by \S+/);
  });

  it('a comparison frames added and changed nodes and draws the removed node and wires where they were', async () => {
    const before = await ghostTint();
    const wiresBefore = [await wireTint('go', 'set'), await wireTint('set', OUT_INPUT)];
    await page.click('[data-test="compare"]');
    const diff = page.locator('[data-test="diff"]');
    await diff.filter({ hasText: 'v1 → v2' }).waitFor();
    const text = await diff.innerText();
    expect(text).toContain('+ Log (debug)');
    expect(text).toContain('− Old output (debug)');
    expect(text).toContain('− wire go[0] → set');
    expect(text).toContain('− wire set[0] → out');
    expect(text).toMatch(/~ Set \(change\)\s+\/props\/rules: \[\{[^\n]*"to":"one"[^\n]*\}\] → \[\{[^\n]*"to":"two"[^\n]*\}\]/);
    // The canvas' text twin (screen readers) names the marks; the ghost is a red-tinted box at the old position.
    await page.locator('[data-test="node-states"] [data-node="log"]').filter({ hasText: 'added since v1' }).waitFor();
    await page.locator('[data-test="node-states"] [data-node="set"]').filter({ hasText: 'changed since v1' }).waitFor();
    await page.waitForFunction(() => (window as any).flowcrew.view.canvas.onDrawForeground !== undefined);
    await expect.poll(ghostTint, { timeout: 10_000 }).toBeGreaterThan(before + 10);
    // The removed wires: dashed red between two live nodes, and from a live node into the ghost.
    await expect.poll(() => wireTint('go', 'set'), { timeout: 10_000 }).toBeGreaterThan(wiresBefore[0]! + 60);
    await expect.poll(() => wireTint('set', OUT_INPUT), { timeout: 10_000 }).toBeGreaterThan(wiresBefore[1]! + 60);
    await shot('01-diff-on-canvas');
  });

  it('restore saves the old document as a new version and the canvas shows it', async () => {
    await page.locator('[data-test="version-1"] button').filter({ hasText: 'Restore' }).click(); // confirm() accepted
    await page.locator('[data-test="version-3"]').filter({ hasText: 'current' }).waitFor();
    await page.waitForFunction(() => !!(window as any).flowcrew.view.graph.getNodeById('out') && !(window as any).flowcrew.view.graph.getNodeById('log'));
    const stored = await server.api('GET', '/api/v1/flows/review');
    expect(stored.body.nodes.map((n: { id: string }) => n.id)).toEqual(['go', 'set', 'out']);
    expect(await page.locator('[data-test="deployed-by"]').innerText()).toMatch(/^Deployed: v1/); // restoring deploys nothing
    await shot('02-restored');
  });
});
