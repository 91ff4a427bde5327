/**
 * A reply handle answered on ANOTHER worker than the one holding the request's waiter, on the real PostgreSQL and
 * Redis, steered deterministically: worker A runs the run that keeps the request's message (its waiter is registered
 * under the handle on A only), then A takes no more jobs (its queue consumer closed), worker B starts and is the only one left to
 * run the answering run: its response node finds no local waiter and publishes on the handle's channel, which reaches
 * the main's waiting request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../runtime.ts';
import type { TestServer } from '../testing/server.ts';
import { QueueCluster } from '../testing/queue-cluster.ts';
import { TEST_REDIS_DB } from '../testing/redis-databases.ts';

let cluster: QueueCluster;
let main: TestServer;

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  cluster = await QueueCluster.create({ name: 'replyx', redisDb: TEST_REDIS_DB.repliesCrossWorker });
  main = await cluster.main('main');
  await main.runtime.createFlow({ id: 'held', name: 'held', version: 0, nodes: [{ id: 'in', type: 'inject', wires: [['keep']] }, { id: 'keep', type: 'debug', wires: [] }] });
  await main.runtime.createFlow({ id: 'replier', name: 'replier', version: 0, nodes: [{ id: 'in', type: 'inject', wires: [['out']] }, { id: 'out', type: 'webhook-response', props: { statusCode: 202 }, wires: [] }] });
  await main.runtime.deployFlow('held');
  await main.runtime.deployFlow('replier');
}, 120_000);

afterAll(async () => {
  await cluster?.close();
}, 60_000);

describe('reply handles across workers', () => {
  it("a response node on worker B answers a request whose waiter is on worker A", async () => {
    const a: Runtime = await cluster.worker('worker-a');
    // As a webhook trigger emits: the message carries the request's reply handle (msg._replyTo = the run's id).
    const first = await main.runtime.executor.admission.emitFromTrigger('held', 'in', { payload: 'question', _webhook: true }, { awaitReply: true, replyTimeoutMs: 60_000 });
    await until('the holding run to end on worker A', async () => (await main.runtime.storage.getRun(first.runId))?.status === 'succeeded');
    await until('worker A to count it', () => a.queue!.workerStats!.runs === 1);

    // A takes no more jobs (its queue consumer closed; its executor, holding the waiter, runs on): B is the only
    // worker left for the answering run. (BullMQ's pause() would still take the job its blocked fetch receives.)
    await (a.queue as unknown as { worker: { close(): Promise<void> } }).worker.close();
    const b: Runtime = await cluster.worker('worker-b');
    const { runId } = await main.runtime.executor.runNow('replier', { payload: 'answer', _webhook: true, _replyTo: first.runId });
    expect(await first.reply).toMatchObject({ status: 202, body: 'answer' });
    await until('the answering run to succeed', async () => (await main.runtime.storage.getRun(runId))?.status === 'succeeded');
    await until('worker B to count it', () => b.queue!.workerStats!.runs === 1);
    expect(a.queue!.workerStats).toMatchObject({ runs: 1 }); // nothing more ran on A
  }, 120_000);
});
