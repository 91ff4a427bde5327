/**
 * `flowcrew backup` / `flowcrew restore` (the real CLI, as separate processes) on SQLite and on the real PostgreSQL 15
 * (scripts/services): a backup taken while a runtime serves runs, restored elsewhere, brings back flows (deployed),
 * runs with their invocations, credentials that still decrypt with the same key ring file, and users who can sign in.
 * A restore refuses a database a runtime uses (unless --force) and refuses damaged or too-new backups before touching
 * anything.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteFileIn } from '../storage/sqlite.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../testing/server.ts';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');

async function flowcrew(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string; json?: any }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'runtime/src/cli/main.ts', ...args], {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: '', FLOWCREW_SECRET: '', FLOWCREW_LOG_LEVEL: 'warn', ...env },
    });
    return { code: 0, stdout, stderr, json: JSON.parse(stdout) };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

interface Made {
  runId: string;
  credentialId: string;
}

const CREDENTIAL_FIELDS = { user: 'backup-user', password: `pw-${randomBytes(6).toString('hex')}` };

/** A deployed flow with a finished run, a credential and a user. */
async function populate(server: TestServer): Promise<Made> {
  const flow = { id: 'kept', name: 'kept', version: 0, nodes: [{ id: 'go', type: 'inject', wires: [['out']] }, { id: 'out', type: 'debug', wires: [] }] };
  expect((await server.api('POST', '/api/v1/flows', flow)).status).toBe(201);
  expect((await server.api('POST', '/api/v1/flows/kept/deploy')).status).toBe(200);
  const started = await server.api('POST', '/api/v1/flows/kept/runs', { input: { payload: 'before the backup' } });
  await server.waitRun(started.body.runId);
  const credential = await server.api('POST', '/api/v1/credentials', { name: 'basic', type: 'http-basic', fields: CREDENTIAL_FIELDS });
  expect(credential.status, JSON.stringify(credential.body)).toBe(201);
  await server.userWith('restored-user', { projects: { default: 'viewer' } });
  return { runId: started.body.runId, credentialId: credential.body.id };
}

async function verify(server: TestServer, made: Made): Promise<void> {
  const flow = await server.api('GET', '/api/v1/flows/kept');
  expect(flow.status).toBe(200);
  expect(flow.body.deployed).toBe(true);
  const past = await server.api('GET', `/api/v1/runs/${made.runId}`);
  expect(past.body.status).toBe('succeeded');
  expect(past.body.invocations.map((i: { nodeId: string }) => i.nodeId)).toEqual(['go', 'out']);
  expect(past.body.invocations[1].input.payload).toBe('before the backup');
  // Still decrypts, with the key ring file of the installation that made it.
  expect(await server.runtime.vault.resolve(made.credentialId)).toEqual(CREDENTIAL_FIELDS);
  await expect(server.signIn('restored-user', TEST_PASSWORD)).resolves.toMatchObject({ cookie: expect.any(String) });
  // And the restored flow runs.
  const again = await server.api('POST', '/api/v1/flows/kept/runs', { input: { payload: 'after the restore' } });
  expect((await server.waitRun(again.body.runId)).status).toBe('succeeded');
}

