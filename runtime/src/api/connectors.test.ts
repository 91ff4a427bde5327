/**
 * The connector seam through a real runtime and its API, with the PostgreSQL pack on the real PostgreSQL server
 * `scripts/services` starts: credential types and "Test connection", a credential edit reaching a running flow
 * without a redeploy, a failed batch in the run's record, and no connection leaked by 1,000 runs and a redeploy.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';

const url = new URL(process.env.FLOWCREW_TEST_DATABASE_URL ?? 'postgres://flowcrew:flowcrew@127.0.0.1:5432/flowcrew_test');
const appName = `pgapi-${randomBytes(4).toString('hex')}`;
const fields = {
  host: url.hostname,
  port: Number(url.port || 5432),
  database: url.pathname.slice(1),
  user: decodeURIComponent(url.username),
  password: decodeURIComponent(url.password),
  ssl: 'disable',
  applicationName: appName,
  maxConnections: 4,
};

let server: TestServer;
let admin: pg.Client;
const schema = `api_${randomBytes(4).toString('hex')}`;

async function connections(application: string): Promise<number> {
  const { rows } = await admin.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [application]);
  return Number(rows[0]!.n);
}

async function waitConnections(application: string, expected: number): Promise<number> {
  const until = Date.now() + 5000;
  let n = await connections(application);
  while (n !== expected && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    n = await connections(application);
  }
  return n;
}

beforeAll(async () => {
  admin = new pg.Client({ connectionString: url.href });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.query(`CREATE TABLE ${schema}.items (id integer PRIMARY KEY, name text NOT NULL)`);
  server = await startTestServer({ outboundAllow: ['127.0.0.1'] });
});

afterAll(async () => {
  await server?.stop();
  await admin?.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
  await admin?.end();
});

/** A run through the runtime itself (no HTTP): for many runs, which the API's rate limit would slow down. */
async function runDirect(flowId: string, payload: unknown): Promise<any> {
  const { runId } = await server.runtime.startRun(flowId, { input: { payload } });
  await server.runtime.waitForRun(runId);
  return server.runtime.getRun(runId);
}

async function run(flowId: string, payload: unknown): Promise<any> {
  const started = await server.api('POST', `/api/v1/flows/${flowId}/runs`, { input: { payload } });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  return server.waitRun(started.body.runId);
}

async function createCredential(extra: Record<string, unknown> = {}): Promise<string> {
  const created = await server.api('POST', '/api/v1/credentials', { name: `pg ${randomBytes(3).toString('hex')}`, type: 'postgres', fields: { ...fields, ...extra } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id;
}

async function deployFlow(id: string, credential: string, props: Record<string, unknown>): Promise<void> {
  const doc = {
    id,
    name: id,
    nodes: [
      { id: 'start', type: 'inject', wires: [['db']] },
      { id: 'db', type: 'postgres', credentials: credential, props },
    ],
  };
  const saved = await server.api('POST', '/api/v1/flows', doc);
  expect(saved.status, JSON.stringify(saved.body)).toBe(201);
  const deployed = await server.api('POST', `/api/v1/flows/${id}/deploy`);
  expect(deployed.status, JSON.stringify(deployed.body)).toBe(200);
}

/** The output message of the flow's postgres node in a finished run. */
const output = (finished: any) => finished.invocations.find((i: any) => i.nodeId === 'db')?.outputs?.[0]?.msg;

describe('credential types through the API', () => {
  it('lists the declared types with their form schema and secret fields, never their code', async () => {
    const res = await server.api('GET', '/api/v1/credential-types');
    expect(res.status).toBe(200);
    const postgres = res.body.find((t: any) => t.name === 'postgres');
    expect(postgres).toMatchObject({ pack: '@flowcrew/nodes-db', label: 'PostgreSQL', secretFields: ['password'], testable: true });
    expect(postgres.schema.properties.password).toMatchObject({ type: 'string', writeOnly: true });
    expect(postgres.schema.required).toEqual(['host', 'database', 'user']);
    expect(JSON.stringify(res.body)).not.toContain('async');
  });

  it('tests new fields: ok, a wrong password (never echoed), fields that do not fit the type (pointers)', async () => {
    const good = await server.api('POST', '/api/v1/credentials/test', { type: 'postgres', fields });
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ ok: true, type: 'postgres', message: expect.stringMatching(/^connected to PostgreSQL 15/) });
    const wrong = await server.api('POST', '/api/v1/credentials/test', { type: 'postgres', fields: { ...fields, password: 'not-the-password-9' } });
    expect(wrong.status).toBe(200);
    expect(wrong.body.ok).toBe(false);
    expect(wrong.body.message).toMatch(/password authentication failed/);
    expect(JSON.stringify(wrong.body)).not.toContain('not-the-password-9');
    const bad = await server.api('POST', '/api/v1/credentials/test', { type: 'postgres', fields: { port: 'x' } });
    expect(bad.status, JSON.stringify(bad.body)).toBe(422);
    expect(bad.body.errors.map((i: any) => i.pointer).sort()).toEqual(['/fields/database', '/fields/host', '/fields/port', '/fields/user']);
    const unknown = await server.api('POST', '/api/v1/credentials/test', { type: 'no-such-type', fields: {} });
    expect(unknown.status).toBe(422);
  });

  it('refuses to store fields that do not fit the type, on create and on edit, and keeps what was stored', async () => {
    const bad = await server.api('POST', '/api/v1/credentials', { name: 'half a pg', type: 'postgres', fields: { host: '127.0.0.1', port: 'x' } });
    expect(bad.status, JSON.stringify(bad.body)).toBe(422);
    expect(bad.body.errors.map((i: any) => i.pointer).sort()).toEqual(['/fields/database', '/fields/port', '/fields/user']);
    expect((await server.api('GET', '/api/v1/credentials')).body.some((c: any) => c.name === 'half a pg')).toBe(false);
    const id = await createCredential();
    const removed = await server.api('PATCH', `/api/v1/credentials/${id}`, { fields: { host: null } });
    expect(removed.status, JSON.stringify(removed.body)).toBe(422);
    expect(removed.body.errors).toEqual([expect.objectContaining({ pointer: '/fields/host' })]);
    expect((await server.api('POST', `/api/v1/credentials/${id}/test`)).body).toMatchObject({ ok: true });
    const renamed = await server.api('PATCH', `/api/v1/credentials/${id}`, { fields: { port: fields.port } });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
  });

  it('tests a stored credential, with some of its fields replaced (the secret comes from the vault)', async () => {
    const id = await createCredential();
    const stored = await server.api('POST', `/api/v1/credentials/${id}/test`);
    expect(stored.body).toMatchObject({ ok: true });
    const edited = await server.api('POST', `/api/v1/credentials/${id}/test`, { fields: { database: 'no_such_database' } });
    expect(edited.body.ok).toBe(false);
    expect(edited.body.message).toMatch(/database "no_such_database" does not exist/);
    expect((await server.api('POST', '/api/v1/credentials/nope/test')).status).toBe(404);
  });
});

