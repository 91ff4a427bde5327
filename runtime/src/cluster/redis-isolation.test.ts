/**
 * Two installations on ONE Redis server and database, told apart only by FLOWCREW_REDIS_PREFIX, each with its own
 * PostgreSQL schema, a main and a worker. Pub/sub ignores database numbers, so without the prefix they would share
 * the Socket.IO adapter's channels (an editor would see the other installation's runs of a flow with the same id),
 * deploy announcements and the run queue. Proven: each installation's runs execute on its own worker only, and an
 * editor sees its own installation's live events only.
 */
import { randomBytes } from 'node:crypto';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../runtime.ts';
import type { TestServer } from '../testing/server.ts';
import { QueueCluster } from '../testing/queue-cluster.ts';
import { TEST_REDIS_DB } from '../testing/redis-databases.ts';

const REDIS_DB = TEST_REDIS_DB.redisIsolation;
const tag = randomBytes(3).toString('hex');
const installations: Array<{ cluster: QueueCluster; main: TestServer; worker: Runtime }> = [];
const sockets: Socket[] = [];

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  for (const name of ['one', 'two']) {
    const cluster = await QueueCluster.create({ name: `iso_${name}`, redisDb: REDIS_DB, redisPrefix: `fc-${name}-${tag}` });
    const main = await cluster.main('main');
    // The same flow id in both installations: only the prefix keeps their rooms apart.
    await main.runtime.createFlow({ id: 'shared-id', name: name, version: 0, nodes: [{ id: 'go', type: 'inject', wires: [['d']] }, { id: 'd', type: 'debug' }] });
    await main.runtime.deployFlow('shared-id');
    installations.push({ cluster, main, worker: await cluster.worker('worker') });
  }
}, 180_000);

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  for (const { cluster } of installations) await cluster.close();
}, 60_000);

describe('two installations on one Redis server (FLOWCREW_REDIS_PREFIX)', () => {
  it("runs go to the installation's own workers, live events to its own editors only", async () => {
    const [one, two] = installations as [(typeof installations)[0], (typeof installations)[0]];
    const seen = new Map<TestServer, Array<{ event: string; data: any }>>();
    for (const { main, worker } of [one, two]) {
      const socket = connect(main.url, { transports: ['websocket'], auth: { token: main.adminToken } });
      sockets.push(socket);
      const events: Array<{ event: string; data: any }> = [];
      socket.onAny((event: string, data: unknown) => events.push({ event, data }));
      seen.set(main, events);
      expect(await socket.timeout(20_000).emitWithAck('subscribe', { flowId: 'shared-id' })).toMatchObject({ ok: true });
      await until('the worker to know the flow is watched', () => worker.queue!['live']!.listening('flow:shared-id'));
    }

    const runs = new Map<TestServer, string[]>();
    for (const { main } of [one, two]) {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await main.runtime.executor.runNow('shared-id', { payload: { from: main === one.main ? 'one' : 'two' } })).runId);
      runs.set(main, ids);
    }
    for (const { main } of [one, two]) {
      await until('every run to succeed', async () => (await Promise.all(runs.get(main)!.map((id) => main.runtime.storage.getRun(id)))).every((r) => r?.status === 'succeeded'));
      // Each editor hears its own runs finish.
      await until('the editor to see its runs finish', () => runs.get(main)!.every((id) => seen.get(main)!.some((e) => e.event === 'run:finished' && e.data.runId === id)));
    }

    // Each worker ran its own installation's runs, and was never handed the other's (a foreign job would be "not ours").
    for (const { worker } of [one, two]) expect(worker.queue!.workerStats).toMatchObject({ runs: 5, skipped: 0 });
    // Each editor heard only its own installation's runs.
    for (const [main, other] of [[one.main, two.main], [two.main, one.main]] as const) {
      const heard = new Set(seen.get(main)!.filter((e) => typeof e.data?.runId === 'string').map((e) => e.data.runId as string));
      for (const id of runs.get(other)!) expect(heard.has(id), `an editor of one installation heard run ${id} of the other`).toBe(false);
      expect(seen.get(main)!.filter((e) => e.event === 'debug').map((e) => e.data.runId).sort()).toEqual([...runs.get(main)!].sort());
    }
  });
});
