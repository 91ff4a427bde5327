/**
 * Headless Chromium for the editor's end-to-end tests and the canvas benchmark: Debian's chromium driven by
 * playwright-core (`npx playwright install` cannot run here; scripts/services installs the package).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run "bash scripts/services chromium" (or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Save a screenshot under test-artifacts/<dir>/<name>.png. */
export async function screenshot(page: Page, dir: string, name: string): Promise<string> {
  const folder = path.join(ARTIFACTS, dir);
  await mkdir(folder, { recursive: true });
  const file = path.join(folder, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Page coordinates of a node's output port or input, found by node id, title or type label. */
export async function portPoint(page: Page, node: string, kind: 'input' | 'output', port = 0): Promise<{ x: number; y: number }> {
  return page.evaluate(
    ([key, which, index]) => {
      const view = (window as any).flowcrew.view;
      const target = view.graph._nodes.find((n: any) => n.id === key || n.title === key) ?? view.graph._nodes.find((n: any) => n.typeLabel === key);
      if (!target) throw new Error(`no node ${key} on the canvas`);
      const at = which === 'output' ? target.getOutputPos(index) : target.getInputPos(0);
      const [cx, cy] = view.canvas.ds.convertOffsetToCanvas(at);
      const rect = view.element.getBoundingClientRect();
      return { x: rect.left + cx, y: rect.top + cy };
    },
    [node, kind, port] as const,
  );
}

/** Drag a wire with the mouse from a node's output port to another node's input. */
export async function drawWire(page: Page, from: string, to: string, port = 0): Promise<void> {
  const start = await portPoint(page, from, 'output', port);
  const end = await portPoint(page, to, 'input');
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  await page.mouse.move((start.x + end.x) / 2, (start.y + end.y) / 2, { steps: 8 });
  await page.mouse.move(end.x, end.y, { steps: 8 });
  await page.mouse.up();
}
