/**
 * The whole runtime on PostgreSQL (DATABASE_URL), not just the storage suite: a fresh database, the example flows,
 * a webhook answered, a run recorded with its invocations, and a restart that finds everything again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { scratchDatabase } from '../testing/storage-backends.ts';

const scratch = await scratchDatabase('rt');
const { reachable, url: databaseUrl } = scratch;

let server: TestServer | undefined;
beforeAll(async () => {
  if (!reachable) return;
  await scratch.create();
});
afterAll(async () => {
  await server?.stop();
  await scratch.drop();
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
