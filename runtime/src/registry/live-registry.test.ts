/** The registry changing while running: load, upgrade (new code without a restart), disable, enable, unload, refusals. */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SDK_API_VERSION } from '@flowcrew/sdk';
import { NodeRegistry, type RegistryChange } from './registry.ts';

let userDir: string;

/** Writes a two-file ESM pack (index.js imports ./word.js), so an upgrade must refresh files beyond the entry module. */
async function writePack(name: string, version: string, word: string, extra: Record<string, unknown> = {}, type = 'echo-word'): Promise<string> {
  const dir = path.join(userDir, 'node_modules', name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name, version, type: 'module', flowcrew: { nodes: ['./index.js'], sdkApi: 1, ...extra } }));
  await writeFile(path.join(dir, 'word.js'), `export const word = ${JSON.stringify(word)};`);
  await writeFile(
    path.join(dir, 'index.js'),
    `import { word } from './word.js';
     export const nodes = [{ type: ${JSON.stringify(type)}, category: 'transform', label: 'Echo word', inputs: 1, outputs: 1, help: 'Says a word.', props: {},
       create() { return { onInput: (msg) => ({ ...msg, payload: word }) }; } }];`,
  );
  return dir;
}

async function say(registry: NodeRegistry, type = 'echo-word'): Promise<unknown> {
  const instance = await registry.get(type)!.create({} as never);
  return ((await instance.onInput!({ payload: null }, {} as never)) as { payload: unknown }).payload;
}

beforeAll(async () => {
  userDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-live-registry-'));
});

afterAll(async () => {
  await rm(userDir, { recursive: true, force: true });
});

describe('live registry', () => {
  it('loads, upgrades with new code, disables, enables and unloads a pack, announcing each change', async () => {
    const registry = new NodeRegistry();
    const changes: RegistryChange[] = [];
    registry.on('change', (c) => changes.push(c));
    const dir = await writePack('flowcrew-echo', '1.0.0', 'one');

    await registry.loadPackage(dir, 'user');
    expect(await say(registry)).toBe('one');

    await writePack('flowcrew-echo', '2.0.0', 'two');
    const upgraded = await registry.reloadPackage(dir, 'user');
    expect(upgraded).toMatchObject({ version: '2.0.0', status: 'loaded', types: ['echo-word'] });
    expect(await say(registry)).toBe('two'); // both files are new code, not the cached modules

    expect(await registry.disablePackage('flowcrew-echo')).toEqual(['echo-word']);
    expect(registry.has('echo-word')).toBe(false);
    expect(registry.pack('flowcrew-echo')?.status).toBe('disabled');
    await registry.enablePackage('flowcrew-echo');
    expect(await say(registry)).toBe('two');

    expect(registry.unloadPackage('flowcrew-echo')).toEqual(['echo-word']);
    expect(registry.has('echo-word')).toBe(false);
    expect(registry.pack('flowcrew-echo')).toBeUndefined();
    expect(changes.map((c) => c.action)).toEqual(['loaded', 'reloaded', 'disabled', 'loaded', 'enabled', 'unloaded']);
    expect(changes.at(-1)).toEqual({ action: 'unloaded', pack: 'flowcrew-echo', added: [], removed: ['echo-word'] });
  });

  it('keeps the old version when the new one fails to load, and quarantines a pack that needs a newer SDK', async () => {
    const registry = new NodeRegistry();
    const dir = await writePack('flowcrew-keep', '1.0.0', 'old', {}, 'keep-word');
    await registry.loadPackage(dir, 'user');
    await writeFile(path.join(dir, 'word.js'), 'export const word = ;'); // a syntax error in the new version
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'flowcrew-keep', version: '1.1.0', type: 'module', flowcrew: { nodes: ['./index.js'] } }));
    await expect(registry.reloadPackage(dir, 'user')).rejects.toThrow(/module "\.\/index\.js" could not be loaded/);
    expect(registry.pack('flowcrew-keep')).toMatchObject({ version: '1.0.0', status: 'loaded' });
    expect(await say(registry, 'keep-word')).toBe('old');

    const future = await writePack('flowcrew-future', '1.0.0', 'x', { sdkApi: SDK_API_VERSION + 1 }, 'future-word');
    const info = await registry.loadPackage(future, 'user');
    expect(info).toMatchObject({ status: 'error', errorCode: 'sdk-too-new', types: [] });
    expect(info?.error).toContain(`written for SDK API ${SDK_API_VERSION + 1}, this runtime provides SDK API ${SDK_API_VERSION}`);
    expect(registry.has('future-word')).toBe(false);
  });

  it('refuses a pack whose type another pack provides, and a malformed role', async () => {
    const registry = new NodeRegistry();
    await registry.loadPackage(await writePack('flowcrew-first', '1.0.0', 'a', {}, 'shared-word'), 'user');
    const clash = await registry.loadPackage(await writePack('flowcrew-second', '1.0.0', 'b', {}, 'shared-word'), 'user');
    expect(clash).toMatchObject({ status: 'error', errorCode: 'clash', error: expect.stringContaining('type "shared-word" is already provided by pack "flowcrew-first"') });
    expect(await say(registry, 'shared-word')).toBe('a');

    expect(() => registry.register([{ type: 'odd', category: 'flow', label: 'odd', inputs: 0, outputs: 1, help: '', props: {}, role: { kind: 'error-handler' } as never, create: () => ({}) }])).toThrow(
      /"role.scope" is required for a error-handler/,
    );
  });
});
