/**
 * A crew's steps in the run, with their tool calls: a tool an agent calls while working on a task (here the function
 * node as a tool) is its own invocation, stored under that task's step, so the run shows task by task what was
 * called. A real runtime (in process, HTTP) and a local stand-in of the OpenAI wire format.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../../runtime/src/testing/server.ts';
import { fakeModelCredential, openAIAnswer, startFakeModelServer, type FakeServer } from '../testing/fake-model-server.ts';
import { crewFlow, researchThenWrite } from '../testing/crew-flow.ts';

let model: FakeServer;
let server: TestServer;

beforeAll(async () => {
  // The researcher calls its tool once, then answers with what it returned; the writer just writes.
  model = await startFakeModelServer((req) => {
    const messages = req.body.messages as Array<{ role: string; content: string | null }>;
    if (messages[0]!.content!.startsWith('You are Task Execution Planner.')) return { json: openAIAnswer(JSON.stringify({ research: 'Look it up first.', write: 'Quote the number.' })) };
    if (messages.some((m) => m.content?.includes('Plan for this task:\nQuote the number.'))) return { json: openAIAnswer('An article, planned.') };
    if (!messages[0]!.content!.startsWith('You are Researcher.')) return { json: openAIAnswer('An article.') };
    const result = messages.find((m) => m.role === 'tool');
    return { json: result ? openAIAnswer(`The answer is ${result.content}`) : openAIAnswer(null, [{ id: 'call_1', name: 'lookup', arguments: '{}' }]) };
  });
  server = await startTestServer({}, { env: { FLOWCREW_OUTBOUND_ALLOW: `127.0.0.1:${new URL(model.url).port}` } });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await model?.close();
});

describe('crew steps in the run', () => {
  it('stores each task as a step of the crew invocation, with the tool calls made for it beneath it', async () => {
    const credentialId = await fakeModelCredential(server, model);
    const lookup = { type: 'function', name: 'lookup', description: 'Look the fact up', props: { func: 'msg.payload = 42; return msg;' } };
    const flow = crewFlow('crew-steps', credentialId, {
      ...researchThenWrite,
      agents: [{ ...researchThenWrite.agents[0], tools: [lookup] }, researchThenWrite.agents[1]],
    });
    const saved = await server.api('POST', '/api/v1/flows/import?deploy=true', flow);
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    const started = await server.api('POST', '/api/v1/flows/crew-steps/runs', { input: { payload: { topic: 'pgvector' } } });
    const run = await server.waitRun(started.body.runId, 60_000);
    expect(run.status, run.error).toBe('succeeded');

    const crew = run.invocations.find((i: { nodeType: string }) => i.nodeType === 'ai-crew');
    const research = run.invocations.find((i: { id: string }) => i.id === `${crew.id}/task:research`);
    const write = run.invocations.find((i: { id: string }) => i.id === `${crew.id}/task:write`);
    expect(research.outputs[0].msg).toMatchObject({ agent: 'Researcher', output: 'The answer is 42', toolCalls: [{ tool: 'lookup', ok: true }] });
    expect(write.outputs[0].msg).toMatchObject({ agent: 'Writer', output: 'An article.' });
    // The tool call is an invocation of its own, under the research task's step (not the crew's, not the writer's).
    const tool = run.invocations.find((i: { nodeType: string }) => i.nodeType === 'function');
    expect(tool).toMatchObject({ parentId: research.id, status: 'succeeded', outputs: [{ port: 0, msg: { payload: 42 } }] });
    // In the order they happened: the tool call, its task, the next task.
    const order = run.invocations.filter((i: { parentId: string | null }) => i.parentId === crew.id || i.parentId === research.id).map((i: { nodeType: string }) => i.nodeType);
    expect(order).toEqual(['function', 'ai-crew#task', 'ai-crew#task']);
  }, 90_000);

  it("planning: the planner's plans are a step before the tasks, each task works to its plan, msg.crew.planning has them", async () => {
    const credentialId = await fakeModelCredential(server, model);
    const flow = crewFlow('crew-planning', credentialId, {
      planning: true,
      agents: [{ key: 'writer', role: 'Writer', goal: 'Write' }],
      tasks: researchThenWrite.tasks.map((task) => ({ ...task, agent: 'writer' })),
    });
    const saved = await server.api('POST', '/api/v1/flows/import?deploy=true', flow);
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    const started = await server.api('POST', '/api/v1/flows/crew-planning/runs', { input: { payload: { topic: 'pgvector' } } });
    const run = await server.waitRun(started.body.runId, 60_000);
    expect(run.status, run.error).toBe('succeeded');
    const crew = run.invocations.find((i: { nodeType: string }) => i.nodeType === 'ai-crew');
    const steps = run.invocations.filter((i: { parentId: string | null }) => i.parentId === crew.id).map((i: { id: string }) => i.id.slice(crew.id.length + 1));
    expect(steps).toEqual(['planning', 'task:research', 'task:write']);
    const plans = { research: 'Look it up first.', write: 'Quote the number.' };
    expect(run.invocations.find((i: { id: string }) => i.id === `${crew.id}/planning`).outputs[0].msg).toEqual(plans);
    expect(crew.outputs[0].msg.crew.planning).toEqual(plans);
    expect(crew.outputs[0].msg.payload).toBe('An article, planned.');
  }, 90_000);
});
