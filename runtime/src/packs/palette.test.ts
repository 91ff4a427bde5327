/**
 * The palette manager end to end: a real runtime process installs, upgrades, disables and removes node packs that
 * this test publishes to a real local npm registry (verdaccio, `bash scripts/services verdaccio`): a good pack with
 * a dependency and a newer version, one whose install script fails, one that needs a newer SDK, and one whose type
 * clashes with the good one's. npm's output reaches an admin's socket live; nothing is left half-installed.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeRegistry } from '../registry/registry.ts';
import { ChildRuntime, freePort, waitFor } from '../testing/child-runtime.ts';
import { PaletteManager } from './palette.ts';
import { FAILING_INSTALL, TEST_NPM_REGISTRY, TestRegistry } from './test-registry.ts';

const REGISTRY = TEST_NPM_REGISTRY;
const sfx = randomBytes(4).toString('hex');
const good = `flowcrew-nodes-good-${sfx}`;
const goodType = `greet-${sfx}`;
let work: string;
let userDir: string;
let runtime: ChildRuntime;
let socket: Socket;
const progress: Array<{ pack: string; line: string }> = [];
const typeChanges: Array<{ action: string; pack: string }> = [];

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'flowcrew-palette-'));
  userDir = path.join(work, 'nodes');
  const npm = await TestRegistry.signUp(work, REGISTRY);
  // Started while the packs are published (a loaded machine can take half a minute to start a runtime).
  runtime = new ChildRuntime({ dataDir: path.join(work, 'data'), port: await freePort(), env: { FLOWCREW_USER_NODES_DIR: userDir, FLOWCREW_NPM_REGISTRY: REGISTRY } });
  runtime.spawn();
  // A plain dependency of the good pack, published alongside it: installed with it into the node directory.
  const dependencies = { [`flowcrew-dep-${sfx}`]: '1.0.0' };
  await npm.publishDependency(`flowcrew-dep-${sfx}`, '!');
  await Promise.all([
    npm.publishPack(good, '1.0.0', { type: goodType, dependencies }),
    npm.publishPack(`flowcrew-nodes-broken-${sfx}`, '1.0.0', { type: `broken-${sfx}`, scripts: FAILING_INSTALL }),
    npm.publishPack(`flowcrew-nodes-future-${sfx}`, '1.0.0', { type: `future-${sfx}`, sdkApi: 99 }),
    npm.publishPack(`flowcrew-nodes-clash-${sfx}`, '1.0.0', { type: goodType }),
  ]);
  await npm.publishPack(good, '1.1.0', { type: goodType, greeting: 'welcome', dependencies });

  await waitFor('the runtime to answer', async () => ((await fetch(`${runtime.url}/api/v1/health`).catch(() => null))?.ok ? true : undefined), 120_000);
  socket = connect(runtime.url, { transports: ['websocket'], auth: { token: runtime.token } });
  socket.on('pack:progress', (p: { pack: string; line: string }) => progress.push(p));
  socket.on('node-types:changed', (c: { action: string; pack: string }) => typeChanges.push(c));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}, 180_000);

afterAll(async () => {
  socket?.close();
  await runtime?.terminate();
  if (work) await rm(work, { recursive: true, force: true });
});

const installed = async () => JSON.parse(await readFile(path.join(userDir, 'package.json'), 'utf8')).dependencies as Record<string, string>;
const hasType = async (type: string) => ((await runtime.api('GET', '/api/v1/node-types')).body as Array<{ type: string }>).some((t) => t.type === type);

async function runGreeting(): Promise<unknown> {
  const { body } = await runtime.api('POST', '/api/v1/flows/greet/runs', { input: { payload: { name: 'Ada' } } });
  const run = await waitFor('the run', async () => {
    const r = await runtime.api('GET', `/api/v1/runs/${body.runId}`);
    return r.body.status === 'succeeded' || r.body.status === 'failed' ? r.body : undefined;
  });
  return run.invocations.find((i: { nodeId: string }) => i.nodeId === 'greet')?.outputs?.[0]?.msg?.payload;
}

describe('palette manager against a real npm registry', () => {
  it('finds packs by keyword and shows versions, readme, licence and SDK compatibility', async () => {
    const found = await runtime.api('GET', `/api/v1/node-packs/catalog?q=${sfx}`);
    expect(found.status).toBe(200);
    expect(found.body.map((p: { name: string }) => p.name)).toContain(good);
    expect(found.body.map((p: { name: string }) => p.name)).not.toContain(`flowcrew-dep-${sfx}`); // no keyword: not a pack

    const details = await runtime.api('GET', `/api/v1/node-packs/catalog/details?name=${`flowcrew-nodes-future-${sfx}`}`);
    expect(details.body).toMatchObject({ license: 'MIT', readme: expect.stringContaining('Greets people'), latest: '1.0.0', installed: null });
    expect(details.body.versions).toEqual([{ version: '1.0.0', sdkApi: 99, compatible: false, isPack: true }]);
    expect((await runtime.api('GET', `/api/v1/node-packs/catalog/details?name=flowcrew-nodes-none-${sfx}`)).status).toBe(404);
  });

  it('installs a pack with its dependency, streams npm live, and runs it without a restart', async () => {
    const res = await runtime.api('POST', '/api/v1/node-packs/install', { name: good, version: '1.0.0' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ action: 'install', pack: { name: good, version: '1.0.0', status: 'loaded', source: 'user', types: [goodType] }, removedTypes: [] });
    expect(existsSync(path.join(userDir, 'node_modules', `flowcrew-dep-${sfx}`, 'index.js'))).toBe(true);
    expect(await installed()).toMatchObject({ [good]: '1.0.0' });
    expect(progress.filter((p) => p.pack === good).map((p) => p.line)).toContain(`npm install ${good}@1.0.0 --save --save-exact`);
    expect(progress.some((p) => p.pack === good && /http fetch|added \d+ package/.test(p.line))).toBe(true);
    await waitFor('node-types:changed', async () => (typeChanges.some((c) => c.pack === good && c.action === 'loaded') ? true : undefined));

    const flow = { id: 'greet', name: 'greet', nodes: [{ id: 'start', type: 'inject', wires: [['greet']] }, { id: 'greet', type: goodType }] };
    expect((await runtime.api('POST', '/api/v1/flows', flow)).status).toBe(201);
    expect((await runtime.api('POST', '/api/v1/flows/greet/deploy')).status).toBe(200);
    expect(await runGreeting()).toBe('hello Ada!');
  });

  it('refuses a failing install script, a newer SDK and a clashing type, leaving nothing installed', async () => {
    const before = await installed();
    const broken = await runtime.api('POST', '/api/v1/node-packs/install', { name: `flowcrew-nodes-broken-${sfx}` });
    expect(broken).toMatchObject({ status: 422, body: { code: 'npm-failed', detail: expect.stringContaining('nothing was changed') } });
    expect(progress.some((p) => p.line.includes('install script failed on purpose'))).toBe(true);

    const future = await runtime.api('POST', '/api/v1/node-packs/install', { name: `flowcrew-nodes-future-${sfx}` });
    expect(future).toMatchObject({ status: 422, body: { code: 'sdk-too-new', detail: expect.stringContaining('SDK API 99, this runtime provides SDK API 1') } });

    const clash = await runtime.api('POST', '/api/v1/node-packs/install', { name: `flowcrew-nodes-clash-${sfx}` });
    expect(clash).toMatchObject({ status: 422, body: { code: 'clash', detail: expect.stringContaining(`type "${goodType}" is already provided by pack "${good}"`) } });

    for (const name of ['broken', 'future', 'clash']) expect(existsSync(path.join(userDir, 'node_modules', `flowcrew-nodes-${name}-${sfx}`))).toBe(false);
    expect(await installed()).toEqual(before);
    const packs = (await runtime.api('GET', '/api/v1/node-packs')).body as Array<{ name: string }>;
    expect(packs.filter((p) => p.name.endsWith(sfx)).map((p) => p.name)).toEqual([good]);
    expect(await runGreeting()).toBe('hello Ada!');
  });

  it('upgrades in place (new code once redeployed), disables and enables, removes and reports the flows using it', async () => {
    const upgraded = await runtime.api('POST', '/api/v1/node-packs/install', { name: good });
    expect(upgraded.body).toMatchObject({ action: 'upgrade', pack: { version: '1.1.0' }, affectedFlows: [{ flowId: 'greet', deployed: true, nodes: [{ id: 'greet', type: goodType }] }] });
    expect((await runtime.api('POST', '/api/v1/flows/greet/deploy')).status).toBe(200);
    expect(await runGreeting()).toBe('welcome Ada!');

    const disabled = await runtime.api('POST', '/api/v1/node-packs/disable', { name: good });
    expect(disabled.body).toMatchObject({ pack: { status: 'disabled' }, removedTypes: [goodType], affectedFlows: [{ flowId: 'greet' }] });
    expect(await hasType(goodType)).toBe(false);
    expect(JSON.parse(await readFile(path.join(userDir, 'flowcrew-packs.json'), 'utf8'))).toEqual({ disabled: [good] });
    expect((await runtime.api('POST', '/api/v1/node-packs/enable', { name: good })).body.pack.status).toBe('loaded');
    expect(await hasType(goodType)).toBe(true);

    const removed = await runtime.api('POST', '/api/v1/node-packs/remove', { name: good });
    expect(removed.body).toMatchObject({ action: 'remove', removedTypes: [goodType], affectedFlows: [{ flowId: 'greet', nodes: [{ id: 'greet' }] }] });
    expect(existsSync(path.join(userDir, 'node_modules', good))).toBe(false);
    expect(await hasType(goodType)).toBe(false);
    expect((await runtime.api('POST', '/api/v1/flows/greet/deploy')).status).toBe(422); // reported, not silently broken
    const audit = await runtime.api('GET', '/api/v1/audit?limit=50');
    const entries = (audit.body.entries as Array<{ action: string; outcome: string }>).map((e) => `${e.action} ${e.outcome}`);
    expect(entries).toEqual(expect.arrayContaining(['pack.install success', 'pack.install failure', 'pack.disable success', 'pack.enable success', 'pack.remove success']));
  });
});

describe('palette manager when the registry is down', () => {
  it('answers that the registry cannot be reached, before running npm', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-palette-down-'));
    try {
      const palette = new PaletteManager({ registry: new NodeRegistry(), userNodesDir: dir, npmRegistryUrl: `http://127.0.0.1:${await freePort()}/`, flows: async () => [] });
      await expect(palette.install('flowcrew-nodes-anything')).rejects.toThrow(/the npm registry http:\/\/127\.0\.0\.1:\d+\/ could not be reached/);
      await expect(palette.npm.search('x')).rejects.toThrow(/could not be reached/);
      expect(existsSync(path.join(dir, 'package.json'))).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
