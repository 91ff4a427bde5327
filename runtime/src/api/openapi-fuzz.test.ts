/**
 * Property-based API testing with schemathesis (installed by scripts/services): it generates requests from our
 * OpenAPI document, valid and invalid, and checks that responses match the document, that invalid input is
 * rejected with a 4xx, that no request causes a 5xx, and that unsupported methods get 405.
 * Excluded: "schema-valid request rejected" — flows that pass the format schema are still refused for semantic
 * reasons a schema cannot express (unknown node types, wires to missing nodes), which is what 422 is for.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';

const available = spawnSync('python3', ['-m', 'schemathesis.cli', '--version']).status === 0;
if (!available && process.env.CI) throw new Error('schemathesis is not installed: run scripts/services (it installs it from PyPI)');

let server: TestServer;
beforeAll(async () => {
  // The palette routes search a registry (read from the environment by the packs service): the local verdaccio that
  // scripts/services runs, as the public registry's mirror here offers no search.
  process.env.FLOWCREW_NPM_REGISTRY = process.env.FLOWCREW_TEST_NPM_REGISTRY ?? 'http://127.0.0.1:4873/';
  if (available) server = await startTestServer({}, { loadExamples: true });
});
afterAll(async () => {
  await server?.stop();
});

describe.skipIf(!available)('REST API against its OpenAPI document (schemathesis)', () => {
  it('finds no server errors, no undocumented responses and no accepted invalid input', async () => {
    const { spawn } = await import('node:child_process');
    const args = [
      '-m', 'schemathesis.cli', 'run', `${server.url}/api/v1/openapi.json`,
      '--url', `${server.url}/api/v1`,
      // As the instance admin (the test server's FLOWCREW_ADMIN_TOKEN), so every route is reachable.
      '--header', `Authorization: Bearer ${server.adminToken}`,
      '--max-examples', '25',
      '--seed', '20261125',
      '--exclude-checks', 'positive_data_acceptance',
      '--no-color',
    ];
    const output: string[] = [];
    const code = await new Promise<number>((resolve) => {
      const child = spawn('python3', args, { env: { ...process.env, SCHEMATHESIS_TELEMETRY: 'false' } });
      child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
      child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
      child.on('exit', (c) => resolve(c ?? 1));
    });
    expect(code, output.join('')).toBe(0);
  }, 180_000);
});
