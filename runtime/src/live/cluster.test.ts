/**
 * Live events in queue mode, on a real PostgreSQL and Redis: two mains (HTTP + Socket.IO with the Redis adapter) and a
 * worker. An editor on each main subscribes to a flow; a run accepted by one main and executed by the worker streams
 * to both editors (run:started, node:finished for each node, run:finished) exactly once each.
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

const pgUrl = process.env.FLOWCREW_TEST_DATABASE_URL ?? 'postgres://flowcrew:flowcrew@127.0.0.1:5432/flowcrew_test';
const REDIS_DB = 10;
const redisUrl = `${process.env.FLOWCREW_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'}/${REDIS_DB}`;
const schema = `live_${randomBytes(3).toString('hex')}`;
let dir: string;
let mainA: TestServer;
let mainB: TestServer;
let worker: Runtime;
const sockets: Socket[] = [];

const env = (instance: string, mode: 'main' | 'worker') => ({
  DATABASE_URL: `${pgUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
  FLOWCREW_MODE: mode,
  FLOWCREW_REDIS_URL: redisUrl,
  FLOWCREW_INSTANCE_ID: instance,
  FLOWCREW_KEYRING_FILE: path.join(dir, 'keyring.json'),
  FLOWCREW_FLOWS_DIR: '',
});

async function clearRedis() {
  const queue = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: 6379, db: REDIS_DB } });
  await queue.obliterate({ force: true });
  await queue.close();
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-live-'));
  await clearRedis();
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
  mainA = await startTestServer({}, { env: env('main-a', 'main') });
  const nodes: unknown[] = [{ id: 'n0', type: 'inject', wires: [['n1']] }];
  for (let i = 1; i < 3; i++) nodes.push({ id: `n${i}`, type: 'change', props: { rules: [{ t: 'set', p: `payload.s${i}`, pt: 'msg', to: String(i), tot: 'num' }] }, wires: i < 2 ? [['n2']] : [] });
  await mainA.runtime.createFlow({ id: 'watched', name: 'watched', version: 0, nodes });
  await mainA.runtime.deployFlow('watched');
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
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
  await rm(dir, { recursive: true, force: true });
});

/** An editor on `server`, subscribed to the flow, recording every event it receives. */
async function editor(server: TestServer): Promise<{ events: Array<{ event: string; data: any }> }> {
  const socket = connect(server.url, { transports: ['websocket'], auth: { token: server.adminToken } });
  sockets.push(socket);
  const events: Array<{ event: string; data: any }> = [];
  socket.onAny((event: string, data: unknown) => events.push({ event, data }));
  const ack = await socket.timeout(20_000).emitWithAck('subscribe', { flowId: 'watched' });
  expect(ack).toMatchObject({ ok: true });
  return { events };
}

async function until(check: () => boolean, refresh?: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    await refresh?.();
    if (check()) return;
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('live events across mains and workers (Socket.IO Redis adapter)', () => {
  it('a run executed on the worker streams to editors on both mains, each event once', async () => {
    const onA = await editor(mainA);
    const onB = await editor(mainB);
    const { runId } = await mainB.runtime.executor.runNow('watched', { payload: {} });
    expect(mainB.runtime.executor.activeRuns).toBe(0); // a main executes nothing
    const finished = (e: { events: Array<{ event: string; data: any }> }) => e.events.some((x) => x.event === 'run:finished' && x.data.runId === runId);
    await until(() => finished(onA) && finished(onB));
    for (const seen of [onA, onB]) {
      const ofRun = seen.events.filter((x) => x.data?.runId === runId).map((x) => `${x.event}${x.data.nodeId ? `:${x.data.nodeId}` : ''}`);
      // n0 runs on the worker too (runNow delivers to the inject node's onInput); each event exactly once.
      expect(ofRun.filter((e) => e.startsWith('node:finished')).sort()).toEqual(['node:finished:n0', 'node:finished:n1', 'node:finished:n2']);
      expect(ofRun.filter((e) => e === 'run:started' || e === 'run:finished')).toEqual(['run:started', 'run:finished']);
      const last = seen.events.find((x) => x.event === 'node:finished' && x.data.nodeId === 'n1' && x.data.runId === runId);
      expect(last?.data.outputs[0].msg.json).toContain('"s1":1');
    }
    expect((await mainA.runtime.storage.getRun(runId))?.status).toBe('succeeded');
  });

  it("a debug message of a run on the worker is in every main's catch-up list (GET /flows/:id/debug)", async () => {
    const flowId = `debugged-${randomBytes(3).toString('hex')}`;
    await mainA.runtime.createFlow({ id: flowId, name: flowId, version: 0, nodes: [{ id: 'go', type: 'inject', wires: [['d']] }, { id: 'd', type: 'debug' }] });
    await mainA.runtime.deployFlow(flowId);
    const { runId } = await mainA.runtime.executor.runNow(flowId, { payload: { hello: 'worker' } });
    for (const main of [mainA, mainB]) {
      let list: Array<{ runId: string; nodeId: string; seq: number; value: { json: string } }> = [];
      await until(() => list.some((m) => m.runId === runId), async () => (list = (await main.api('GET', `/api/v1/flows/${flowId}/debug`)).body));
      const message = list.find((m) => m.runId === runId)!;
      expect(message).toMatchObject({ nodeId: 'd', value: { json: expect.stringContaining('"hello":"worker"') } });
      // `after` is honoured: nothing newer than the last message.
      expect((await main.api('GET', `/api/v1/flows/${flowId}/debug?after=${message.seq}`)).body).toEqual([]);
    }
    expect(mainA.runtime.debugLog.since(flowId)).toEqual([]); // not from the main's own buffer: the run was on the worker
  });

  it('nothing is built for flows nobody watches', async () => {
    // The worker knows the watched rooms from the mains; an unwatched flow has none.
    expect(worker.queue!['live']!.listening('flow:watched')).toBe(true);
    expect(worker.queue!['live']!.listening('flow:nobody')).toBe(false);
  });

  it('a deploy or undeploy on one main reaches the other', async () => {
    await mainA.runtime.createFlow({ id: 'later', name: 'later', version: 0, nodes: [{ id: 'i', type: 'inject', wires: [] }] });
    await mainA.runtime.deployFlow('later');
    await until(() => mainB.runtime.executor.isDeployed('later'));
    await mainA.runtime.updateFlow('later', { name: 'later', version: 1, nodes: [{ id: 'i2', type: 'inject', wires: [] }] });
    await mainA.runtime.deployFlow('later');
    await until(() => mainB.runtime.executor.deployed.get('later')?.flow.nodes[0]?.id === 'i2');
    await mainA.runtime.undeployFlow('later');
    await until(() => !mainB.runtime.executor.isDeployed('later'));
  });
});
