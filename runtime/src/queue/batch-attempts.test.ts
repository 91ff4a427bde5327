/**
 * Attempts are counted per run, not per BullMQ job (a job carries a batch of runs: queue/relay.ts), on the real
 * PostgreSQL and Redis: a run that stops on its worker without finishing (here: its lease is taken by another owner
 * while it runs, so the worker stops it) is stopped after FLOWCREW_QUEUE_ATTEMPTS attempts, failed where everyone sees
 * it with the reason; the runs accepted with it all succeed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../runtime.ts';
import type { TestServer } from '../testing/server.ts';
import { QueueCluster, onPg, until } from '../testing/queue-cluster.ts';
import { TEST_REDIS_DB } from '../testing/redis-databases.ts';

let cluster: QueueCluster;
let main: TestServer;
let worker: Runtime;

beforeAll(async () => {
  // One attempt per run; leases of 3 s renewed every second, so a lost lease is noticed quickly.
  cluster = await QueueCluster.create({ name: 'batchtries', redisDb: TEST_REDIS_DB.batchAttempts, env: { FLOWCREW_QUEUE_ATTEMPTS: '1', FLOWCREW_LEASE_TTL_MS: '3000' } });
  main = await cluster.main('main');
  await main.runtime.createFlow({
    id: 'slow',
    name: 'slow',
    version: 0,
    nodes: [
      { id: 'go', type: 'inject', wires: [['wait']] },
      { id: 'wait', type: 'delay', props: { pauseType: 'delay', timeout: 30, timeoutUnits: 'seconds' }, wires: [[]] },
    ],
  });
  await main.runtime.createFlow({ id: 'quick', name: 'quick', version: 0, nodes: [{ id: 'go', type: 'inject', wires: [['set']] }, { id: 'set', type: 'change', props: { rules: [] } }] });
  await main.runtime.deployFlow('slow');
  await main.runtime.deployFlow('quick');
  worker = await cluster.worker('worker');
}, 120_000);

afterAll(async () => {
  await cluster?.close();
}, 60_000);

describe('attempts per run in a batch job', () => {
  it('a run stopped unfinished on its worker is failed visibly after its attempts; the runs beside it succeed', async () => {
    // Accepted together: the relay hands runs committed together over as one job.
    const [slow, ...quick] = await Promise.all([
      main.runtime.executor.runNow('slow', { payload: 1 }),
      ...Array.from({ length: 4 }, (_, i) => main.runtime.executor.runNow('quick', { payload: i })),
    ]).then((started) => started.map((s) => s.runId));
    await until('the slow run to run on the worker', async () => ((await main.runtime.storage.getRun(slow!))?.status === 'running' && worker.executor.active.has(slow!) ? true : undefined), 60_000);
    // Another owner takes its lease (as after this worker stalled past it): the worker must stop it here.
    await onPg(`UPDATE ${cluster.schema}.runs SET owner = 'someone-else', lease_expires_at = ${Date.now() + 3_600_000} WHERE id = '${slow}'`);

    const failed = await until('the slow run to be stopped', async () => {
      const run = await main.runtime.storage.getRun(slow!);
      return run?.status === 'failed' ? run : undefined;
    }, 60_000);
    expect(failed.error).toMatch(/^stopped after 1 attempt\(s\) on queue workers: run .* stopped on this worker without finishing$/);
    for (const id of quick) await until(`run ${id} to succeed`, async () => ((await main.runtime.storage.getRun(id))?.status === 'succeeded' ? true : undefined), 60_000);
    expect(worker.queue!.workerStats).toMatchObject({ stopped: 1, runs: 4 });
    console.log(`5 runs accepted together went to the worker in ${worker.queue!.workerStats!.jobs} job(s)`);
  });
});
