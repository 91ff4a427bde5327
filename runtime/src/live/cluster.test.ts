/**
 * Live events in queue mode, on a real PostgreSQL and Redis: two mains (HTTP + Socket.IO with the Redis adapter) and a
 * worker. An editor on each main subscribes to a flow; a run accepted by one main and executed by the worker streams
 * to both editors (run:started, node:finished for each node, run:finished) exactly once each.
 */
import { randomBytes } from 'node:crypto';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../runtime.ts';
import type { TestServer } from '../testing/server.ts';
import { QueueCluster } from '../testing/queue-cluster.ts';
import { DEBUG_CATCHUP_EVENT } from './debug-catchup.ts';
import { WorkerLive } from './cluster.ts';
import { redisNames } from '../cluster/redis-names.ts';
import { TEST_REDIS_DB } from '../testing/redis-databases.ts';

let cluster: QueueCluster;
let mainA: TestServer;
let mainB: TestServer;
let worker: Runtime;
const sockets: Socket[] = [];

beforeAll(async () => {
  cluster = await QueueCluster.create({ name: 'live', redisDb: TEST_REDIS_DB.liveCluster });
  mainA = await cluster.main('main-a');
  const nodes: unknown[] = [{ id: 'n0', type: 'inject', wires: [['n1']] }];
  for (let i = 1; i < 3; i++) nodes.push({ id: `n${i}`, type: 'change', props: { rules: [{ t: 'set', p: `payload.s${i}`, pt: 'msg', to: String(i), tot: 'num' }] }, wires: i < 2 ? [['n2']] : [] });
  await mainA.runtime.createFlow({ id: 'watched', name: 'watched', version: 0, nodes });
  await mainA.runtime.deployFlow('watched');
  mainB = await cluster.main('main-b');
  worker = await cluster.worker('worker-1');
}, 120_000);

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await cluster?.close();
}, 60_000);

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
  it('a worker looks at no event while no editor watches anything on any main, and at the watched rooms once one does', async () => {
    const live = new WorkerLive(cluster.redisUrl, mainA.runtime.log, redisNames(mainA.runtime.config.cluster));
    try {
      await live.interest.refresh();
      expect(live.nobody()).toBe(true); // both mains published their (empty) lists
      const socket = connect(mainB.url, { transports: ['websocket'], auth: { token: mainB.adminToken } });
      try {
        expect(await socket.timeout(20_000).emitWithAck('subscribe', { flowId: 'watched' })).toMatchObject({ ok: true });
        await until(() => !live.nobody(), () => live.interest.refresh());
        expect(live.listening('flow:watched')).toBe(true);
        expect(live.listening('flow:other')).toBe(false);
      } finally {
        socket.disconnect();
      }
      await until(() => live.nobody(), () => live.interest.refresh());
    } finally {
      live.close();
    }
  });

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

    // Pushed on subscribe too: an editor subscribing with debugAfter gets the same list as debug:catchup.
    const socket = connect(mainB.url, { transports: ['websocket'], auth: { token: mainB.adminToken } });
    sockets.push(socket);
    const catchUp = new Promise<{ flowId: string; messages: Array<{ runId: string; seq: number }> }>((resolve) => socket.once(DEBUG_CATCHUP_EVENT, resolve));
    expect(await socket.timeout(20_000).emitWithAck('subscribe', { flowId, debugAfter: 0 })).toMatchObject({ ok: true });
    const pushed = await catchUp;
    expect(pushed.flowId).toBe(flowId);
    expect(pushed.messages.map((m) => m.runId)).toContain(runId);
    // Without debugAfter nothing is pushed (the editor asked with GET): the next event a subscriber sees is live.
    const plain = connect(mainA.url, { transports: ['websocket'], auth: { token: mainA.adminToken } });
    sockets.push(plain);
    const events: string[] = [];
    plain.onAny((event: string) => events.push(event));
    expect(await plain.timeout(20_000).emitWithAck('subscribe', { flowId })).toMatchObject({ ok: true });
    await until(() => worker.queue!['live']!.listening(`flow:${flowId}`)); // the worker knows someone watches
    await mainA.runtime.executor.runNow(flowId, { payload: { again: true } });
    await until(() => events.includes('debug'));
    expect(events).not.toContain(DEBUG_CATCHUP_EVENT);
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
