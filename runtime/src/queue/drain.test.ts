/**
 * Graceful drain (what `flowcrew worker` does on SIGTERM: runtime.close()), on a real PostgreSQL and Redis: a worker
 * told to stop while a run is in progress lets it finish here (no interruption counted, no other process needed) and
 * takes no new job meanwhile; a run accepted during the drain waits for the next worker and runs there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../runtime.ts';
import type { TestServer } from '../testing/server.ts';
import { QueueCluster, until } from '../testing/queue-cluster.ts';
import { TEST_REDIS_DB } from '../testing/redis-databases.ts';

let cluster: QueueCluster;
let main: TestServer;

beforeAll(async () => {
  cluster = await QueueCluster.create({ name: 'drain', redisDb: TEST_REDIS_DB.drain });
  main = await cluster.main('main');
  await main.runtime.createFlow({
    id: 'slow',
    name: 'slow',
    version: 0,
    nodes: [
      { id: 'go', type: 'inject', wires: [['wait']] },
      { id: 'wait', type: 'delay', props: { pauseType: 'delay', timeout: 2, timeoutUnits: 'seconds' }, wires: [['done']] },
      { id: 'done', type: 'change', props: { rules: [{ t: 'set', p: 'payload.done', pt: 'msg', to: 'true', tot: 'bool' }] } },
    ],
  });
  await main.runtime.deployFlow('slow');
}, 120_000);

afterAll(async () => {
  await cluster?.close();
}, 60_000);

describe('a worker told to stop', () => {
  it('finishes the run in progress, takes no new job, and the next worker runs what came meanwhile', async () => {
    const first: Runtime = await cluster.worker('worker-1');
    const { runId } = await main.runtime.executor.runNow('slow', { payload: {} });
    await until('the run to be running on worker-1', async () => (first.executor.active.has(runId) && (await main.runtime.storage.getRun(runId))?.status === 'running' ? true : undefined));

    const closing = first.close(); // SIGTERM's path
    // Accepted while worker-1 drains: it must not take it.
    const late = (await main.runtime.executor.runNow('slow', { payload: {} })).runId;
    await closing;

    const run = await main.runtime.storage.getRun(runId);
    expect(run?.status).toBe('succeeded');
    const invocations = await main.runtime.storage.listInvocations(runId);
    expect(invocations.map((i) => `${i.nodeId}:${i.status}:${i.interruptions ?? 0}`).sort()).toEqual(['done:succeeded:0', 'go:succeeded:0', 'wait:succeeded:0']);
    expect((await main.runtime.storage.getRun(late))?.status).toBe('queued');

    await cluster.worker('worker-2');
    const ran = await until('the late run to finish on worker-2', async () => {
      const r = await main.runtime.storage.getRun(late);
      return r && !['queued', 'running'].includes(r.status) ? r : undefined;
    });
    expect(ran.status).toBe('succeeded');
  });
});
