/**
 * The crew's accounting on a real runtime (executor, storage, function sandbox, outbound guard) against a local
 * stand-in of the OpenAI wire format: function guardrails run in the function sandbox as recorded invocations,
 * budgets per run and per flow stop a crew with the figures, a fallback model answers when the agent's fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../../runtime/src/testing/server.ts';
import { openAIAnswer, startFakeModelServer, type FakeServer, type RecordedRequest } from '../testing/fake-model-server.ts';

let model: FakeServer;
let server: TestServer;
/** What the fake model answers, by test: decided from the request's model and prompt. */
let answer: (request: RecordedRequest) => ReturnType<typeof openAIAnswer> | { status: number; json: unknown } = () => openAIAnswer('unset');

const lastUser = (req: RecordedRequest) => (req.body.messages as Array<{ role: string; content: string }>).filter((m) => m.role === 'user').at(-1)?.content ?? '';

beforeAll(async () => {
  model = await startFakeModelServer((req) => {
    const reply = answer(req);
    return reply && typeof reply === 'object' && 'status' in reply ? (reply as { status: number; json: unknown }) : { json: reply };
  });
  server = await startTestServer({ outboundAllow: [`127.0.0.1:${new URL(model.url).port}`] });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await model?.close();
});

async function credential(fields: Record<string, unknown>): Promise<string> {
  const created = await server.api('POST', '/api/v1/credentials', {
    name: `model ${Math.random()}`,
    type: 'ai-model',
    fields: { provider: 'openai-compatible', baseUrl: `${model.url}/v1`, apiKey: 'sk-test', model: 'main-model', maxRetries: 0, ...fields },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id as string;
}

const AGENTS = [
  { key: 'researcher', role: 'Researcher', goal: 'Find facts' },
  { key: 'writer', role: 'Writer', goal: 'Write' },
];
const TASKS = [
  { key: 'research', description: 'Research {topic}', agent: 'researcher' },
  { key: 'write', description: 'Write about {topic}', agent: 'writer' },
];

async function deployCrew(id: string, credentialId: string, props: Record<string, unknown>): Promise<{ status: number; body: any }> {
  const doc = { id, name: id, version: 0, nodes: [{ id: 'go', type: 'inject', props: { props: [] }, wires: [['crew']] }, { id: 'crew', type: 'ai-crew', credentials: credentialId, position: { x: 0, y: 0 }, props: { stream: false, agents: AGENTS, tasks: TASKS, ...props }, wires: [] }] };
  const created = await server.api('POST', '/api/v1/flows', doc);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return server.api('POST', `/api/v1/flows/${id}/deploy`);
}

async function run(flowId: string, payload: unknown): Promise<any> {
  const started = await server.api('POST', `/api/v1/flows/${flowId}/runs`, { input: { payload } });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  return server.waitRun(started.body.runId, 30_000);
}

const crewOutput = (result: any) => result.invocations.find((i: any) => i.nodeId === 'crew' && i.nodeType === 'ai-crew')?.outputs?.[0]?.msg?.crew ?? result.invocations.find((i: any) => i.nodeId === 'crew')?.outputs?.[0]?.msg?.crew;

describe('function guardrails', () => {
  it('run the code in the function sandbox as invocations of the run, send a refused answer back with the feedback, and may replace the answer', async () => {
    answer = (req) => {
      const user = lastUser(req);
      if (req.body.messages[0].content.startsWith('You are Researcher.')) return openAIAnswer('Fact: pgvector is a Postgres extension.');
      return openAIAnswer(user.includes('must cite a source') ? 'pgvector adds vectors to Postgres [source: docs]' : 'pgvector adds vectors to Postgres');
    };
    const id = await credential({});
    const deployed = await deployCrew('guarded', id, {
      tasks: [
        TASKS[0],
        {
          ...TASKS[1],
          guardrailFunction: "if (!output.includes('[source:')) return [false, 'The answer must cite a source like [source: ...]'];\nreturn [true, output.toUpperCase() + ' (' + task.key + ')'];",
        },
      ],
    });
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(200);
    const result = await run('guarded', { topic: 'pgvector' });
    expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
    const crew = crewOutput(result);
    expect(crew.tasks[1].output).toBe('PGVECTOR ADDS VECTORS TO POSTGRES [SOURCE: DOCS] (write)');
    expect(crew.tasks[1].guardrails).toEqual([{ rule: 'function', passed: true, feedback: '' }]);
    // Each check is the function node, run as a tool invocation of the crew's run: two checks, the first refused.
    const checks = result.invocations.filter((i: any) => i.nodeType === 'function');
    expect(checks).toHaveLength(2);
    expect(checks.every((c: any) => c.status === 'succeeded')).toBe(true);
    const redo = model.requests.at(-1)!;
    expect(lastUser(redo)).toContain('The answer must cite a source like [source: ...]');
  });

  it('fail the crew naming the task when the code throws', async () => {
    answer = () => openAIAnswer('anything');
    const id = await credential({});
    await deployCrew('guard-throws', id, { tasks: [{ ...TASKS[0], guardrailFunction: "throw new Error('no network here')" }] });
    const result = await run('guard-throws', { topic: 'x' });
    expect(result.status).toBe('failed');
    expect(JSON.stringify(result)).toContain('no network here');
  });
});

describe('budgets', () => {
  it('stop a run before the call that would go over its dollar budget, with the figures', async () => {
    answer = () => openAIAnswer('An answer.', undefined, { prompt_tokens: 1000, completion_tokens: 1000 });
    // $10 per million in and out: each call costs $0.02.
    const id = await credential({ inputCostPerMillion: 10, outputCostPerMillion: 10 });
    await deployCrew('run-budget', id, { budget: { maxCostUsd: 0.015 } });
    const before = model.requests.length;
    const result = await run('run-budget', { topic: 'x' });
    expect(result.status).toBe('failed');
    expect(result.error).toContain('Stopped before a model call of agent "Writer" on task "write": this run\'s budget is spent ($0.0200 spent of $0.0150, in 1 model calls)');
    expect(model.requests.length - before).toBe(1);
  });

  it("count every run of the flow against the flow's budget, and stop the run that finds it spent", async () => {
    answer = () => openAIAnswer('An answer.', undefined, { prompt_tokens: 30, completion_tokens: 10 });
    const id = await credential({});
    await deployCrew('flow-budget', id, { flowBudget: { maxTokens: 100, period: 'day' } });
    const first = await run('flow-budget', { topic: 'x' });
    expect(first.status).toBe('succeeded');
    expect(crewOutput(first).spend).toEqual({ costUsd: 0, tokens: 80, calls: 2 });
    const second = await run('flow-budget', { topic: 'y' });
    expect(second.status).toBe('failed');
    expect(second.error).toContain("the flow's budget is spent this UTC day (120 tokens used of 100, in 3 model calls)");
  });

  it('refuse a dollar budget at deploy when the model has no prices', async () => {
    const id = await credential({});
    const deployed = await deployCrew('unpriced', id, { budget: { maxCostUsd: 1 } });
    expect(deployed.status).toBe(422);
    expect(JSON.stringify(deployed.body)).toContain('a cost budget (maxCostUsd) is set, but agent \\"researcher\\" runs on openai-compatible model main-model, which has no prices');
  });
});

describe('fallback model', () => {
  it("answers when the agent's model fails, says so in the task's notes, and prices the call at the fallback", async () => {
    answer = (req) => (req.body.model === 'main-model' ? { status: 503, json: { error: { message: 'overloaded' } } } : openAIAnswer(`answered by ${req.body.model}`));
    const id = await credential({ inputCostPerMillion: 1000, outputCostPerMillion: 1000 });
    await deployCrew('fallback', id, { agents: [AGENTS[0], { ...AGENTS[1], fallbackModel: 'backup-model' }] });
    const result = await run('fallback', { topic: 'x' });
    // The researcher has no fallback: its model's failure fails the run.
    expect(result.status).toBe('failed');
    expect(result.error).toContain('overloaded');

    await deployCrew('fallback-both', id, { agents: AGENTS.map((a) => ({ ...a, fallbackModel: 'backup-model' })) });
    const ok = await run('fallback-both', { topic: 'x' });
    expect(ok.status, JSON.stringify(ok.error)).toBe('succeeded');
    const crew = crewOutput(ok);
    expect(crew.tasks.map((t: any) => t.output)).toEqual(['answered by backup-model', 'answered by backup-model']);
    // Two calls of 20 + 5 tokens at $1000 per million: $0.05, recorded on the crew's invocation.
    expect(ok.invocations.find((i: any) => i.nodeId === 'crew').usage).toMatchObject({ model: 'fake-model', promptTokens: 40, completionTokens: 10, costUsd: 0.05 });
    expect(crew.tasks[0].notes[0]).toMatch(/^openai-compatible model main-model failed \(.*503.*\); answered by the fallback model openai-compatible model backup-model$/);
  });
});
