/**
 * End to end (issue 14, palette manager): an admin in the editor finds packs this test published to the real local
 * npm registry (verdaccio), reads their readme and licence, installs one with npm's output streaming in (seen in the
 * browser while npm is held mid-install by the pack's install script), upgrades, disables and enables it, sees a failed
 * upgrade (a failing install script, a version failing to load) roll back to the running version, and gets a
 * clear message for each bad case (a failing install script, a clashing type, a pack needing a newer SDK, the
 * registry down) with nothing installed; removing a pack names the flows that use its type.
 * Screenshots in test-artifacts/e2e/palette-*.png.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAILING_INSTALL, gatedInstall, TestRegistry } from '../../runtime/src/packs/test-registry.ts';
import { ChildRuntime, freePort, waitFor } from '../../runtime/src/testing/child-runtime.ts';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { createAdmin, signIn } from './auth.ts';
import { launchBrowser, screenshot } from './browser.ts';

const sfx = randomBytes(4).toString('hex');
const good = `flowcrew-nodes-e2e-good-${sfx}`;
const goodType = `e2e-greet-${sfx}`;
const throws = `flowcrew-nodes-e2e-throws-${sfx}`;
const gated = `flowcrew-nodes-e2e-gated-${sfx}`;
let gate: string;
let npm: TestRegistry;
const dependencies = { [`flowcrew-dep-e2e-${sfx}`]: '1.0.0' };
let work: string;
let userDir: string;
let runtime: ChildRuntime;
let browser: Browser;
let page: Page;
const shot = (name: string) => screenshot(page, 'e2e', `palette-${name}`);
const dialog = () => page.locator('[data-test="palette-manager"]');
const installedDeps = async () => JSON.parse(await readFile(path.join(userDir, 'package.json'), 'utf8').catch(() => '{}')).dependencies ?? {};

/** Opens the palette manager's Install tab, searches this run's packs and opens one's details. */
async function openDetails(name: string): Promise<void> {
  if (!(await dialog().isVisible())) await page.click('[data-test="palette-manage"]');
  await page.click('[data-test="pm-tab-install"]');
  await page.fill('[data-test="pm-search"]', sfx);
  await page.click('[data-test="pm-search-go"]');
  await page.click(`[data-test="pm-open-${name}"]`);
  await page.locator('[data-test="pm-details"] h3').filter({ hasText: name }).waitFor();
}

/** Clicks Install and waits for the operation to end; the message shown (error or result). */
async function install(): Promise<{ error: string; result: string }> {
  await page.click('[data-test="pm-install"]');
  await page.locator('[data-test="pm-error"], [data-test="pm-result"]').first().waitFor({ timeout: 120_000 });
  await page.locator('[data-test="pm-busy"]').waitFor({ state: 'detached', timeout: 120_000 });
  const text = async (sel: string) => ((await page.locator(sel).count()) ? await page.locator(sel).innerText() : '');
  return { error: await text('[data-test="pm-error"]'), result: await text('[data-test="pm-result"]') };
}