describe('a deployed PostgreSQL flow', () => {
  it('sees a credential edit on its next run without a redeploy; the old connections are closed', async () => {
    const id = await createCredential({ applicationName: `${appName}-edit` });
    await deployFlow('pg-edit', id, { sql: "SELECT current_setting('application_name') AS app" });
    expect(output(await run('pg-edit', {})).payload).toEqual([{ app: `${appName}-edit` }]);
    const patched = await server.api('PATCH', `/api/v1/credentials/${id}`, { fields: { applicationName: `${appName}-edited` } });
    expect(patched.status).toBe(200);
    const second = await run('pg-edit', {});
    expect(output(second)?.payload, JSON.stringify(second)).toEqual([{ app: `${appName}-edited` }]);
    expect(await waitConnections(`${appName}-edit`, 0)).toBe(0);
    await server.api('POST', '/api/v1/flows/pg-edit/undeploy');
    expect(await waitConnections(`${appName}-edited`, 0)).toBe(0);
  });

  it('records a constraint violation mid-batch in the run: what was written and what was not', async () => {
    const id = await createCredential({ applicationName: `${appName}-batch` });
    await deployFlow('pg-batch', id, { operation: 'insert', table: `${schema}.items`, batchSize: 2, atomic: false });
    const finished = await run('pg-batch', [
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
      { id: 3, name: 'c' },
      { id: 1, name: 'again' },
      { id: 5, name: 'e' },
    ]);
    expect(finished.status).toBe('failed');
    const failed = finished.invocations.find((i: any) => i.nodeId === 'db');
    expect(failed.status).toBe('failed');
    // (The test server's user name is also its password, so the run record shows it redacted.)
    expect(failed.error).toMatch(/^PostgreSQL \S+@127\.0\.0\.1:5432\/\S+: insert into /);
    expect(failed.error).toContain(`insert into ${schema}.items: batch 2 (rows 2–3) failed: duplicate key value violates unique constraint "items_pkey" (Key (id)=(1) already exists.)`);
    expect(failed.error).toContain('rows 0–1 (1 batch(es)) were written and stay; rows from 2 on were not written');
    expect(finished.error).toContain('batch 2 (rows 2–3) failed');
    expect((await admin.query(`SELECT array_agg(id ORDER BY id) AS ids FROM ${schema}.items`)).rows[0].ids).toEqual([1, 2]);
    await server.api('POST', '/api/v1/flows/pg-batch/undeploy');
  });

  it('leaks no connection over 1,000 runs and a redeploy, and closes them all on undeploy', async () => {
    const id = await createCredential();
    await deployFlow('pg-runs', id, { sql: 'SELECT $1::int * 2 AS doubled', params: ['payload'] });
    const runs = async (count: number) => {
      for (let done = 0; done < count; done += 50) {
        const batch = await Promise.all(Array.from({ length: 50 }, (_, i) => runDirect('pg-runs', done + i)));
        for (const [i, finished] of batch.entries()) {
          expect(finished.status).toBe('succeeded');
          expect(output(finished).payload).toEqual([{ doubled: 2 * (done + i) }]);
        }
      }
    };
    await runs(1000);
    const afterRuns = await connections(appName);
    expect(afterRuns).toBeGreaterThanOrEqual(1);
    expect(afterRuns).toBeLessThanOrEqual(fields.maxConnections);
    expect(server.runtime.executor.nodeServices.pools.list().filter((r) => r.key === 'db:postgres:pool' && r.credential?.id === id)).toHaveLength(1);

    const redeployed = await server.api('POST', '/api/v1/flows/pg-runs/deploy');
    expect(redeployed.status).toBe(200);
    await runs(100);
    expect(await connections(appName)).toBeLessThanOrEqual(fields.maxConnections);
    expect(server.runtime.executor.nodeServices.pools.list().filter((r) => r.credential?.id === id)).toEqual([
      { key: 'db:postgres:pool', credential: { id, revision: 1 }, holders: 1, state: 'open' },
    ]);

    await server.api('POST', '/api/v1/flows/pg-runs/undeploy');
    expect(await waitConnections(appName, 0)).toBe(0);
    expect(server.runtime.executor.nodeServices.pools.list().filter((r) => r.credential?.id === id)).toEqual([]);
  }, 180_000);
});
