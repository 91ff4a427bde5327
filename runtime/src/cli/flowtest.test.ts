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

// One spawn (starting the CLI costs seconds): a passing file, a failing one and one that does not parse.
it('flowcrew test prints each case, writes JUnit XML and exits 1 when a case fails or a file errors', async () => {
  const files = ['orders.flowtest.yaml', 'orders-broken.flowtest.yaml', 'syntax-error.flowtest.yaml'].map((f) => path.join(fixtures, f));
  const run = await flowcrewTest([...files, '--junit', path.join(dir, 'out.xml')]);
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(/^PASS order intake \(flow orders-test v4, \d+ ms\)$/m);
  expect(run.stdout).toContain('/payload/total: expected 4, got 3');
  expect(run.stdout).toMatch(/ERROR .*syntax-error\.flowtest\.yaml\n.*syntax-error\.flowtest\.yaml:5:1: invalid YAML/);
  expect(run.stdout).toContain('3 passed, 3 failed or errored, 3 file(s)');
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' });
  expect(parser.parse(await readFile(path.join(dir, 'out.xml'), 'utf8')).testsuites).toMatchObject({ tests: '6', failures: '1', errors: '2' });
}, 120_000);
