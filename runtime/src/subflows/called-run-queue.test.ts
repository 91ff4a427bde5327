/**
 * Queue mode on the real PostgreSQL and Redis: a library sub-flow's run, called on worker A, is taken over by worker B
 * after A is killed (-9) while the sub-flow's delay holds the message; on B it still reads the calling flow's
 * variables and the calling node's properties (the caller comes back from what the called run stored).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFlowcrew, type FlowcrewProcess } from '../cluster/processes.test-helper.ts';
import { QueueCluster, until } from '../testing/queue-cluster.ts';
import { TEST_REDIS_DB } from '../testing/redis-databases.ts';
import type { TestServer } from '../testing/server.ts';

let cluster: QueueCluster;
let main: TestServer;
let workerA: FlowcrewProcess | undefined;

beforeAll(async () => {
  cluster = await QueueCluster.create({ name: 'calledq', redisDb: TEST_REDIS_DB.calledRunQueue, env: { FLOWCREW_LEASE_TTL_MS: '3000', FLOWCREW_QUEUE_REQUEUE_MS: '3000' } });
  main = await cluster.main('main');
}, 120_000);

afterAll(async () => {
  workerA?.kill('SIGKILL');
  await cluster?.close();
}, 60_000);

type Invocation = { nodeId: string; status: string; outputs?: Array<{ msg: { payload: unknown } }> };
type Run = { id: string; status: string; invocations: Invocation[] };
const finished = (run: Run | undefined) => (run && ['succeeded', 'failed', 'cancelled'].includes(run.status) ? run : undefined);

describe('a called run taken over by another queue worker', () => {
  it("reads its caller's variables and properties there", async () => {
    const slow = {
      id: 'slow-q',
      name: 'slow q',
      properties: { type: 'object', properties: { UNIT: { type: 'string' } } },
      nodes: [
        { id: 'in', type: 'subflow-in', wires: [['wait']] },
        { id: 'wait', type: 'delay', props: { pauseType: 'delay', timeout: 3, timeoutUnits: 'seconds' }, wires: [['read']] },
        { id: 'read', type: 'change', props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '{"site": $env("SITE"), "flow": $env("NR_FLOW_NAME"), "unit": $env("UNIT"), "instance": $env("NR_SUBFLOW_NAME")}', tot: 'jsonata' }] }, wires: [['out']] },
        { id: 'out', type: 'subflow-out' },
      ],
    };
    expect((await main.api('POST', '/api/v1/subflows', slow)).status).toBe(201);
    const caller = { id: 'orders-q', name: 'Orders', env: { SITE: 'plant-7' }, nodes: [{ id: 'go', type: 'inject', wires: [['use']] }, { id: 'use', type: 'subflow:slow-q', name: 'weigh', props: { version: 1, UNIT: 'kg' } }] };
    expect((await main.api('POST', '/api/v1/flows', caller)).status).toBe(201);
    expect((await main.api('POST', '/api/v1/flows/orders-q/deploy')).status).toBe(200);

    // Worker A (a real process) takes the calling run; its sub-flow call runs there too.
    workerA = startFlowcrew('worker-a', ['worker', '--concurrency', '4', '--data-dir', path.join(cluster.dir, 'worker-a')], { ...cluster.env('worker-a', 'worker'), FLOWCREW_WORKER_PORT: '0', FLOWCREW_LOG_LEVEL: 'warn' });
    const started = await main.api('POST', '/api/v1/flows/orders-q/runs', { nodeId: 'go' });
    expect(started.status).toBe(202);
    const called = await until('the called run to wait in its delay on worker A', async () => {
      const runs = (await main.api('GET', `/api/v1/runs?flowId=${encodeURIComponent('subflow:slow-q:v1')}`)).body as Array<{ id: string }>;
      if (runs.length === 0) return undefined;
      const run = (await main.api('GET', `/api/v1/runs/${runs[0]!.id}`)).body as Run;
      return run.invocations.some((i) => i.nodeId === 'wait') ? run : undefined;
    }, 120_000);
    expect(called.status).toBe('running');
    workerA.kill('SIGKILL');
    await workerA.exited;

    // Worker B takes the runs over once A's leases expire.
    await cluster.worker('worker-b');
    const resumed = await until('the called run to finish on worker B', async () => finished((await main.api('GET', `/api/v1/runs/${called.id}`)).body as Run), 90_000);
    expect(resumed.status).toBe('succeeded');
    const expected = { site: 'plant-7', flow: 'Orders', unit: 'kg', instance: 'weigh' };
    expect(resumed.invocations.find((i) => i.nodeId === 'read')!.outputs![0]!.msg.payload).toEqual(expected);

    const outer = await until('the calling run to finish on worker B', async () => finished((await main.api('GET', `/api/v1/runs/${started.body.runId}`)).body as Run), 90_000);
    expect(outer.status).toBe('succeeded');
    expect(outer.invocations.filter((i) => i.nodeId === 'use' && i.status === 'succeeded').map((i) => i.outputs![0]!.msg.payload)).toEqual([expected]);
  }, 300_000);
});