/** Run counts straight from a SQLite file (to show a refused restore changed nothing). */
function sqliteCounts(file: string): { flows: number; runs: number } {
  const db = new Database(file, { readonly: true });
  try {
    return { flows: (db.prepare('SELECT count(*) AS n FROM flows').get() as { n: number }).n, runs: (db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n };
  } finally {
    db.close();
  }
}

describe('backup and restore on SQLite', () => {
  let dir: string;
  const servers: TestServer[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-backup-'));
  });
  afterAll(async () => {
    for (const s of servers) await s.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips flows, runs, credentials and users, backed up while the runtime serves runs', async () => {
    const source = path.join(dir, 'source');
    const target = path.join(dir, 'target');
    const file = path.join(dir, 'flowcrew.backup');
    const server = await startTestServer({ dataDir: source });
    servers.push(server);
    const made = await populate(server);

    // Runs keep being started and committed during the backup.
    let busy = true;
    const load = (async () => {
      let n = 0;
      while (busy) {
        const { body } = await server.api('POST', '/api/v1/flows/kept/runs', { input: { payload: n++ } });
        await server.waitRun(body.runId);
      }
      return n;
    })();
    const backup = await flowcrew({}, 'backup', file, '-d', source);
    busy = false;
    expect(await load).toBeGreaterThan(0);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.json).toMatchObject({ dialect: 'sqlite', file, schemaVersion: expect.any(Number), counts: { flows: 1, credentials: 1, users: 1 } });
    expect(backup.json.counts.runs).toBeGreaterThanOrEqual(1);
    expect(backup.json.note).toMatch(/never holds keys/);
    expect((await flowcrew({}, 'backup', file, '-d', source)).stderr).toMatch(/exists: choose another file name, or pass --force/);

    // Restore into a new installation that has the same key ring file.
    await server.stop();
    servers.pop();
    await mkdir(target, { recursive: true });
    await copyFile(path.join(source, 'keyring.json'), path.join(target, 'keyring.json'));
    await chmod(path.join(target, 'keyring.json'), 0o600);
    const restored = await flowcrew({}, 'restore', file, '-d', target);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.json).toMatchObject({ dialect: 'sqlite', into: sqliteFileIn(target), counts: backup.json.counts, forced: false });

    const again = await startTestServer({ dataDir: target });
    servers.push(again);
    await verify(again, made);

    // A runtime uses the target: refused, unless --force.
    const before = sqliteCounts(sqliteFileIn(target));
    const refused = await flowcrew({}, 'restore', file, '-d', target);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is in use \(a runtime or another program has it open\): stop it first, or pass --force/);
    expect(sqliteCounts(sqliteFileIn(target))).toEqual(before);
    const forced = await flowcrew({}, 'restore', file, '-d', target, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.json.forced).toBe(true);
    // The run made after the restore above is gone: the database is the backup again.
    expect(sqliteCounts(sqliteFileIn(target))).toEqual({ flows: 1, runs: backup.json.counts.runs });
  }, 120_000);

  it('restoring into an existing installation replaces what it holds', async () => {
    const home = path.join(dir, 'existing');
    const file = path.join(dir, 'existing.backup');
    const server = await startTestServer({ dataDir: home });
    servers.push(server);
    await populate(server);
    expect((await flowcrew({}, 'backup', file, '-d', home)).code).toBe(0);
    const later = { id: 'after-backup', name: 'after', version: 0, nodes: [{ id: 'go', type: 'inject', wires: [] }] };
    expect((await server.api('POST', '/api/v1/flows', later)).status).toBe(201);
    await server.stop();
    servers.pop();
    const restored = await flowcrew({}, 'restore', file, '-d', home);
    expect(restored.code, restored.stderr).toBe(0);
    const back = await startTestServer({ dataDir: home });
    servers.push(back);
    expect((await back.api('GET', '/api/v1/flows/after-backup')).status).toBe(404);
    expect((await back.api('GET', '/api/v1/flows/kept')).status).toBe(200);
  }, 60_000);

  it('refuses damaged, foreign and too-new backups before touching the target', async () => {
    const home = path.join(dir, 'guarded');
    const file = path.join(dir, 'guarded.backup');
    const server = await startTestServer({ dataDir: home });
    await populate(server);
    expect((await flowcrew({}, 'backup', file, '-d', home)).code).toBe(0);
    await server.stop();
    const before = sqliteCounts(sqliteFileIn(home));

    const damaged = path.join(dir, 'damaged.backup');
    await copyFile(file, damaged);
    const handle = await open(damaged, 'r+');
    const size = (await handle.stat()).size;
    for (let offset = 4096; offset < size; offset += 4096) await handle.write(randomBytes(512), 0, 512, offset + 100);
    await handle.close();
    const foreign = path.join(dir, 'foreign.backup');
    await writeFile(foreign, 'not a backup at all');
    const newer = path.join(dir, 'newer.backup');
    await copyFile(file, newer);
    const db = new Database(newer);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, ?, 0)').run('from the future');
    db.close();

    const answers = {
      damaged: await flowcrew({}, 'restore', damaged, '-d', home),
      foreign: await flowcrew({}, 'restore', foreign, '-d', home),
      newer: await flowcrew({}, 'restore', newer, '-d', home),
      missing: await flowcrew({}, 'restore', path.join(dir, 'nope.backup'), '-d', home),
    };
    expect(answers.damaged.stderr).toMatch(/damaged/);
    expect(answers.foreign.stderr).toMatch(/is not a SQLite backup/);
    expect(answers.newer.stderr).toMatch(/has schema version 9999, made by a newer Flowcrew than this one \(\d+\): upgrade Flowcrew first/);
    expect(answers.missing.stderr).toMatch(/no such file/);
    for (const answer of Object.values(answers)) expect(answer.code).toBe(1);
    expect(sqliteCounts(sqliteFileIn(home))).toEqual(before);
    expect(await readFile(sqliteFileIn(home)).then((b) => b.length)).toBeGreaterThan(0);
  }, 60_000);
});

