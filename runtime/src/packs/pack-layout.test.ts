/**
 * Our own packs (nodes/*) follow the layout `npm create flowcrew-nodes` writes: the manifest fields of the kit's
 * template package.json, and a README with the template's sections, true to the code (readme-layout.ts). The kit's own
 * output is checked against the same rules in pack-kit.test.ts.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NodeRegistry } from '../registry/registry.ts';
import { readmeProblems } from './readme-layout.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
const templateReadme = () => readFile(path.join(repoRoot, 'create-flowcrew-nodes', 'template', 'README.md'), 'utf8');

describe('our packs follow the kit layout', () => {
  it('our own packs follow the layout the kit writes', async () => {
    const template = JSON.parse(await readFile(path.join(repoRoot, 'create-flowcrew-nodes', 'template', 'package.json'), 'utf8'));
    const packs = (await readdir(path.join(repoRoot, 'nodes'), { withFileTypes: true })).filter((d) => d.isDirectory() && d.name !== 'sdk').map((d) => d.name);
    expect(packs.length).toBeGreaterThan(5);
    for (const pack of packs) {
      const manifest = JSON.parse(await readFile(path.join(repoRoot, 'nodes', pack, 'package.json'), 'utf8'));
      const where = `nodes/${pack}/package.json`;
      expect(manifest.type, where).toBe(template.type);
      expect(manifest.keywords, where).toEqual(expect.arrayContaining(template.keywords));
      expect(manifest.flowcrew, where).toEqual(template.flowcrew);
      expect(manifest.exports?.['.'], where).toBe(template.exports['.']);
      expect(manifest.dependencies?.['@flowcrew/sdk'] ?? manifest.peerDependencies?.['@flowcrew/sdk'], where).toBeDefined();
      expect(existsSync(path.join(repoRoot, 'nodes', pack, 'src', 'index.ts')), `nodes/${pack}/src/index.ts`).toBe(true);
    }
  });

  it("every pack's README has the kit's sections, true to the code (types, credentials, a valid example flow, licences)", async () => {
    const packs = (await readdir(path.join(repoRoot, 'nodes'), { withFileTypes: true })).filter((d) => d.isDirectory() && d.name !== 'sdk').map((d) => d.name);
    // One registry with every pack: an example may use core nodes around the pack's own.
    const registry = new NodeRegistry();
    for (const pack of packs) expect((await registry.loadPackage(path.join(repoRoot, 'nodes', pack), 'workspace'))?.status, pack).toBe('loaded');
    const template = await templateReadme();
    const problems = (await Promise.all(packs.map((pack) => readmeProblems(path.join(repoRoot, 'nodes', pack), registry, template)))).flat();
    expect(problems).toEqual([]);
  }, 120_000);
});
