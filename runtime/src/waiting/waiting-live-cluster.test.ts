/**
 * The Waiting panel's live event in queue mode, on real PostgreSQL and Redis: two mains (HTTP + Socket.IO with the
 * Redis adapter) and a worker. A question asked on the worker reaches the editors on both mains; an answer given on
 * one main reaches the editor on the other; each exactly once. (Single process: waiting.test.ts.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import pg from 'pg';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { Runtime } from '../runtime.ts';
import { QUEUE_NAME } from '../queue/worker.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { WAITS_CHANGED } from './live.ts';
import type { WaitChange } from './waiting.ts';

const pgUrl = process.env.FLOWCREW_TEST_DATABASE_URL ?? 'postgres://flowcrew:flowcrew@127.0.0.1:5432/flowcrew_test';
const REDIS_DB = 14; // one Redis database per queue-mode test file: they run at the same time
const redisUrl = `${process.env.FLOWCREW_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'}/${REDIS_DB}`;
const schema = `waitlive_${randomBytes(3).toString('hex')}`;
let dir: string;
let mainA: TestServer | undefined;
let mainB: TestServer | undefined;
let worker: Runtime | undefined;
const sockets: Socket[] = [];

const env = (instance: string, mode: 'main' | 'worker') => ({
  DATABASE_URL: `${pgUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
  FLOWCREW_MODE: mode,
  FLOWCREW_REDIS_URL: redisUrl,
  FLOWCREW_INSTANCE_ID: `${instance}-${schema}`,
  FLOWCREW_KEYRING_FILE: path.join(dir, 'keyring.json'),
  FLOWCREW_FLOWS_DIR: '',
});

async function clearRedis() {
  const queue = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: 6379, db: REDIS_DB } });
  await queue.obliterate({ force: true });
  await queue.close();
}

async function onPg(sql: string) {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-waitlive-'));
  await clearRedis();
  await onPg(`CREATE SCHEMA ${schema}`);
  mainA = await startTestServer({}, { env: env('main-a', 'main') });
  await mainA.runtime.createFlow({
    id: 'approve',
    name: 'approve',
    version: 0,
    nodes: [
      { id: 'in', type: 'inject', wires: [['ask']] },
      { id: 'ask', type: 'human-input', props: { title: 'Ship it?' }, wires: [['yes'], ['no']] },
      { id: 'yes', type: 'change', props: { rules: [{ t: 'set', p: 'payload.shipped', pt: 'msg', to: 'true', tot: 'bool' }] }, wires: [] },
      { id: 'no', type: 'change', props: { rules: [] }, wires: [] },
    ],
  });
  await mainA.runtime.deployFlow('approve');
  mainB = await startTestServer({}, { env: env('main-b', 'main') });
  worker = await Runtime.create(loadConfig({ ...process.env, ...env('worker-1', 'worker') }, { dataDir: path.join(dir, 'worker'), logLevel: 'error' }), { loadExamples: false });
  await worker.resumeRuns();
}, 120_000);

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await worker?.close();
  await mainB?.stop();
  await mainA?.stop();
  await clearRedis();
  await onPg(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await rm(dir, { recursive: true, force: true });
}, 60_000);

/** An editor signed in on `server` (as the admin, who reads every project's runs), recording waits:changed. */
async function editor(server: TestServer): Promise<WaitChange[]> {
  const socket = connect(server.url, { transports: ['websocket'], auth: { token: server.adminToken } });
  sockets.push(socket);
  const changes: WaitChange[] = [];
  socket.on(WAITS_CHANGED, (change: WaitChange) => changes.push(change));
  // Acknowledged only once the socket is authenticated and its actor known.
  expect(await socket.timeout(20_000).emitWithAck('subscribe', { flowId: 'approve' })).toMatchObject({ ok: true });
  return changes;
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('waits:changed across mains and workers', () => {
  it('a question asked on the worker and answered on one main reaches the editors on both mains, each change once', async () => {
    const onA = await editor(mainA!);
    const onB = await editor(mainB!);
    const { runId } = await mainB!.runtime.executor.runNow('approve', { payload: { build: 7 } });
    const seen = (changes: WaitChange[], change: WaitChange['change']) => changes.filter((c) => c.runId === runId && c.change === change);

    await until(() => seen(onA, 'asked').length > 0 && seen(onB, 'asked').length > 0, 'the question to reach both editors');
    expect(mainA!.runtime.executor.active.has(runId) || mainB!.runtime.executor.active.has(runId)).toBe(false); // asked on the worker
    const [wait] = await mainA!.runtime.waiting!.store.listForRun(runId);
    expect(seen(onA, 'asked')[0]).toEqual({ projectId: 'default', runId, waitId: wait!.id, change: 'asked' });

    const answered = await mainA!.api('POST', `/api/v1/waits/${encodeURIComponent(wait!.id)}/answer`, { answer: { approved: true } });
    expect(answered.status).toBe(200);
    await until(() => seen(onA, 'answered').length > 0 && seen(onB, 'answered').length > 0, 'the answer to reach both editors');
    await until(async () => (await mainA!.runtime.storage.getRun(runId))?.status === 'succeeded', 'the run to finish on the worker');

    for (const changes of [onA, onB]) {
      expect(changes.filter((c) => c.runId === runId).map((c) => c.change)).toEqual(['asked', 'answered']);
    }
    const invocations = await mainA!.runtime.storage.listInvocations(runId);
    expect(invocations.find((i) => i.nodeId === 'yes')?.outputs?.[0]?.msg).toMatchObject({ payload: { build: 7, shipped: true } });
  }, 120_000);
});
