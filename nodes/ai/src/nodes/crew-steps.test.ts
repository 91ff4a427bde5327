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
/** Reviews of the research task by the manager so far (the first is sent back). */
let reviews = 0;
/** Resolved when each async task's tool call has finished (its model is asked again with the result). */
const lookedUp: Record<'alpha' | 'beta', () => void> = { alpha: () => {}, beta: () => {} };
const looked = {
  alpha: new Promise<void>((resolve) => (lookedUp.alpha = resolve)),
  beta: new Promise<void>((resolve) => (lookedUp.beta = resolve)),
};

beforeAll(async () => {
  // The researcher calls its tool once, then answers with what it returned; the writer just writes.
  model = await startFakeModelServer((req) => {
    const messages = req.body.messages as Array<{ role: string; content: string | null }>;
    // Two async tasks, each calling the tool once: neither answers before both tool calls are done.
    const text = JSON.stringify(messages);
    const side = text.includes('Look up alpha') ? 'alpha' : text.includes('Look up beta') ? 'beta' : undefined;
    if (side && !messages[0]!.content!.startsWith('You are Writer.')) {
      if (!messages.some((m) => m.role === 'tool')) return { json: openAIAnswer(null, [{ id: `call_${side}`, name: 'lookup', arguments: '{}' }]) };
      lookedUp[side]();
      return Promise.all([looked.alpha, looked.beta]).then(() => ({ json: openAIAnswer(`${side} is 42.`) }));
    }
    // A hierarchical crew's manager: plans in text, assigns and reviews in JSON; it sends the first research back once.
    if (messages[0]!.content!.startsWith('You are Crew Manager.')) {
      const asked = JSON.stringify(req.body.response_format ?? {});
      const research = JSON.stringify(messages).includes('the task \\"research\\"');
      if (asked.includes('approved')) return { json: openAIAnswer(JSON.stringify(research && reviews++ === 0 ? { approved: false, feedback: 'Check it again.' } : { approved: true, feedback: 'Good.' })) };
      if (asked.includes('instructions')) return { json: openAIAnswer(JSON.stringify({ agent: research ? 'researcher' : 'writer', instructions: 'Do it.' })) };
      return { json: openAIAnswer('Plan: research, then write.') };
    }
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

    // A re-run from the writing task: the research is copied with the tool call it made (a new invocation, same
    // answer, under the copy), and the tool is not called again.
    const asked = model.requests.length;
    const again = await server.api('POST', `/api/v1/runs/${started.body.runId}/invocations/${crew.id}/rerun`, { fromStep: 'task:write' });
    expect(again.status, JSON.stringify(again.body)).toBe(202);
    expect(again.body.reused).toEqual(['task:research']);
    const rerun = await server.waitRun(again.body.runId, 60_000);
    expect(rerun.status, rerun.error).toBe('succeeded');
    const crew2 = rerun.invocations.find((i: { nodeType: string }) => i.nodeType === 'ai-crew');
    const copied = rerun.invocations.find((i: { id: string }) => i.id === `${crew2.id}/task:research`);
    expect(copied.input.step.copiedFrom).toEqual({ runId: started.body.runId, invocationId: crew.id });
    const tools = rerun.invocations.filter((i: { nodeType: string }) => i.nodeType === 'function');
    expect(tools).toHaveLength(1);
    expect(tools[0]).toMatchObject({ parentId: copied.id, runId: again.body.runId, status: 'succeeded', outputs: [{ port: 0, msg: { payload: 42 } }] });
    expect(tools[0].usage ?? null).toBeNull();
    expect(tools[0].id).not.toBe(tool.id);
    const order2 = rerun.invocations.filter((i: { parentId: string | null }) => i.parentId === crew2.id || i.parentId === copied.id).map((i: { nodeType: string }) => i.nodeType);
    expect(order2).toEqual(['function', 'ai-crew#task', 'ai-crew#task']);
    // Only the writer was asked: one model call.
    expect(model.requests.length - asked).toBe(1);
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

  it("hierarchical: the worker's tool calls are filed under its task's step (both rounds, in order), not under the manager's review; a re-run from the task files its new calls the same way", async () => {
    const credentialId = await fakeModelCredential(server, model);
    const lookup = { type: 'function', name: 'lookup', description: 'Look the fact up', props: { func: 'msg.payload = 42; return msg;' } };
    const flow = crewFlow('crew-steps-hierarchical', credentialId, {
      process: 'hierarchical',
      agents: [{ ...researchThenWrite.agents[0], tools: [lookup] }, researchThenWrite.agents[1]],
      tasks: researchThenWrite.tasks.map(({ agent: _agent, ...task }) => task),
    });
    const saved = await server.api('POST', '/api/v1/flows/import?deploy=true', flow);
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    const started = await server.api('POST', '/api/v1/flows/crew-steps-hierarchical/runs', { input: { payload: { topic: 'pgvector' } } });
    const run = await server.waitRun(started.body.runId, 60_000);
    expect(run.status, run.error).toBe('succeeded');

    type Inv = { id: string; parentId: string | null; nodeType: string; seq: number; outputs: Array<{ msg: any }> };
    const filed = (invocations: Inv[]) => {
      const crew = invocations.find((i) => i.nodeType === 'ai-crew')!;
      const research = `${crew.id}/task:research`;
      const steps = invocations.filter((i) => i.parentId === crew.id).sort((a, b) => a.seq - b.seq);
      const tools = invocations.filter((i) => i.nodeType === 'function').sort((a, b) => a.seq - b.seq);
      return { crew, research, kinds: steps.map((i) => i.nodeType.replace('ai-crew#', '')), toolParents: tools.map((t) => t.parentId), underReviews: invocations.filter((i) => i.parentId && steps.some((s) => s.id === i.parentId && s.nodeType !== 'ai-crew#task')) };
    };
    const first = filed(run.invocations);
    // The research was done twice (sent back once): both tool calls under the research task's step, none under a review.
    expect(first.kinds).toEqual(['plan', 'assignment', 'review', 'review', 'task', 'assignment', 'review', 'task']);
    expect(first.toolParents).toEqual([first.research, first.research]);
    expect(first.underReviews).toEqual([]);
    expect(first.crew.outputs[0]!.msg.crew.tasks[0]).toMatchObject({ task: 'research', agent: 'Researcher', toolCalls: [{ tool: 'lookup', ok: true }] });

    // A re-run from the research task: the plan is copied, the research redone; its new tool call is filed the same way.
    const again = await server.api('POST', `/api/v1/runs/${started.body.runId}/invocations/${first.crew.id}/rerun`, { fromStep: 'task:research' });
    expect(again.status, JSON.stringify(again.body)).toBe(202);
    expect(again.body.reused).toEqual(['plan']);
    const rerun = await server.waitRun(again.body.runId, 60_000);
    expect(rerun.status, rerun.error).toBe('succeeded');
    const second = filed(rerun.invocations);
    expect(second.kinds).toEqual(['plan', 'assignment', 'review', 'task', 'assignment', 'review', 'task']);
    expect(second.toolParents).toEqual([second.research]);
    expect(second.underReviews).toEqual([]);
  }, 90_000);

  it("async tasks side by side: each task's tool call is stored under its own step, whichever task is stored first", async () => {
    const credentialId = await fakeModelCredential(server, model);
    const lookup = { type: 'function', name: 'lookup', description: 'Look the fact up', props: { func: 'msg.payload = 42; return msg;' } };
    const flow = crewFlow('crew-steps-async', credentialId, {
      agents: [{ ...researchThenWrite.agents[0], tools: [lookup] }, researchThenWrite.agents[1]],
      tasks: [
        { key: 'alpha', description: 'Look up alpha', agent: 'researcher', asyncExecution: true },
        { key: 'beta', description: 'Look up beta', agent: 'researcher', asyncExecution: true },
        { key: 'write', description: 'Write about {topic}', agent: 'writer' },
      ],
    });
    const saved = await server.api('POST', '/api/v1/flows/import?deploy=true', flow);
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    const started = await server.api('POST', '/api/v1/flows/crew-steps-async/runs', { input: { payload: { topic: 'pgvector' } } });
    const run = await server.waitRun(started.body.runId, 60_000);
    expect(run.status, run.error).toBe('succeeded');
    const crew = run.invocations.find((i: { nodeType: string }) => i.nodeType === 'ai-crew');
    const tools = run.invocations.filter((i: { nodeType: string }) => i.nodeType === 'function').map((i: { parentId: string }) => i.parentId);
    // Both calls were done before either task was stored: each went to the task that made it.
    expect(tools.sort()).toEqual([`${crew.id}/task:alpha`, `${crew.id}/task:beta`]);
    expect(crew.outputs[0].msg.crew.tasks.map((t: { task: string; toolCalls: unknown[] }) => [t.task, t.toolCalls.length])).toEqual([
      ['alpha', 1],
      ['beta', 1],
      ['write', 0],
    ]);
  }, 90_000);
});
