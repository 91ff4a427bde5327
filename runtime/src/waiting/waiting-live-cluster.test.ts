/**
 * The Waiting panel's live event in queue mode, on real PostgreSQL and Redis: two mains (HTTP + Socket.IO with the
 * Redis adapter) and a worker. A question asked on the worker reaches the editors on both mains; an answer given on
 * one main reaches the editor on the other; each exactly once. (Single process: waiting.test.ts.)
 */
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../runtime.ts';
import type { TestServer } from '../testing/server.ts';
import { QueueCluster } from '../testing/queue-cluster.ts';
import { WAITS_CHANGED } from './live.ts';
import type { WaitChange } from './waiting.ts';
import { TEST_REDIS_DB } from '../testing/redis-databases.ts';

let cluster: QueueCluster;
let mainA: TestServer | undefined;
let mainB: TestServer | undefined;
let worker: Runtime | undefined;
const sockets: Socket[] = [];

beforeAll(async () => {
  cluster = await QueueCluster.create({ name: 'waitlive', redisDb: TEST_REDIS_DB.waitingLiveCluster });
  mainA = await cluster.main('main-a');
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
  mainB = await cluster.main('main-b');
  worker = await cluster.worker('worker-1');
}, 120_000);

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await cluster?.close();
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
