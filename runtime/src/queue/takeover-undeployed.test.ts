/**
 * Queue mode on the real PostgreSQL and Redis: a worker deploys a flow when it first gets one of its runs, so a worker
 * started before a flow was deployed does not have it. When such a worker takes over a run of that flow (its worker
 * died, the lease expired), it deploys the flow first and finishes the run; it used to fail it with 'flow "…" is no
 * longer deployed'. Worker B is frozen (SIGSTOP) while worker A gets the run, so A, not B, is the one that has the flow.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFlowcrew, type FlowcrewProcess } from '../cluster/processes.test-helper.ts';
import { QueueCluster, until } from '../testing/queue-cluster.ts';
import { TEST_REDIS_DB } from '../testing/redis-databases.ts';
import type { TestServer } from '../testing/server.ts';

let cluster: QueueCluster;
let main: TestServer;
const processes: FlowcrewProcess[] = [];

beforeAll(async () => {
  cluster = await QueueCluster.create({ name: 'takeoverundeployed', redisDb: TEST_REDIS_DB.takeoverUndeployed, env: { FLOWCREW_LEASE_TTL_MS: '3000', FLOWCREW_QUEUE_REQUEUE_MS: '3000' } });
  main = await cluster.main('main');
}, 120_000);

afterAll(async () => {
  for (const p of processes) {
    p.kill('SIGCONT');
    p.kill('SIGKILL');
  }
  await cluster?.close();
}, 60_000);

function worker(name: string): FlowcrewProcess {
  const p = startFlowcrew(name, ['worker', '--concurrency', '4', '--data-dir', path.join(cluster.dir, name)], { ...cluster.env(name, 'worker'), FLOWCREW_WORKER_PORT: '0', FLOWCREW_LOG_LEVEL: 'info' });
  processes.push(p);
  return p;
}

type Run = { id: string; status: string; error?: string; invocations: Array<{ nodeId: string; status: string; outputs?: Array<{ msg: { payload: unknown } }> }> };

describe('a run taken over by a worker that never had its flow', () => {
  it('is finished there after the flow is deployed, not failed as "no longer deployed"', async () => {
    const workerB = worker('worker-b');
    await workerB.waitFor(/Flowcrew worker .* running/, 300_000);
    workerB.kill('SIGSTOP');

    const flow = {
      id: 'late-flow',
      name: 'deployed after worker B started',
      nodes: [
        { id: 'go', type: 'inject', props: { payload: 'parcel', payloadType: 'str' }, wires: [['wait']] },
        { id: 'wait', type: 'delay', props: { pauseType: 'delay', timeout: 4, timeoutUnits: 'seconds' }, wires: [['mark']] },
        { id: 'mark', type: 'change', props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '"weighed " & payload', tot: 'jsonata' }] } },
      ],
    };
    expect((await main.api('POST', '/api/v1/flows', flow)).status).toBe(201);
    expect((await main.api('POST', '/api/v1/flows/late-flow/deploy')).status).toBe(200);

    const workerA = worker('worker-a');
    await workerA.waitFor(/Flowcrew worker .* running/, 300_000);
    const started = await main.api('POST', '/api/v1/flows/late-flow/runs', { nodeId: 'go' });
    expect(started.status).toBe(202);
    const runId = (started.body as { runId: string }).runId;
    await until('the run to wait in its delay on worker A', async () => {
      const run = (await main.api('GET', `/api/v1/runs/${runId}`)).body as Run;
      return run.status === 'running' && run.invocations.some((i) => i.nodeId === 'wait') ? run : undefined;
    }, 120_000);
    workerA.kill('SIGKILL');
    await workerA.exited;
    workerB.kill('SIGCONT');

    const done = await until('the run to end on worker B', async () => {
      const run = (await main.api('GET', `/api/v1/runs/${runId}`)).body as Run;
      return ['succeeded', 'failed', 'cancelled'].includes(run.status) ? run : undefined;
    }, 120_000);
    console.log(`run ${runId} on worker B: ${done.status}${done.error ? ` (${done.error})` : ''}`);
    expect(done.error ?? undefined).toBeUndefined();
    expect(done.status).toBe('succeeded');
    expect(done.invocations.find((i) => i.nodeId === 'mark')?.outputs?.[0]?.msg.payload).toBe('weighed parcel');
  }, 300_000);
});
