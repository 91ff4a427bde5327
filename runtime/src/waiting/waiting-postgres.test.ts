/**
 * Human in the loop on PostgreSQL (run leases on): a parked run survives a restart, is answered once, and a question
 * with a timeout closes with its chosen outcome. The SQLite side is waiting.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { scratchDatabase } from '../testing/storage-backends.ts';

process.env.FLOWCREW_WAIT_SWEEP_MS = '100';

const scratch = await scratchDatabase('wait');
const { reachable, url: databaseUrl } = scratch;

let server: TestServer | undefined;
let dataDir: string;
beforeAll(async () => {
  if (!reachable) return;
  await scratch.create();
  dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-waiting-pg-'));
});
afterAll(async () => {
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  await scratch.drop();
});

const start = () => startTestServer({ dataDir, databaseUrl });
const flow = (id: string, props: Record<string, unknown> = {}) => ({
  id,
  name: id,
  nodes: [
    { id: 'go', type: 'inject', wires: [['ask']] },
    { id: 'ask', type: 'human-input', props: { title: 'Go ahead?', ...props }, wires: [['yes'], ['no']] },
    { id: 'yes', type: 'debug' },
    { id: 'no', type: 'debug' },
  ],
});

async function parked(s: TestServer, flowId: string): Promise<{ runId: string; waitId: string }> {
  const runId = (await s.api('POST', `/api/v1/flows/${flowId}/runs`, { input: { payload: 1 } })).body.runId as string;
  for (let i = 0; i < 400; i++) {
    const waits = (await s.api('GET', `/api/v1/waits?runId=${runId}`)).body as Array<{ id: string }>;
    if (waits.length && (await s.api('GET', `/api/v1/runs/${runId}`)).body.status === 'waiting') return { runId, waitId: waits[0]!.id };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`run ${runId} did not wait`);
}

describe.skipIf(!reachable)('waiting runs on PostgreSQL', () => {
  it('parks, survives a restart, resumes once answered; a second answer is refused; a timeout applies its outcome', async () => {
    server = await start();
    for (const doc of [flow('pg-approve'), flow('pg-timeout', { timeoutSeconds: 1, onTimeout: 'reject' })]) {
      expect((await server.api('POST', '/api/v1/flows/import?deploy=true', doc)).status).toBe(201);
    }
    const { runId, waitId } = await parked(server, 'pg-approve');
    await server.stop();
    server = await start();
    expect((await server.api('GET', `/api/v1/runs/${runId}`)).body.status).toBe('waiting');

    const answer = (approved: boolean) => server!.api('POST', `/api/v1/waits/${encodeURIComponent(waitId)}/answer`, { answer: { approved } });
    expect((await answer(true)).status).toBe(200);
    expect((await answer(false)).status).toBe(409);
    const run = await server.waitRun(runId);
    expect(run.status).toBe('succeeded');
    expect(run.invocations.map((i: { nodeId: string }) => i.nodeId)).toEqual(expect.arrayContaining(['ask', 'yes']));

    const timed = (await server.api('POST', '/api/v1/flows/pg-timeout/runs', { input: { payload: 2 } })).body.runId as string;
    const done = await server.waitRun(timed);
    expect(done.status).toBe('succeeded');
    expect(done.invocations.map((i: { nodeId: string }) => i.nodeId)).toContain('no');
    expect(done.invocations.find((i: { nodeId: string }) => i.nodeId === 'ask').outputs[0].msg.approval).toMatchObject({ approved: false, timedOut: true, via: 'timeout' });
  }, 60_000);
});