// One browser for both parts (each has its own runtime and page).
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe('the palette manager in the editor, against a real npm registry', () => {
  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'flowcrew-e2e-palette-'));
    userDir = path.join(work, 'nodes');
    gate = path.join(work, 'gate');
    npm = await TestRegistry.signUp(work);
    // A pack already in the node directory whose module throws when loaded: quarantined at start.
    const broken = path.join(userDir, 'node_modules', throws);
    await mkdir(broken, { recursive: true });
    await writeFile(path.join(broken, 'package.json'), JSON.stringify({ name: throws, version: '1.0.0', type: 'module', flowcrew: { nodes: ['./index.js'], sdkApi: 1 } }));
    await writeFile(path.join(broken, 'index.js'), `throw new Error('this pack fails when loaded, on purpose');`);
    runtime = new ChildRuntime({ dataDir: path.join(work, 'data'), port: await freePort(), env: { FLOWCREW_USER_NODES_DIR: userDir, FLOWCREW_NPM_REGISTRY: npm.url } });
    runtime.spawn();
    await npm.publishDependency(`flowcrew-dep-e2e-${sfx}`, '!');
    await Promise.all([
      npm.publishPack(good, '1.0.0', { type: goodType, dependencies }),
      npm.publishPack(`flowcrew-nodes-e2e-broken-${sfx}`, '1.0.0', { type: `e2e-broken-${sfx}`, scripts: FAILING_INSTALL }),
      npm.publishPack(`flowcrew-nodes-e2e-future-${sfx}`, '1.0.0', { type: `e2e-future-${sfx}`, sdkApi: 99 }),
      npm.publishPack(`flowcrew-nodes-e2e-clash-${sfx}`, '1.0.0', { type: goodType }),
      npm.publishPack(gated, '1.0.0', { type: `e2e-gated-${sfx}`, scripts: gatedInstall(gate) }),
    ]);
    await waitFor('the runtime to answer', async () => ((await fetch(`${runtime.url}/api/v1/health`).catch(() => null))?.ok ? true : undefined), 120_000);
    await createAdmin(runtime);
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('dialog', (d) => void d.accept());
    await page.goto(runtime.url);
    await signIn(page);
    await page.locator('[data-test="palette-manage"]').waitFor();
  }, 240_000);

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && page) await shot(`failed-${context.task.id}`);
  });

  afterAll(async () => {
    if (gate) await writeFile(gate, 'open'); // an install still held by the gate (a failed test) ends
    await page?.close();
    await runtime?.terminate();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('a pack that fails to load at start is listed as quarantined with its error; the others run', async () => {
    await page.click('[data-test="palette-manage"]');
    await page.locator(`[data-test="pm-state-${throws}"]`).filter({ hasText: 'quarantined' }).waitFor();
    expect(await page.locator(`[data-test="pm-error-${throws}"]`).innerText()).toContain('this pack fails when loaded, on purpose');
    expect(await page.locator('[data-test="pm-pack-@flowcrew/nodes-core"]').getAttribute('class')).toBe('loaded');
    await shot('00-quarantined');
  });

  it('shows a pack’s licence and readme, installs it with npm’s output streaming in, and puts its node in the palette', async () => {
    await openDetails(good);
    await expect(page.locator('[data-test="pm-details"]').innerText()).resolves.toContain('licence MIT');
    await page.locator('[data-test="pm-details"] .readme').filter({ hasText: 'Greets people.' }).waitFor();
    expect(await page.locator('[data-test="pm-version"]').inputValue()).toBe('1.0.0');
    const outcome = await install();
    expect(outcome.error).toBe('');
    expect(outcome.result).toContain(`install: ${good} 1.0.0`);
    const progress = await page.locator('[data-test="pm-progress"]').innerText();
    expect(progress).toContain(`npm install ${good}@1.0.0 --save --save-exact`);
    expect(progress).toMatch(/added \d+ package/);
    await page.locator(`[data-test="palette-node-${goodType}"]`).waitFor(); // the palette heard node-types:changed
    expect(existsSync(path.join(userDir, 'node_modules', `flowcrew-dep-e2e-${sfx}`))).toBe(true);
    await shot('01-installed');
  });

  it('upgrades to a newer version from the editor, and disables and enables the pack', async () => {
    await npm.publishPack(good, '1.1.0', { type: goodType, dependencies, greeting: 'hi' });
    await openDetails(good);
    await page.selectOption('[data-test="pm-version"]', '1.1.0');
    expect(await page.locator('[data-test="pm-install"]').innerText()).toBe('Change to this version');
    const outcome = await install();
    expect(outcome.error).toBe('');
    expect(outcome.result).toContain(`upgrade: ${good} 1.1.0`);
    expect((await installedDeps())[good]).toBe('1.1.0');

    await page.click('[data-test="pm-tab-installed"]');
    await page.click(`[data-test="pm-toggle-${good}"]`);
    await page.locator(`[data-test="pm-state-${good}"]`).filter({ hasText: 'disabled' }).waitFor({ timeout: 60_000 });
    await page.locator(`[data-test="palette-node-${goodType}"]`).waitFor({ state: 'detached' }); // the palette heard it
    await shot('01a-upgraded-then-disabled');
    await page.click(`[data-test="pm-toggle-${good}"]`);
    await page.locator(`[data-test="pm-state-${good}"]`).waitFor({ state: 'detached', timeout: 60_000 });
    await page.locator(`[data-test="palette-node-${goodType}"]`).waitFor();
  });

  it('a failed upgrade rolls back: the installed version stays on disk, loaded and running (install script, and a version that fails to load)', async () => {
    const flow = { id: 'greet-kept', name: 'Greet kept', nodes: [{ id: 'start', type: 'inject', wires: [['hi']] }, { id: 'hi', type: goodType }] };
    expect((await runtime.api('POST', '/api/v1/flows/import?deploy=true', flow)).status).toBe(201);
    await npm.publishPack(good, '1.2.0', { type: goodType, dependencies, scripts: FAILING_INSTALL });
    await npm.publishPack(good, '1.3.0', { type: goodType, dependencies, loadError: 'version 1.3.0 fails when loaded, on purpose' });
    const failures: Array<[string, string]> = [
      ['1.2.0', `installing ${good} failed, nothing was changed`],
      ['1.3.0', `${good} was installed but could not be loaded, so it was removed again: module "./index.js" could not be loaded: version 1.3.0 fails when loaded, on purpose`],
    ];
    for (const [version, message] of failures) {
      await openDetails(good);
      await page.selectOption('[data-test="pm-version"]', version);
      expect(await page.locator('[data-test="pm-install"]').innerText()).toBe('Change to this version');
      const outcome = await install();
      expect(outcome.error).toContain(message);
      expect((await installedDeps())[good]).toBe('1.1.0');
      expect(JSON.parse(await readFile(path.join(userDir, 'node_modules', good, 'package.json'), 'utf8')).version).toBe('1.1.0');
      await page.click('[data-test="pm-tab-installed"]');
      const listed = page.locator(`[data-test="pm-pack-${good}"]`);
      expect(await listed.getAttribute('class')).toBe('loaded');
      expect(await listed.innerText()).toContain('1.1.0');
      await page.locator(`[data-test="palette-node-${goodType}"]`).waitFor();
      await shot(`01b-upgrade-to-${version}-rolled-back`);
    }
    // The deployed flow still runs 1.1.0's code ("hi", and its dependency's "!").
    const started = await runtime.api('POST', '/api/v1/flows/greet-kept/runs', { input: { payload: { name: 'Ada' } } });
    const run = await waitFor('the run', async () => {
      const r = await runtime.api('GET', `/api/v1/runs/${started.body.runId}`);
      return r.body.status === 'succeeded' || r.body.status === 'failed' ? r.body : undefined;
    });
    expect(run.invocations.find((i: { nodeId: string }) => i.nodeId === 'hi')?.outputs?.[0]?.msg?.payload).toBe('hi Ada!');
    expect((await runtime.api('DELETE', '/api/v1/flows/greet-kept')).status).toBe(204);
  });

  it('npm’s output shows in the browser while npm is still working', async () => {
    await openDetails(gated);
    await page.click('[data-test="pm-install"]');
    // The pack's install script holds npm until the gate file exists, so what shows now was streamed live: the
    // command, then npm's fetch of the pack from the registry (its http log lines), with the operation still busy.
    const progress = page.locator('[data-test="pm-progress"]');
    await progress.filter({ hasText: new RegExp(`http fetch GET 200 \\S*${gated}`) }).waitFor({ timeout: 120_000 });
    expect(await progress.innerText()).toContain(`npm install ${gated}@1.0.0 --save --save-exact`);
    expect(await page.locator('[data-test="pm-busy"]').count()).toBe(1);
    expect(await page.locator('[data-test="pm-result"], [data-test="pm-error"]').count()).toBe(0);
    await shot('01b-npm-output-live');
    await writeFile(gate, 'open');
    await page.locator('[data-test="pm-result"]').filter({ hasText: `install: ${gated} 1.0.0` }).waitFor({ timeout: 120_000 });
    expect(await progress.innerText()).toMatch(/added \d+ package/);
  });

  it('a failing install script is a clear error with npm’s output, and nothing is installed', async () => {
    const before = await installedDeps();
    await openDetails(`flowcrew-nodes-e2e-broken-${sfx}`);
    const outcome = await install();
    expect(outcome.error).toMatch(new RegExp(`installing flowcrew-nodes-e2e-broken-${sfx} failed, nothing was changed`));
    expect(await page.locator('[data-test="pm-progress"]').innerText()).toContain('install script failed on purpose');
    expect(await installedDeps()).toEqual(before);
    expect(existsSync(path.join(userDir, 'node_modules', `flowcrew-nodes-e2e-broken-${sfx}`))).toBe(false);
    await shot('02-install-script-failed');
  });

  it('a type that clashes with an installed pack’s is refused naming both, and the pack is taken out again', async () => {
    const before = await installedDeps();
    await openDetails(`flowcrew-nodes-e2e-clash-${sfx}`);
    const outcome = await install();
    expect(outcome.error).toContain(`type "${goodType}" is already provided by pack "${good}"`);
    expect(await installedDeps()).toEqual(before);
    expect(existsSync(path.join(userDir, 'node_modules', `flowcrew-nodes-e2e-clash-${sfx}`))).toBe(false);
    await shot('03-type-clash');
  });

  it('a pack needing a newer SDK says so and cannot be installed', async () => {
    await openDetails(`flowcrew-nodes-e2e-future-${sfx}`);
    await expect(page.locator('[data-test="pm-no-version"]').innerText()).resolves.toContain('needs a newer SDK (SDK API 99 or later)');
    expect(await page.locator('[data-test="pm-version"] option').first().innerText()).toContain('needs SDK API 99');
    expect(await page.locator('[data-test="pm-install"]').isDisabled()).toBe(true);
    // The API refuses it too, before npm runs (an old editor or a script).
    const refused = await runtime.api('POST', '/api/v1/node-packs/install', { name: `flowcrew-nodes-e2e-future-${sfx}` });
    expect(refused).toMatchObject({ status: 422, body: { code: 'sdk-too-new' } });
    await shot('04-newer-sdk');
  });

  it('removing a pack names the flows that use its node type', async () => {
    const flow = { id: 'greeter', name: 'Greeter', nodes: [{ id: 'start', type: 'inject', wires: [['hi']] }, { id: 'hi', type: goodType }] };
    expect((await runtime.api('POST', '/api/v1/flows', flow)).status).toBe(201);
    await page.click('[data-test="pm-tab-installed"]');
    await page.click(`[data-test="pm-remove-${good}"]`); // the confirm() is accepted
    await page.locator('[data-test="pm-result"]').waitFor({ timeout: 120_000 });
    const result = await page.locator('[data-test="pm-result"]').innerText();
    expect(result).toContain(`Node types gone: ${goodType}`);
    expect(result).toContain(`Flow "Greeter" uses ${goodType}`);
    await page.locator(`[data-test="palette-node-${goodType}"]`).waitFor({ state: 'detached' });
    await shot('05-removed');
  });

  it('a quarantined pack can be removed from the editor, and is gone from the node directory', async () => {
    await page.click('[data-test="pm-tab-installed"]');
    await page.click(`[data-test="pm-remove-${throws}"]`); // the confirm() is accepted
    await page.locator('[data-test="pm-result"]').filter({ hasText: `remove: ${throws}` }).waitFor({ timeout: 120_000 });
    await page.locator(`[data-test="pm-pack-${throws}"]`).waitFor({ state: 'detached' });
    expect(existsSync(path.join(userDir, 'node_modules', throws))).toBe(false);
  });
});

describe('the palette manager in the editor when the npm registry is down', () => {
  let server: TestServer;
  let downPage: Page;

  beforeAll(async () => {
    server = await startTestServer({}, { env: { FLOWCREW_NPM_REGISTRY: `http://127.0.0.1:${await freePort()}/` } });
    await createAdmin(server);
    downPage = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await downPage.goto(server.url);
    await signIn(downPage);
  }, 120_000);

  afterAll(async () => {
    await downPage?.close();
    await server?.stop();
  });

  it('a search says the registry cannot be reached, naming it', async () => {
    await downPage.click('[data-test="palette-manage"]');
    await downPage.click('[data-test="pm-tab-install"]');
    await downPage.fill('[data-test="pm-search"]', 'anything');
    await downPage.click('[data-test="pm-search-go"]');
    const error = downPage.locator('[data-test="pm-error"]');
    await error.waitFor({ timeout: 60_000 });
    expect(await error.innerText()).toMatch(/the npm registry http:\/\/127\.0\.0\.1:\d+\/ could not be reached/);
    await screenshot(downPage, 'e2e', 'palette-06-registry-down');
  });
});
