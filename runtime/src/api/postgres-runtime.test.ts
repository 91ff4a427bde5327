/**
 * The whole runtime on PostgreSQL (DATABASE_URL), not just the storage suite: a fresh database, the example flows,
 * a webhook answered, a run recorded with its invocations, and a restart that finds everything again.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';

const adminUrl = process.env.FLOWCREW_TEST_DATABASE_URL ?? 'postgres://flowcrew:flowcrew@127.0.0.1:5432/flowcrew_test';
const database = `flowcrew_rt_${randomBytes(4).toString('hex')}`;
const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString();

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
  return false;
});

let server: TestServer | undefined;
beforeAll(async () => {
  if (!reachable) return;
  await admin((c) => c.query(`CREATE DATABASE ${database}`));
});
afterAll(async () => {
  await server?.stop();
  if (reachable) await admin((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
});

describe.skipIf(!reachable)('the runtime on PostgreSQL', () => {
  it('serves the example webhook, records the run, and finds flows and runs again after a restart', async () => {
    server = await startTestServer({ databaseUrl }, { loadExamples: true });
    expect((await server.api('GET', '/api/v1/health')).body.storage).toBe('postgres');
    const answer = await server.api('POST', '/webhook/orders', { id: 'PG-1', customer: 'Pat', items: [{ qty: 3, price: 50 }] });
    expect(answer.body).toEqual({ orderId: 'PG-1', customer: 'Pat', items: 1, total: 150, status: 'review' });
    const [run] = (await server.api('GET', '/api/v1/runs?flowId=orders')).body;
    const full = await server.waitRun(run.id);
    expect(full.status).toBe('succeeded');
    expect(full.invocations.map((i: { nodeId: string }) => i.nodeId)).toEqual(['order-in', 'total', 'route', 'review', 'respond']);

    const dataDir = server.dataDir;
    await server.stop();
    server = await startTestServer({ databaseUrl, dataDir }, { loadExamples: false });
    expect((await server.api('GET', `/api/v1/runs/${run.id}`)).body.status).toBe('succeeded');
    const again = await server.api('POST', '/webhook/orders', { id: 'PG-2', customer: 'Pat', items: [{ qty: 1, price: 5 }] });
    expect(again.body.status).toBe('approved');
  }, 60_000);
});
