/**
 * The image's entrypoint + command and its health check, run outside Docker (no engine here) exactly as the
 * Dockerfile states them: the compiled CLI (made first by the compiler the image's deps stage runs) starts a main in
 * queue mode on a fresh PostgreSQL database and Redis, without a TypeScript loader; it becomes healthy by
 * docker/healthcheck.mjs, the check fails against a port nobody serves, and SIGTERM stops the main cleanly.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '@flowcrew/sdk/testing';
import { compile } from '../cli/compile.ts';
import { TEST_REDIS_DB } from '../testing/redis-databases.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
const adminUrl = process.env.FLOWCREW_TEST_DATABASE_URL ?? 'postgres://flowcrew:flowcrew@127.0.0.1:5432/flowcrew_test';
const database = `flowcrew_pkg_${randomBytes(4).toString('hex')}`;
const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString();

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
const reachable = await admin('SELECT 1').then(
  () => true,
  (error: Error) => {
    if (process.env.CI) throw new Error(`PostgreSQL not reachable (${error.message}): run scripts/services`);
    return false;
  },
);

/** ENTRYPOINT + CMD of the Dockerfile's final stage, and its HEALTHCHECK command. */
function fromDockerfile(): { command: string[]; health: string[]; env: Record<string, string> } {
  const final = readFileSync(path.join(repoRoot, 'docker', 'Dockerfile'), 'utf8').split(/^FROM /m).at(-1)!;
  const json = (re: RegExp) => JSON.parse(final.match(re)![1]!) as string[];
  const env = Object.fromEntries([...final.match(/^ENV (.*)$/m)![1]!.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
  return { command: [...json(/^ENTRYPOINT (.*)$/m), ...json(/^CMD (.*)$/m)], health: json(/^HEALTHCHECK .* CMD (.*)$/m), env };
}

/** Runs the health check command; its exit code. */
function check(health: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => execFile(health[0]!, health.slice(1), { cwd: repoRoot, env: { ...process.env, ...env } }, (error) => resolve(error ? Number(error.code ?? 1) : 0)));
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'flowcrew-entrypoint-'));
let main: ChildProcess | undefined;
afterAll(async () => {
  if (main && main.exitCode === null) main.kill('SIGKILL');
  if (reachable) await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  rmSync(dataDir, { recursive: true, force: true });
});

describe.skipIf(!reachable)("the image's entrypoint and health check (outside Docker)", () => {
  it('starts a queue-mode main that the health check finds ready; SIGTERM stops it with exit code 0', async () => {
    await admin(`CREATE DATABASE ${database}`);
    const { command, health, env: imageEnv } = fromDockerfile();
    expect(command.slice(-3)).toEqual(['start', '--mode', 'main']);
    // What the image's deps stage does (`node --import tsx runtime/src/cli/compile.ts`): dist/compiled/current.
    await compile();
    expect(command).not.toContain('--import');
    const port = String(await freePort());
    const env = {
      ...imageEnv,
      // The image's paths (/data, /tmp) are volumes there; here a throwaway directory.
      FLOWCREW_DATA_DIR: dataDir,
      TMPDIR: os.tmpdir(),
      HOST: '127.0.0.1',
      PORT: port,
      DATABASE_URL: databaseUrl,
      FLOWCREW_REDIS_URL: process.env.FLOWCREW_TEST_REDIS_URL ?? `redis://127.0.0.1:6379/${TEST_REDIS_DB.entrypoint}`,
      FLOWCREW_SECRET: 'entrypoint-test-secret-0123456789abcdef',
      FLOWCREW_LOG_LEVEL: 'warn',
      // No loader from the test's environment: Node 20 loads no .ts module without one, so becoming healthy shows
      // the compiled modules ran, as in the image.
      NODE_OPTIONS: '',
    };
    let output = '';
    main = spawn(command[0]!, command.slice(1), { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    main.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    main.stderr!.on('data', (d: Buffer) => (output += d.toString()));

    // Docker's view: the health check command, retried until it passes (start period), as long as the main lives.
    let healthy = false;
    for (let i = 0; i < 120 && !healthy && main.exitCode === null; i++) {
      healthy = (await check(health, { PORT: port })) === 0;
      if (!healthy) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect(healthy, `main did not become healthy:\n${output.slice(-3000)}`).toBe(true);

    // The check fails (exit 1) when nothing answers.
    expect(await check(health, { PORT: await freePort().then(String) })).toBe(1);

    const exited = new Promise<number | null>((resolve) => main!.once('exit', (code) => resolve(code)));
    main.kill('SIGTERM');
    expect(await exited, output.slice(-3000)).toBe(0);

  }, 180_000);
});
