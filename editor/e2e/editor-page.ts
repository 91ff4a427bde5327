/** Steps the end-to-end scenarios share: storing and opening a flow, clicking a node on the canvas. */
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import type { TestServer } from '../../runtime/src/testing/server.ts';

/** Stores a flow through the API (deployed when asked) and opens it in the editor. */
export async function openFlow(server: TestServer, page: Page, doc: Record<string, unknown>, deploy = false): Promise<void> {
  const saved = await server.api('POST', '/api/v1/flows', doc);
  expect(saved.status, JSON.stringify(saved.body)).toBe(201);
  if (deploy) {
    const deployed = await server.api('POST', `/api/v1/flows/${doc.id}/deploy`);
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(200);
  }
  await page.goto(`${server.url}/#/flows/${doc.id}`);
  await page.locator(`[data-test="flow-tab-${doc.id}"]`).waitFor();
  await page.waitForFunction((count) => (window as any).flowcrew?.view?.graph?._nodes.length === count, (doc.nodes as unknown[]).length);
}

/**
 * Saves the open flow with the Save button and resolves once the server has answered the save (the button is also
 * disabled while the save is in flight, so waiting for `:disabled` alone raced the request on a loaded machine).
 */
export async function saveFlow(page: Page, id: string): Promise<void> {
  // PUT /api/v1/flows/<id> for a stored flow, POST /api/v1/flows for a new one.
  const isSave = (method: string, pathname: string) => (method === 'PUT' && pathname.endsWith(`/flows/${encodeURIComponent(id)}`)) || (method === 'POST' && pathname.endsWith('/flows'));
  const answered = page.waitForResponse((r) => isSave(r.request().method(), new URL(r.url()).pathname));
  await page.click('[data-test="save"]');
  const response = await answered;
  expect(response.ok(), `save of "${id}" answered ${response.status()}`).toBe(true);
  await page.locator('[data-test="save"]:disabled').waitFor();
}

/** Clicks a node on the canvas (its title bar), which selects it and shows its properties. */
export async function clickNode(page: Page, id: string): Promise<void> {
  const point = await page.evaluate((key) => {
    const view = (window as any).flowcrew.view;
    const node = view.graph.getNodeById(key);
    const [cx, cy] = view.canvas.ds.convertOffsetToCanvas([node.pos[0] + 30, node.pos[1] - 10]);
    const rect = view.element.getBoundingClientRect();
    return { x: rect.left + cx, y: rect.top + cy };
  }, id);
  await page.click('[data-test="tab-properties"]');
  await page.mouse.click(point.x, point.y);
  await page.locator('[data-test="properties"] code').filter({ hasText: id }).first().waitFor();
}

/** Replaces the text of the CodeMirror editor inside `field` by typing, as a user would. */
export async function typeInEditor(page: Page, field: string, text: string): Promise<void> {
  const content = page.locator(`${field} .cm-content`);
  await content.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(text);
}
