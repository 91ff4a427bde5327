import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeRegistry } from './registry.ts';

const repoNodes = path.resolve(import.meta.dirname, '..', '..', '..', 'nodes');
let userDir: string;

async function pack(name: string, manifest: Record<string, unknown>, files: Record<string, string>): Promise<void> {
  const dir = path.join(userDir, 'node_modules', name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.2.3', ...manifest }));
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(dir, file), text);
}

beforeAll(async () => {
  userDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-nodes-'));
  // A working third-party pack, written in plain JavaScript as an npm package would ship it.
  await pack('flowcrew-shout', { type: 'module', flowcrew: { nodes: ['./shout.js'] } }, {
    'shout.js': `export const nodes = [{
      type: 'shout', category: 'transform', label: 'Shout', inputs: 1, outputs: 1, help: '# Shout\\nUpper-cases msg.payload.',
      props: { type: 'object', properties: { suffix: { type: 'string', default: '!' } }, additionalProperties: false },
      create({ props }) { return { onInput(msg) { return { ...msg, payload: String(msg.payload).toUpperCase() + props.suffix }; } }; },
    }];`,
  });
  await pack('flowcrew-throws', { type: 'module', flowcrew: { nodes: ['./index.js'] } }, { 'index.js': `throw new Error('boom at import');` });
  await pack('flowcrew-bad-def', { type: 'module', flowcrew: { nodes: ['./index.js'] } }, {
    'index.js': `export default [{ type: 'ok-one', category: 'other', label: 'ok', inputs: 1, outputs: 1, help: 'x', props: {}, create() { return {}; } }, { type: 'no-create', label: 'x', inputs: 1, outputs: 1, help: 'x', props: {} }];`,
  });
  await pack('flowcrew-missing-module', { flowcrew: { nodes: ['./nope.js'] } }, {});
  await pack('flowcrew-clash', { type: 'module', flowcrew: { nodes: ['./index.js'] } }, {
    'index.js': `export const nodes = [{ type: 'switch', category: 'other', label: 'evil switch', inputs: 1, outputs: 1, help: 'x', props: {}, create() { return {}; } }];`,
  });
  await pack('not-a-flowcrew-pack', {}, { 'index.js': 'export default 1;' });
});

/** The workspace packs and the user packs, loaded once for the tests that read them (loading every pack is slow). */
let loaded: Promise<NodeRegistry>;
beforeAll(() => {
  loaded = (async () => {
    const registry = new NodeRegistry();
    await registry.loadPackagesIn(repoNodes, 'workspace');
    await registry.loadUserDirectory(userDir);
    return registry;
  })();
  return loaded.then(() => undefined);
});

afterAll(async () => {
  await rm(userDir, { recursive: true, force: true });
});

describe('node registry', () => {
  it('loads the workspace packs and a user pack; broken packs are reported and do not stop the others', async () => {
    const registry = await loaded;

    expect(registry.has('switch')).toBe(true);
    expect(registry.has('shout')).toBe(true);
    const byName = Object.fromEntries(registry.packs.map((p) => [p.name, p]));
    expect(byName['flowcrew-shout']).toMatchObject({ status: 'loaded', source: 'user', version: '1.2.3', types: ['shout'] });
    expect(byName['flowcrew-throws']).toMatchObject({ status: 'error', error: expect.stringContaining('boom at import') });
    expect(byName['flowcrew-bad-def']).toMatchObject({ status: 'error', error: expect.stringMatching(/#1.*"create" must be a function/) });
    expect(registry.has('ok-one')).toBe(false); // a pack is all in or all out
    expect(byName['flowcrew-missing-module']?.status).toBe('error');
    expect(byName['flowcrew-clash']).toMatchObject({ status: 'error', error: expect.stringContaining('already provided by pack "@flowcrew/nodes-core"') });
    expect(registry.get('switch')?.label).not.toBe('evil switch');
    expect(byName['not-a-flowcrew-pack']).toBeUndefined();
  });

  it('validates props against the node type schema, fills defaults and counts dynamic output ports', async () => {
    const registry = await loaded;
    const props: Record<string, unknown> = {};
    expect(registry.checkProps('shout', props)).toEqual([]);
    expect(props).toEqual({ suffix: '!' });
    expect(registry.checkProps('shout', { suffix: 3 })).toEqual([{ pointer: '/suffix', message: 'must be string' }]);
    expect(registry.checkProps('shout', { other: 1 })).toEqual([{ pointer: '/other', message: 'is not a known property' }]);

    expect(registry.outputCount('switch', { rules: [{ t: 'eq' }, { t: 'else' }, { t: 'null' }] })).toBe(3);
    expect(registry.outputCount('function', { outputs: 2 })).toBe(2);
  });

  it('describes node types as data for the editor', async () => {
    const registry = new NodeRegistry();
    await registry.loadUserDirectory(userDir);
    const shout = registry.describe().find((t) => t.type === 'shout');
    expect(shout).toMatchObject({ type: 'shout', pack: 'flowcrew-shout', inputs: 1, outputs: 1, help: expect.stringContaining('Upper-cases') });
    expect(shout).not.toHaveProperty('create');
  });
});
