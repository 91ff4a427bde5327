/**
 * The pack kit (create-flowcrew-nodes): scaffold a pack into an empty directory and run the pack's own tests with
 * vitest, the way its author would after `npm install` (the SDK and vitest are linked from this repository instead
 * of downloaded); the manifest is what the registry loads and the palette manager searches for.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeRegistry } from '../registry/registry.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
const kit = path.join(repoRoot, 'create-flowcrew-nodes', 'bin', 'create.js');
let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'flowcrew-pack-kit-'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('create-flowcrew-nodes', () => {
  it('scaffolds a publish-ready pack whose tests pass and which the registry loads', async () => {
    const dir = path.join(work, 'acme-shout');
    const { stdout } = await promisify(execFile)(process.execPath, [kit, dir]);
    expect(stdout).toContain('Created flowcrew-nodes-acme-shout (node type "acme-shout")');
    const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({
      name: 'flowcrew-nodes-acme-shout',
      keywords: ['flowcrew-nodes'],
      flowcrew: { nodes: ['./src/index.ts'], sdkApi: 1 },
      peerDependencies: { '@flowcrew/sdk': '^0.1.0' },
      files: expect.arrayContaining(['src/**/*.ts', '!src/**/*.test.ts']),
    });

    // What `npm install` would bring, linked from here.
    await mkdir(path.join(dir, 'node_modules', '@flowcrew'), { recursive: true });
    await symlink(path.join(repoRoot, 'nodes', 'sdk'), path.join(dir, 'node_modules', '@flowcrew', 'sdk'), 'dir');
    await symlink(path.join(repoRoot, 'node_modules', 'vitest'), path.join(dir, 'node_modules', 'vitest'), 'dir');
    const vitest = path.join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs');
    const run = await promisify(execFile)(process.execPath, [vitest, 'run', '--root', dir, '--reporter', 'json'], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
    const report = JSON.parse(run.stdout.slice(run.stdout.indexOf('{')));
    expect(report).toMatchObject({ numTotalTests: 3, numPassedTests: 3, success: true });

    const registry = new NodeRegistry();
    const info = await registry.loadPackage(dir, 'user');
    expect(info).toMatchObject({ status: 'loaded', sdkApi: 1, types: ['acme-shout'] });
  }, 60_000);

  it('refuses a directory that is not empty and a name npm would refuse', async () => {
    const exec = promisify(execFile);
    await expect(exec(process.execPath, [kit, path.join(repoRoot, 'create-flowcrew-nodes')])).rejects.toMatchObject({ stderr: expect.stringContaining('is not empty') });
    await expect(exec(process.execPath, [kit, path.join(work, 'x'), '--name', 'Bad Name'])).rejects.toMatchObject({ stderr: expect.stringContaining('"Bad Name" is not an npm package name') });
  });
});