const adminUrl = process.env.FLOWCREW_TEST_DATABASE_URL ?? 'postgres://flowcrew:flowcrew@127.0.0.1:5432/flowcrew_test';
const suffix = randomBytes(4).toString('hex');
const databases = { source: `flowcrew_bk_src_${suffix}`, target: `flowcrew_bk_dst_${suffix}` };
const urlOf = (database: string) => Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString();

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const reachable = await admin(async () => true).catch((error: Error) => {
  if (process.env.CI) throw new Error(`PostgreSQL not reachable (${error.message}): run scripts/services`);
  console.warn(`SKIPPED: PostgreSQL not reachable at ${adminUrl} (${error.message}): run scripts/services`);
  return false;
});

async function targetRuns(): Promise<number> {
  const client = new pg.Client({ connectionString: urlOf(databases.target) });
  await client.connect();
  try {
    return Number((await client.query('SELECT count(*) AS n FROM runs')).rows[0].n);
  } finally {
    await client.end();
  }
}

describe.skipIf(!reachable)('backup and restore on PostgreSQL 15 (pg_dump / pg_restore)', () => {
  let dir: string;
  const servers: TestServer[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-backup-pg-'));
    await admin(async (c) => {
      await c.query(`CREATE DATABASE ${databases.source}`);
      await c.query(`CREATE DATABASE ${databases.target}`);
    });
  });
  afterAll(async () => {
    for (const s of servers) await s.stop().catch(() => {});
    await admin(async (c) => {
      for (const db of Object.values(databases)) await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    });
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips flows, runs, credentials and users; refuses a target in use and a damaged dump', async () => {
    const source = path.join(dir, 'source');
    const target = path.join(dir, 'target');
    const file = path.join(dir, 'flowcrew.dump');
    const server = await startTestServer({ dataDir: source, databaseUrl: urlOf(databases.source) });
    servers.push(server);
    const made = await populate(server);
    const backup = await flowcrew({ DATABASE_URL: urlOf(databases.source) }, 'backup', file, '-d', source);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.json).toMatchObject({ dialect: 'postgres', file, schemaVersion: expect.any(Number) });
    expect((await readFile(file)).subarray(0, 5).toString('latin1')).toBe('PGDMP');

    await mkdir(target, { recursive: true });
    await copyFile(path.join(source, 'keyring.json'), path.join(target, 'keyring.json'));
    await chmod(path.join(target, 'keyring.json'), 0o600);
    const restored = await flowcrew({ DATABASE_URL: urlOf(databases.target) }, 'restore', file, '-d', target);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.json).toMatchObject({ dialect: 'postgres', schemaVersion: backup.json.schemaVersion, counts: { flows: 1, credentials: 1, users: 1 }, forced: false });
    expect(restored.json.into).not.toContain(':flowcrew@'); // no password in the report

    const again = await startTestServer({ dataDir: target, databaseUrl: urlOf(databases.target) });
    servers.push(again);
    await verify(again, made);

    // The target is in use by a running runtime: refused, nothing changed.
    const flowsBefore = (await again.api('GET', '/api/v1/flows')).body.length;
    const runsBefore = await targetRuns();
    const refused = await flowcrew({ DATABASE_URL: urlOf(databases.target) }, 'restore', file, '-d', target);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is in use by a running runtime \(\d+ connection\(s\) named "flowcrew" in pg_stat_activity\): stop every runtime on it first, or pass --force/);
    expect(refused.stderr).not.toContain(':flowcrew@');

    // A damaged dump is refused before the target is touched.
    await again.stop();
    servers.pop();
    const damaged = path.join(dir, 'damaged.dump');
    const bytes = await readFile(file);
    await writeFile(damaged, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const refusedDamaged = await flowcrew({ DATABASE_URL: urlOf(databases.target) }, 'restore', damaged, '-d', target);
    expect(refusedDamaged.code).toBe(1);
    expect(refusedDamaged.stderr).toMatch(/damaged|pg_restore failed/);
    const sqliteFile = path.join(dir, 'wrong-kind.backup');
    await writeFile(sqliteFile, Buffer.concat([Buffer.from('SQLite format 3\u0000', 'latin1'), Buffer.alloc(100)]));
    expect((await flowcrew({ DATABASE_URL: urlOf(databases.target) }, 'restore', sqliteFile, '-d', target)).stderr).toMatch(/is not a PostgreSQL backup/);
    const after = await startTestServer({ dataDir: target, databaseUrl: urlOf(databases.target) });
    servers.push(after);
    expect((await after.api('GET', '/api/v1/flows')).body.length).toBe(flowsBefore);
    expect(await targetRuns()).toBe(runsBefore);
  }, 120_000);
});
