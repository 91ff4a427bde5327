/**
 * A crew survives kill -9: the real runtime in a child process runs a two-task crew against a local stand-in of the
 * OpenAI wire format; it is killed while the second task waits for the model, and a runtime started again on the same
 * data directory (in this process: only the crash needs a process of its own, and a second child boot cost ~25 s
 * under CI load) finishes the run without the first task's model call being made again. Each task is a step: a
 * child invocation of the crew's invocation, stored when it finishes; a re-run from the second task reuses the first.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildRuntime, freePort, waitFor } from '../../../../runtime/src/testing/child-runtime.ts';
import { startTestServer, type TestServer } from '../../../../runtime/src/testing/server.ts';
import { fakeModelCredential, openAIAnswer, startFakeModelServer, type FakeServer, type RecordedRequest } from '../testing/fake-model-server.ts';
import { crewFlow, researchThenWrite } from '../testing/crew-flow.ts';

let model: FakeServer;
let dataDir: string;
let runtime: ChildRuntime;
/** The runtime started again after the kill. */
let restarted: TestServer | undefined;
/** The first writer call never answers: the runtime is killed while it waits. */
let hangWriter = true;

/** Spawn and wait for /health; a loaded CI machine can take longer than ChildRuntime.start's 30 s to boot it. */
async function start(child: ChildRuntime): Promise<void> {
  child.spawn();
  await waitFor('the runtime to answer', async () => ((await fetch(`${child.url}/api/v1/health`).catch(() => undefined))?.ok ? true : undefined), 120_000);
}

const system = (req: RecordedRequest) => (req.body.messages as Array<{ content: string }>)[0]!.content;

beforeAll(async () => {
  model = await startFakeModelServer((req) => {
    if (system(req).startsWith('You are Researcher.')) return { json: openAIAnswer('Fact: pgvector adds vector search to PostgreSQL.') };
    if (hangWriter) return { hang: true };
    return { json: openAIAnswer('pgvector: vector search inside PostgreSQL.') };
  });
  dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-crew-durable-'));
  runtime = new ChildRuntime({ dataDir, port: await freePort(), env: { FLOWCREW_OUTBOUND_ALLOW: `127.0.0.1:${new URL(model.url).port}` } });
  await start(runtime);
}, 150_000);

afterAll(async () => {
  await runtime?.killHard();
  await restarted?.stop();
  await model?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('a crew and a crash', () => {
  it('resumes at the first unfinished task after kill -9, taking the finished one from its checkpoint', async () => {
    const credentialId = await fakeModelCredential(runtime, model);
    const flow = crewFlow('durable-crew', credentialId, researchThenWrite, { version: 0 });
    expect((await runtime.api('POST', '/api/v1/flows/import?deploy=true', flow)).status).toBe(201);
    const started = await runtime.api('POST', '/api/v1/flows/durable-crew/runs', { input: { payload: { topic: 'pgvector' } } });
    expect(started.status, JSON.stringify(started.body)).toBe(202);

    const writerAsked = () => model.requests.some((r) => system(r).startsWith('You are Writer.'));
    await waitFor('the writer to call its model', async () => (writerAsked() ? true : undefined), 60_000);
    // The research task's step was committed before the writer's task began (the crew awaits it).
    await runtime.killHard();
    const researchCalls = model.requests.filter((r) => system(r).startsWith('You are Researcher.')).length;
    expect(researchCalls).toBe(1);

    hangWriter = false;
    restarted = await startTestServer({ dataDir }, { env: { FLOWCREW_OUTBOUND_ALLOW: `127.0.0.1:${new URL(model.url).port}` } });
    const server = restarted;
    const run = await server.waitRun(started.body.runId, 60_000);
    expect(run.status, run.error).toBe('succeeded');
    const crew = run.invocations.find((i: any) => i.nodeId === 'crew').outputs[0].msg.crew;
    expect(crew.resumed).toEqual(['research']);
    expect(crew.tasks.map((t: any) => t.output)).toEqual(['Fact: pgvector adds vector search to PostgreSQL.', 'pgvector: vector search inside PostgreSQL.']);
    expect(crew.tasks[0].notes).toContain('taken from the checkpoint: this task finished before the runtime restarted, and was not run again');
    // The researcher was not asked again; the writer got the research as its context.
    expect(model.requests.filter((r) => system(r).startsWith('You are Researcher.'))).toHaveLength(1);
    const lastWriter = model.requests.filter((r) => system(r).startsWith('You are Writer.')).at(-1)!;
    expect(JSON.stringify(lastWriter.body.messages)).toContain('Fact: pgvector adds vector search to PostgreSQL.');

    // Task by task in the run: each a finished child invocation of the crew's, with its input, answer, agent and tokens.
    const crewInvocation = run.invocations.find((i: any) => i.nodeId === 'crew' && i.nodeType === 'ai-crew');
    const steps = run.invocations.filter((i: any) => i.parentId === crewInvocation.id && i.nodeType === 'ai-crew#task');
    expect(steps.map((s: any) => s.id)).toEqual([`${crewInvocation.id}/task:research`, `${crewInvocation.id}/task:write`]);
    expect(steps.map((s: any) => s.status)).toEqual(['succeeded', 'succeeded']);
    expect(steps[1].input).toMatchObject({ step: { key: 'task:write', kind: 'task' }, input: { task: 'write', description: 'Write about pgvector', context: ['Output of task "research" (Researcher)'] } });
    expect(steps[1].outputs[0].msg).toMatchObject({ agent: 'Writer', output: 'pgvector: vector search inside PostgreSQL.' });
    expect(steps[0].usage.completionTokens).toBeGreaterThan(0);
    expect(steps[1].finishedAt).toBeGreaterThanOrEqual(steps[1].startedAt);

    // Re-run from the second task: a new run whose first task is copied, not asked again; the second is recomputed.
    const writerCalls = model.requests.filter((r) => system(r).startsWith('You are Writer.')).length;
    const rerunPath = `/api/v1/runs/${started.body.runId}/invocations/${crewInvocation.id}/rerun`;
    expect((await server.api('POST', rerunPath, { fromStep: 'task:nope' })).status).toBe(404);
    const again = await server.api('POST', rerunPath, { fromStep: 'task:write' });
    expect(again.status, JSON.stringify(again.body)).toBe(202);
    expect(again.body.reused).toEqual(['task:research']);
    const second = await server.waitRun(again.body.runId, 60_000);
    expect(second.status, second.error).toBe('succeeded');
    expect(model.requests.filter((r) => system(r).startsWith('You are Researcher.'))).toHaveLength(1);
    expect(model.requests.filter((r) => system(r).startsWith('You are Writer.'))).toHaveLength(writerCalls + 1);
    const rerunCrew = second.invocations.find((i: any) => i.nodeType === 'ai-crew');
    expect(rerunCrew.parentId).toBeNull();
    const copied = second.invocations.filter((i: any) => i.parentId === rerunCrew.id);
    expect(copied.map((s: any) => [s.input.step.key, s.input.step.copiedFrom?.runId ?? null])).toEqual([
      ['task:research', started.body.runId],
      ['task:write', null],
    ]);
    expect(copied[0].usage ?? null).toBeNull();
    const rerunTasks = rerunCrew.outputs[0].msg.crew.tasks;
    expect(rerunTasks[0].notes.at(-1)).toContain(`taken from run ${started.body.runId}`);
    expect(rerunTasks.map((t: any) => t.output)).toEqual(['Fact: pgvector adds vector search to PostgreSQL.', 'pgvector: vector search inside PostgreSQL.']);
  }, 300_000);
});
