import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, expect, it } from 'vitest';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
const fixtures = path.join(repoRoot, 'runtime/src/flowtest/fixtures');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowtest-cli-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const flowcrewTest = (args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', 'runtime/src/cli/main.ts', 'test', ...args], { cwd: repoRoot, env: { ...process.env, DATABASE_URL: '', FLOWCREW_LOG_LEVEL: 'error' } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

it('flowcrew test exits 0 when every case passes and 1 otherwise, and writes JUnit XML', async () => {
  const [ok, bad] = await Promise.all([
    flowcrewTest([path.join(fixtures, 'orders.flowtest.yaml'), '--junit', path.join(dir, 'ok.xml')]),
    flowcrewTest([path.join(fixtures, 'orders-broken.flowtest.yaml'), path.join(fixtures, 'syntax-error.flowtest.yaml'), '--junit', path.join(dir, 'bad.xml')]),
  ]);
  expect(ok.stdout).toContain('3 passed, 0 failed or errored, 1 file(s)');
  expect(ok.code).toBe(0);
  expect(bad.code).toBe(1);
  expect(bad.stdout).toContain('/payload/total: expected 4, got 3');
  expect(bad.stdout).toMatch(/ERROR .*syntax-error\.flowtest\.yaml\n.*syntax-error\.flowtest\.yaml:5:1: invalid YAML/);
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' });
  expect(parser.parse(await readFile(path.join(dir, 'ok.xml'), 'utf8')).testsuites).toMatchObject({ tests: '3', failures: '0', errors: '0' });
  expect(parser.parse(await readFile(path.join(dir, 'bad.xml'), 'utf8')).testsuites).toMatchObject({ tests: '3', failures: '1', errors: '2' });
}, 120_000);
