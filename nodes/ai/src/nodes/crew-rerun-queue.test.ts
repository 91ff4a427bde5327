/**
 * Re-run from a chosen task in queue mode, on real PostgreSQL and Redis: a main accepts the runs, a worker executes
 * them. A two-task crew runs on the worker; a re-run from the second task, asked on the main, is executed by the
 * worker with the first task's step copied into the new run (not asked of the model again) and the second
 * recomputed. (Embedded SQLite, with a crash: crew-durable.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../../runtime/src/runtime.ts';
import type { TestServer } from '../../../../runtime/src/testing/server.ts';
import { QueueCluster } from '../../../../runtime/src/testing/queue-cluster.ts';
import { fakeModelCredential, openAIAnswer, startFakeModelServer, type FakeServer, type RecordedRequest } from '../testing/fake-model-server.ts';
import { crewFlow, researchThenWrite } from '../testing/crew-flow.ts';
import { TEST_REDIS_DB } from '../../../../runtime/src/testing/redis-databases.ts';

let cluster: QueueCluster;
let model: FakeServer;
let main: TestServer | undefined;
let worker: Runtime | undefined;

const system = (req: RecordedRequest) => (req.body.messages as Array<{ content: string }>)[0]!.content;
const calls = (role: string) => model.requests.filter((r) => system(r).startsWith(`You are ${role}.`)).length;

beforeAll(async () => {
  model = await startFakeModelServer((req) =>
    system(req).startsWith('You are Researcher.') ? { json: openAIAnswer('Fact: pgvector adds vector search to PostgreSQL.') } : { json: openAIAnswer(`Article ${calls('Writer')}.`) },
  );
  // One Redis database per queue-mode test file: they run at the same time.
  cluster = await QueueCluster.create({ name: 'crewrerun', redisDb: TEST_REDIS_DB.crewRerunQueue, env: { FLOWCREW_OUTBOUND_ALLOW: `127.0.0.1:${new URL(model.url).port}` } });
  main = await cluster.main('main');
  worker = await cluster.worker('worker');
}, 120_000);

afterAll(async () => {
  await cluster?.close();
  await model?.close();
}, 60_000);

async function finished(runId: string): Promise<any> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const { body } = await main!.api('GET', `/api/v1/runs/${runId}`);
    if (['succeeded', 'failed', 'cancelled'].includes(body?.status)) return body;
    if (Date.now() > deadline) throw new Error(`run ${runId} did not finish (status ${body?.status})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('re-run from a task through a queue worker (PostgreSQL)', () => {
  it('the worker runs the re-run with the earlier task copied, not asked again, and the chosen task recomputed', async () => {
    const credentialId = await fakeModelCredential(main!, model);
    const flow = crewFlow('rerun-crew', credentialId, researchThenWrite);
    const saved = await main!.api('POST', '/api/v1/flows/import?deploy=true', flow);
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    const started = await main!.api('POST', '/api/v1/flows/rerun-crew/runs', { input: { payload: { topic: 'pgvector' } } });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const first = await finished(started.body.runId);
    expect(first.status, first.error).toBe('succeeded');
    expect([calls('Researcher'), calls('Writer')]).toEqual([1, 1]);
    const workerRuns = worker!.queue!.workerStats!.runs;
    expect(workerRuns).toBeGreaterThanOrEqual(1);

    const crewInvocation = first.invocations.find((i: any) => i.nodeType === 'ai-crew');
    const again = await main!.api('POST', `/api/v1/runs/${started.body.runId}/invocations/${encodeURIComponent(crewInvocation.id)}/rerun`, { fromStep: 'task:write' });
    expect(again.status, JSON.stringify(again.body)).toBe(202);
    expect(again.body.reused).toEqual(['task:research']);
    const second = await finished(again.body.runId);
    expect(second.status, second.error).toBe('succeeded');
    // Executed by the worker (a main executes nothing), the researcher not asked again, the writer once more.
    expect(worker!.queue!.workerStats!.runs).toBeGreaterThan(workerRuns);
    expect(main!.runtime.executor.activeRuns).toBe(0);
    expect([calls('Researcher'), calls('Writer')]).toEqual([1, 2]);

    const rerunCrew = second.invocations.find((i: any) => i.nodeType === 'ai-crew');
    const steps = second.invocations.filter((i: any) => i.parentId === rerunCrew.id);
    expect(steps.map((s: any) => [s.input.step.key, s.input.step.copiedFrom?.runId ?? null])).toEqual([
      ['task:research', started.body.runId],
      ['task:write', null],
    ]);
    const tasks = rerunCrew.outputs[0].msg.crew.tasks;
    expect(tasks.map((t: any) => t.output)).toEqual(['Fact: pgvector adds vector search to PostgreSQL.', 'Article 2.']);
    expect(tasks[0].notes.at(-1)).toContain(`taken from run ${started.body.runId}`);
  }, 240_000);
});
