/**
 * The compiled runtime (`npm start` runs it from dist/compiled, see compile.ts): plain Node, no tsx, loads every
 * workspace pack, and still loads a pack written in TypeScript from the user node directory (tsx registered then).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from './compile.ts';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
let dir: string;
let out: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-compiled-'));
  out = await compile(path.join(dir, 'compiled'));
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A user pack as the pack kit makes it: TypeScript sources, the SDK linked from the runtime. */
async function typeScriptPack(nodesDir: string): Promise<void> {
  const pack = path.join(nodesDir, 'node_modules', 'flowcrew-nodes-shout');
  await mkdir(path.join(pack, 'src'), { recursive: true });
  await mkdir(path.join(pack, 'node_modules', '@flowcrew'), { recursive: true });
  await symlink(path.join(out, 'nodes', 'sdk'), path.join(pack, 'node_modules', '@flowcrew', 'sdk'));
  await writeFile(path.join(pack, 'package.json'), JSON.stringify({ name: 'flowcrew-nodes-shout', version: '1.0.0', type: 'module', flowcrew: { nodes: ['./src/index.ts'], sdkApi: 1 } }));
  await writeFile(
    path.join(pack, 'src', 'index.ts'),
    `import { defineNode } from '@flowcrew/sdk';
interface Props { suffix: string }
const suffix: string = '!';
export const nodes = [defineNode<Props>({ type: 'shout', category: 'transform', label: 'shout', help: 'Upper-cases msg.payload.', inputs: 1, outputs: 1,
  props: { type: 'object', properties: { suffix: { type: 'string', default: suffix } } },
  create: () => ({ input: async (msg) => [{ port: 0, msg: { ...msg, payload: String(msg.payload).toUpperCase() + suffix } }] }) })];
`,
  );
}

describe('the compiled runtime', () => {
  it('is JavaScript beside every TypeScript module, with package manifests pointing at it', () => {
    expect(existsSync(path.join(out, 'runtime', 'src', 'cli', 'main.js'))).toBe(true);
    expect(existsSync(path.join(out, 'nodes', 'core', 'src', 'index.js'))).toBe(true);
    expect(existsSync(path.join(out, 'node_modules', '@flowcrew', 'sdk', 'src', 'index.js'))).toBe(true);
  });

  it('compiling the same sources again keeps the build in place (a runtime may run from it); current points at it', async () => {
    const again = await compile(path.join(dir, 'compiled'));
    expect(again).toBe(out);
    expect(await realpath(path.join(dir, 'compiled', 'current'))).toBe(await realpath(out));
    expect(existsSync(path.join(out, 'runtime', 'src', 'cli', 'main.js'))).toBe(true);
  });

  it('validates a flow with plain node: every workspace pack loads without tsx, and a TypeScript user pack too', async () => {
    const nodesDir = path.join(dir, 'user-nodes');
    await typeScriptPack(nodesDir);
    const flow = path.join(dir, 'shout.json');
    await writeFile(
      flow,
      JSON.stringify({
        id: 'shout',
        name: 'shout',
        version: 0,
        nodes: [
          { id: 'in', type: 'webhook', props: { method: 'POST', url: '/shout' }, wires: [['s']] },
          { id: 's', type: 'shout', props: { suffix: '!' }, wires: [['j']] },
          { id: 'j', type: 'jsonata', props: { expression: 'payload' }, wires: [] },
        ],
      }),
    );
    const result = await run(process.execPath, [path.join(out, 'runtime', 'src', 'cli', 'main.js'), 'validate', flow], {
      cwd: repoRoot,
      env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: '', FLOWCREW_LOG_LEVEL: 'error', FLOWCREW_USER_NODES_DIR: nodesDir },
    }).catch((error: { stdout: string; stderr: string }) => error);
    expect(result.stdout.trim(), result.stderr).toBe(`${flow}: valid`);
  }, 120_000);
});
