/**
 * End to end (issue 12, session 4): n8n's and Node-RED's habits that were missing, each as a scenario in headless
 * Chromium against a real runtime, screenshots in test-artifacts/e2e/habits-*.png. One runtime and one browser.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { runNpm } from '../../runtime/src/packs/npm-cli.ts';
import { createAdmin, signedInEditor } from './auth.ts';
import { screenshot } from './browser.ts';
import { clickNode as clickNodeIn, openFlow as openFlowIn, typeInEditor } from './editor-page.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
/** What the next prompt() is answered with (undefined: its default). */
let promptAnswer: string | undefined;

// The palette manager scenario installs from the local npm registry (verdaccio: bash scripts/services verdaccio).
const REGISTRY = process.env.FLOWCREW_TEST_NPM_REGISTRY ?? 'http://127.0.0.1:4873/';
const sfx = randomBytes(4).toString('hex');
const goodPack = `flowcrew-nodes-hello-${sfx}`;
const badPack = `flowcrew-nodes-bad-${sfx}`;
let work: string;

/** A user node directory holding a pack that fails to load (quarantined at start), and a pack published to the registry. */
async function preparePacks(): Promise<string> {
  work = await mkdtemp(path.join(tmpdir(), 'flowcrew-e2e-palette-'));
  const bad = path.join(work, 'nodes', 'node_modules', badPack);
  await mkdir(bad, { recursive: true });
  await writeFile(path.join(bad, 'package.json'), JSON.stringify({ name: badPack, version: '1.0.0', type: 'module', flowcrew: { nodes: ['./index.js'] } }));
  await writeFile(path.join(bad, 'index.js'), `throw new Error('broken on purpose');`);
  const signUp = await fetch(new URL(`-/user/org.couchdb.user:e${sfx}`, REGISTRY), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `e${sfx}`, password: `pw-${sfx}-${sfx}` }) });
  if (!signUp.ok) throw new Error(`verdaccio refused the test user (${signUp.status}): is it running? bash scripts/services verdaccio`);
  const npmrc = path.join(work, '.npmrc');
  await writeFile(npmrc, `registry=${REGISTRY}\n//${new URL(REGISTRY).host}/:_authToken=${((await signUp.json()) as { token: string }).token}\n`);
  const src = path.join(work, 'src');
  await mkdir(src);
  await writeFile(path.join(src, 'README.md'), `# ${goodPack}\n\nSays **hello**.\n`);
  await writeFile(path.join(src, 'package.json'), JSON.stringify({ name: goodPack, version: '1.0.0', type: 'module', description: 'says hello', keywords: ['flowcrew-nodes'], license: 'MIT', flowcrew: { nodes: ['./index.js'], sdkApi: 1 }, peerDependencies: { '@flowcrew/sdk': '^0.1.0' } }));
  await writeFile(path.join(src, 'index.js'), `export const nodes = [{ type: 'hello-${sfx}', category: 'transform', label: 'hello ${sfx}', help: 'Says hello.', inputs: 1, outputs: 1, props: {}, create() { return { onInput: (msg) => ({ ...msg, payload: 'hello' }) }; } }];`);
  await runNpm(['publish', '--registry', REGISTRY, '--userconfig', npmrc, '--no-git-checks'], { cwd: src });
  return path.join(work, 'nodes');
}

const shot = (name: string) => screenshot(page, 'e2e', `habits-${name}`);
const waitForText = (selector: string, content: string | RegExp, timeout = 15_000) => page.locator(selector).filter({ hasText: content }).first().waitFor({ timeout });
const openFlow = (doc: Record<string, unknown>, deploy = false) => openFlowIn(server, page, doc, deploy);
const clickNode = (id: string) => clickNodeIn(page, id);

