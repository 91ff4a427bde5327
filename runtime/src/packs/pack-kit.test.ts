/**
 * The pack kit (create-flowcrew-nodes): `npm create flowcrew-nodes` (npm exec of the kit as packed for npm) scaffolds a
 * pack into an empty directory; its own tests pass with vitest on the SDK as published (the `npm pack` tarball of
 * nodes/sdk installed by npm; only vitest is linked from this repository); the manifest is what the registry loads
 * and the palette manager searches for, and its README passes the checks our own packs are held to (pack-layout.test.ts).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeRegistry } from '../registry/registry.ts';
import { runNpm } from './npm-cli.ts';
import { readmeProblems } from './readme-layout.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
const kit = path.join(repoRoot, 'create-flowcrew-nodes', 'bin', 'create.js');
const templateReadme = () => readFile(path.join(repoRoot, 'create-flowcrew-nodes', 'template', 'README.md'), 'utf8');
let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'flowcrew-pack-kit-'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('create-flowcrew-nodes', () => {
  it('scaffolds a publish-ready pack whose tests pass on the published SDK and which the registry loads', async () => {
    const dir = path.join(work, 'acme-shout');
    // What `npm create flowcrew-nodes acme-shout` runs: the kit's bin from its package, as npm would publish it.
    const packed = async (from: string) => path.join(work, (JSON.parse((await runNpm(['pack', '--pack-destination', work, '--json'], { cwd: from })).stdout) as Array<{ filename: string }>)[0]!.filename);
    const [kitTarball, sdkTarball] = await Promise.all([packed(path.join(repoRoot, 'create-flowcrew-nodes')), packed(path.join(repoRoot, 'nodes', 'sdk'))]);
    const { stdout } = await runNpm(['exec', '--yes', `--package=${kitTarball}`, '--', 'create-flowcrew-nodes', dir], { cwd: work });
    expect(stdout).toContain('Created flowcrew-nodes-acme-shout (node type "acme-shout")');
    const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({
      name: 'flowcrew-nodes-acme-shout',
      license: 'Apache-2.0',
      keywords: ['flowcrew-nodes'],
      flowcrew: { nodes: ['./src/index.ts'], sdkApi: 1 },
      peerDependencies: { '@flowcrew/sdk': '^0.1.0' },
      files: expect.arrayContaining(['src/**/*.ts', '!src/**/*.test.ts']),
    });

    // The SDK as published, installed by npm with its own dependencies (from npm's cache when it has them) into the
    // directory above the pack (Node resolves it from there; the pack's other dev tools are not downloaded); vitest
    // linked from this repository.
    const deps = path.join(work, 'deps');
    await runNpm(['install', '--prefix', deps, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', sdkTarball], { cwd: work });
    await symlink(path.join(deps, 'node_modules'), path.join(work, 'node_modules'), 'dir');
    expect(JSON.parse(await readFile(path.join(work, 'node_modules', '@flowcrew', 'sdk', 'package.json'), 'utf8')).version).toBe('0.1.0');
    expect(existsSync(path.join(work, 'node_modules', '@flowcrew', 'sdk', 'src', 'index.test.ts'))).toBe(false); // packed: no tests
    await mkdir(path.join(dir, 'node_modules'), { recursive: true });
    await symlink(path.join(repoRoot, 'node_modules', 'vitest'), path.join(dir, 'node_modules', 'vitest'), 'dir');
    const vitest = path.join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs');
    const run = await promisify(execFile)(process.execPath, [vitest, 'run', '--root', dir, '--reporter', 'json'], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
    const report = JSON.parse(run.stdout.slice(run.stdout.indexOf('{')));
    expect(report).toMatchObject({ numTotalTests: 3, numPassedTests: 3, success: true });

    const registry = new NodeRegistry();
    const info = await registry.loadPackage(dir, 'user');
    expect(info).toMatchObject({ status: 'loaded', sdkApi: 1, types: ['acme-shout'] });
    // The README it writes passes the checks our own packs' READMEs are held to (its example flow validates).
    expect(await readmeProblems(dir, registry, await templateReadme())).toEqual([]);
  }, 180_000);

  it('refuses a directory that is not empty and a name npm would refuse', async () => {
    const exec = promisify(execFile);
    await expect(exec(process.execPath, [kit, path.join(repoRoot, 'create-flowcrew-nodes')])).rejects.toMatchObject({ stderr: expect.stringContaining('is not empty') });
    await expect(exec(process.execPath, [kit, path.join(work, 'x'), '--name', 'Bad Name'])).rejects.toMatchObject({ stderr: expect.stringContaining('"Bad Name" is not an npm package name') });
    await expect(exec(process.execPath, [kit, path.join(work, 'x'), '--license', '<none>'])).rejects.toMatchObject({ stderr: expect.stringContaining('"<none>" is not a licence npm accepts') });
  });
});