describe('editor habits, end to end', () => {
  beforeAll(async () => {
    process.env.FLOWCREW_NPM_REGISTRY = REGISTRY;
    server = await startTestServer({}, { env: { FLOWCREW_USER_NODES_DIR: await preparePacks() } });
    await createAdmin(server);
    ({ browser, page } = await signedInEditor(server, { pageErrors }));
    page.on('dialog', (dialog) => void dialog.accept(promptAnswer));
    await page.locator('[data-test="palette-node-inject"]').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
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
    // Kept in the run history as a test run (nothing was deployed or called): "Open it" shows it there.
    const history = (await server.api('GET', '/api/v1/runs?flowId=pinned')).body;
    expect(history.map((r: any) => [r.status, r.test])).toEqual([['succeeded', true]]);
    await page.click('[data-test="run-pinned-open"]');
    await page.locator('[data-test="run-detail"]').waitFor();
    await page.locator('[data-test="run-detail"] button', { hasText: '← Runs' }).click();
    await page.locator('[data-test="run-test-badge"]').waitFor();
    await shot('02a-test-run-in-history');

    // The run's data is each node's last data.
    await clickNode('greet');
    await waitForText('[data-test="node-last-output"]', 'Hello Ada');
    await page.locator('[data-test="node-last-run-pinned"]').waitFor();

    // An unsaved edit is part of the next pinned run: what the user sees is what runs, and nothing is saved.
    const version = (await server.api('GET', '/api/v1/flows/pinned')).body.version;
    await typeInEditor(page, '[data-test="field-/rules/0/to"]', '"Bonjour " & payload.name');
    await page.click('[data-test="open-run"]');
    await waitForText('[data-test="run-pinned-hint"]', 'with your unsaved changes');
    await page.click('[data-test="run-start"]');
    await waitForText('[data-test="run-pinned-answer"]', 'Pinned run succeeded', 30_000);
    expect(await page.locator('[data-test="run-pinned-node-greet"]').innerText()).toContain('Bonjour Ada');
    await shot('02b-pinned-run-unsaved');
    await page.locator('[data-test="run-dialog"] button', { hasText: 'Close' }).click();
    expect((await server.api('GET', '/api/v1/flows/pinned')).body.version).toBe(version);

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

  it('nested groups (as imported from Node-RED) are drawn inside their parent and move with it', async () => {
    await openFlow({
      id: 'nested-groups',
      name: 'Nested groups',
      nodes: [
        { id: 'x', type: 'inject', position: { x: 100, y: 150 }, wires: [['y']] },
        { id: 'y', type: 'debug', position: { x: 360, y: 150 } },
        { id: 'z', type: 'debug', position: { x: 360, y: 330 } },
        { id: 'away', type: 'debug', position: { x: 700, y: 500 } },
      ],
      groups: [
        { id: 'outer', name: 'Outer', color: '#3b82f6', nodes: ['x'] },
        { id: 'inner', name: 'Inner', color: '#22c55e', nodes: ['y', 'z'], parent: 'outer' },
      ],
    });
    const boxes = () =>
      page.evaluate(() => {
        const view = (window as any).flowcrew.view;
        const rect = (title: string) => {
          const g = view.graph.groups.find((b: any) => b.title === title);
          return [g.pos[0], g.pos[1], g.pos[0] + g.size[0], g.pos[1] + g.size[1]];
        };
        return { outer: rect('Outer'), inner: rect('Inner'), order: view.graph.groups.map((b: any) => b.title) };
      });
    const before = await boxes();
    // The parent's box encloses the nested box, title bar included; the parent is drawn first (beneath).
    expect(before.outer[0]).toBeLessThan(before.inner[0]);
    expect(before.outer[1]).toBeLessThan(before.inner[1]);
    expect(before.outer[2]).toBeGreaterThan(before.inner[2]);
    expect(before.outer[3]).toBeGreaterThan(before.inner[3]);
    expect(before.order.indexOf('Outer')).toBeLessThan(before.order.indexOf('Inner'));
    await shot('03b-nested-groups');

    const pos = (id: string) => page.evaluate((key) => [...(window as any).flowcrew.view.graph.getNodeById(key).pos], id) as Promise<number[]>;
    const start = { x: await pos('x'), y: await pos('y'), z: await pos('z'), away: await pos('away') };
    const title = await page.evaluate(() => {
      const view = (window as any).flowcrew.view;
      const [cx, cy] = view.canvas.ds.convertOffsetToCanvas(view.groupTitlePoint('outer'));
      const rect = view.element.getBoundingClientRect();
      return { x: rect.left + cx, y: rect.top + cy };
    });
    await page.mouse.move(title.x, title.y);
    await page.mouse.down();
    await page.mouse.move(title.x + 80, title.y + 40, { steps: 8 });
    await page.mouse.up();
    await page.waitForFunction(([x]) => (window as any).flowcrew.view.graph.getNodeById('x').pos[0] !== x, [start.x[0]]);
    const dx = (await pos('x'))[0]! - start.x[0]!;
    const dy = (await pos('x'))[1]! - start.x[1]!;
    expect(dx).toBeGreaterThan(40);
    // The nested group's members moved alike (once each), the node outside stayed.
    expect(await pos('y')).toEqual([start.y[0]! + dx, start.y[1]! + dy]);
    expect(await pos('z')).toEqual([start.z[0]! + dx, start.z[1]! + dy]);
    expect(await pos('away')).toEqual(start.away);
    const after = await boxes();
    expect(after.inner[0]! - before.inner[0]!).toBeCloseTo(dx, 0);
    await shot('03c-nested-groups-moved');

    await page.keyboard.press('Control+s');
    await waitForText('[data-test="toast"]', 'Saved "Nested groups"');
    const stored = (await server.api('GET', '/api/v1/flows/nested-groups')).body;
    expect(stored.groups.map((g: any) => [g.id, g.parent])).toEqual([['outer', undefined], ['inner', 'outer']]);
    expect(stored.nodes.find((n: any) => n.id === 'z').position).toEqual({ x: start.z[0]! + dx, y: start.z[1]! + dy });
    expect(pageErrors).toEqual([]);
  });

  it('manages the palette: a quarantined pack with its error; search, read, install with npm output, remove', async () => {
    await page.click('[data-test="palette-manage"]');
    const manager = page.locator('[data-test="palette-manager"]');
    await waitForText(`[data-test="pm-state-${badPack}"]`, 'quarantined').catch(async (e) => {
      await shot('debug-installed');
      throw e;
    });
    expect(await page.locator(`[data-test="pm-error-${badPack}"]`).innerText()).toContain('broken on purpose');
    await shot('04-palette-installed');

    await page.click('[data-test="pm-tab-install"]');
    await page.fill('[data-test="pm-search"]', `hello-${sfx}`);
    await page.click('[data-test="pm-search-go"]');
    await page.click(`[data-test="pm-open-${goodPack}"]`);
    await waitForText('[data-test="pm-details"]', 'licence MIT');
    expect(await manager.locator('.readme strong').innerText()).toBe('hello'); // the readme rendered, not raw markdown
    expect(await page.locator('[data-test="pm-version"]').inputValue()).toBe('1.0.0');
    await page.click('[data-test="pm-install"]');
    await waitForText('[data-test="pm-result"]', `install: ${goodPack} 1.0.0`, 90_000).catch(async (e) => {
      await shot('debug-install');
      throw e;
    });
    await page.locator(`[data-test="palette-node-hello-${sfx}"]`).waitFor();
    await shot('05-palette-installed-pack');

    await page.click('[data-test="pm-tab-installed"]');
    await page.click(`[data-test="pm-remove-${goodPack}"]`);
    await waitForText('[data-test="pm-result"]', `remove: ${goodPack}`, 120_000);
    await page.locator(`[data-test="palette-node-hello-${sfx}"]`).waitFor({ state: 'detached' });
    await page.click('[data-test="pm-close"]');
    expect(pageErrors).toEqual([]);
  });

  it('streams the tokens of each crew task live in the node panel (the local model)', async () => {
    await openFlow(
      {
        id: 'crew-live',
        name: 'Crew live',
        nodes: [
          { id: 'go', type: 'inject', position: { x: 100, y: 200 }, props: { props: [{ p: 'payload', v: 'cats', vt: 'str' }] }, wires: [['crew']] },
          {
            id: 'crew',
            type: 'ai-crew',
            position: { x: 360, y: 200 },
            props: { agents: [{ key: 'w', role: 'Writer', goal: 'Write one short sentence', backstory: 'Brief.', maxTokens: 24, maxIterations: 1 }], tasks: [{ key: 'line', description: 'One sentence about {input}.', agent: 'w' }] },
          },
        ],
      },
      true,
    );
    await clickNode('crew');
    await page.click('[data-test="open-run"]');
    await page.click('[data-test="run-start"]');
    await page.click('[data-test="tab-properties"]'); // the Run dialog switched to Debug
    // Before: only a status line changed while the crew ran. Now the task's card fills with the model's tokens.
    await page.locator('[data-test="crew-live-task-line"]').waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => (document.querySelector('[data-test="crew-live-text-line"]')?.textContent ?? '').replace('waiting for the model…', '').trim().length > 0, null, { timeout: 90_000 });
    await waitForText('[data-test="crew-live-state-line"]', 'done', 90_000);
    expect(await page.locator('[data-test="crew-live-task-line"]').innerText()).toContain('Writer');
    await shot('06-crew-live');
    expect(pageErrors).toEqual([]);
  });

  it('switches project in the account menu: the flow list shows that project, new flows are created in it', async () => {
    expect((await server.api('POST', '/api/v1/projects', { id: 'shop', name: 'Shop' })).status).toBe(201);
    expect((await server.api('POST', '/api/v1/flows', { id: 'orders', name: 'Orders', projectId: 'shop', nodes: [] })).status).toBe(201);
    await page.click('[data-test="account-button"]');
    await page.click('[data-test="project-shop"]');
    await waitForText('[data-test="account-project"]', 'Shop');
    await page.click('[data-test="account-button"]');
    await page.click('[data-test="flows-menu"]');
    await waitForText('.flow-menu .menu', 'Orders');
    expect(await page.locator('.flow-menu .menu').innerText()).not.toContain('Pinned'); // a flow of the default project
    await shot('07-project-switch');
    await page.click('[data-test="flows-menu"]');
    await page.click('[data-test="new-flow"]');
    await page.fill('[data-test="new-flow-name"]', 'Refunds');
    await page.keyboard.press('Enter');
    await page.locator('[data-test="flow-tab-refunds"]').waitFor();
    expect((await server.api('GET', '/api/v1/flows/refunds')).body.projectId).toBe('shop');
    await page.click('[data-test="account-button"]');
    await page.click('[data-test="project-all"]');
    await page.locator('[data-test="account-project"]').waitFor({ state: 'detached' });
    expect(pageErrors).toEqual([]);
  });
});
