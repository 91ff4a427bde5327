/**
 * A model per agent: each agent of a crew may name an AI model credential of its own (another provider or account
 * than the node's), and so may a hierarchical crew's manager. The runtime binds those like the node's own credential: a credential of another type, or of
 * another project, is refused at save; a missing one at deploy; their secrets are redacted from the run.
 * A real runtime (in process, HTTP) and two local stand-ins of the OpenAI wire format, one per credential.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../../runtime/src/testing/server.ts';
import { openAIAnswer, startFakeModelServer, type FakeServer } from '../testing/fake-model-server.ts';

let main: FakeServer;
let other: FakeServer;
/** The hierarchical crew's manager account: plans in text, assigns and reviews in JSON (by the answer schema asked for). */
let boss: FakeServer;
let server: TestServer;

beforeAll(async () => {
  main = await startFakeModelServer(() => ({ json: openAIAnswer('Research from the main account.') }));
  other = await startFakeModelServer(() => ({ json: openAIAnswer('Article from the other account.') }));
  boss = await startFakeModelServer((req) => {
    const asked = JSON.stringify(req.body.response_format ?? {});
    if (asked.includes('approved')) return { json: openAIAnswer(JSON.stringify({ approved: true, feedback: 'Good.' })) };
    if (asked.includes('instructions')) return { json: openAIAnswer(JSON.stringify({ agent: 'researcher', instructions: 'Find three facts.' })) };
    return { json: openAIAnswer('Plan: the researcher does it.') };
  });
  server = await startTestServer({}, { env: { FLOWCREW_OUTBOUND_ALLOW: [main, other, boss].map((s) => `127.0.0.1:${new URL(s.url).port}`).join(',') } });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await main?.close();
  await other?.close();
  await boss?.close();
});

const modelCredential = async (name: string, url: string, apiKey: string, projectId = 'default') => {
  const res = await server.api('POST', '/api/v1/credentials', { name, type: 'ai-model', projectId, fields: { provider: 'openai-compatible', baseUrl: `${url}/v1`, apiKey, model: `${name}-model`, maxRetries: 0 } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
};

const crewFlow = (id: string, nodeCredential: string, writerCredential: string) => ({
  id,
  name: id,
  nodes: [
    { id: 'go', type: 'inject', props: { props: [] }, wires: [['crew']] },
    {
      id: 'crew',
      type: 'ai-crew',
      credentials: nodeCredential,
      props: {
        stream: false,
        agents: [
          { key: 'researcher', role: 'Researcher', goal: 'Find facts' },
          { key: 'writer', role: 'Writer', goal: 'Write', credential: writerCredential },
        ],
        tasks: [
          { key: 'research', description: 'Research {topic}', agent: 'researcher' },
          { key: 'write', description: 'Write about {topic}', agent: 'writer' },
        ],
      },
      wires: [],
    },
  ],
});

describe('a model per agent', () => {
  it('runs each agent on its own credential, and redacts both keys', async () => {
    const mainId = await modelCredential('main', main.url, 'sk-main-secret-1234');
    const otherId = await modelCredential('other', other.url, 'sk-other-secret-5678');
    expect((await server.api('POST', '/api/v1/flows/import?deploy=true', crewFlow('per-agent', mainId, otherId))).status).toBe(201);
    const started = await server.api('POST', '/api/v1/flows/per-agent/runs', { input: { payload: { topic: 'pgvector' } } });
    const run = await server.waitRun(started.body.runId, 20_000);
    expect(run.status, run.error).toBe('succeeded');
    const crew = run.invocations.find((i: { nodeId: string }) => i.nodeId === 'crew').outputs[0].msg.crew;
    expect(crew.tasks.map((t: { output: string }) => t.output)).toEqual(['Research from the main account.', 'Article from the other account.']);
    expect(main.requests.map((r) => r.body.model)).toEqual(['main-model']);
    expect(other.requests.map((r) => r.body.model)).toEqual(['other-model']);
    expect(other.requests[0]!.headers.authorization).toBe('Bearer sk-other-secret-5678');
    expect(JSON.stringify(run)).not.toContain('sk-other-secret-5678');
  });

  it("runs a hierarchical crew's manager on its own credential (plan, assignment, review), the agents on the node's", async () => {
    const mainId = await modelCredential('main3', main.url, 'sk-main-3');
    const bossId = await modelCredential('boss', boss.url, 'sk-boss-secret-9012');
    const flow = crewFlow('managed', mainId, mainId);
    Object.assign(flow.nodes[1]!.props!, { process: 'hierarchical', manager: { credential: bossId }, tasks: [{ key: 'research', description: 'Research {topic}' }] });
    const saved = await server.api('POST', '/api/v1/flows/import?deploy=true', flow);
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    const before = main.requests.length;
    const started = await server.api('POST', '/api/v1/flows/managed/runs', { input: { payload: { topic: 'pgvector' } } });
    const run = await server.waitRun(started.body.runId, 20_000);
    expect(run.status, run.error).toBe('succeeded');
    const crew = run.invocations.find((i: { nodeType: string }) => i.nodeType === 'ai-crew').outputs[0].msg.crew;
    expect(crew).toMatchObject({ plan: 'Plan: the researcher does it.', tasks: [{ agent: 'Researcher', output: 'Research from the main account.', review: { approved: true, feedback: 'Good.' } }] });
    // Plan, assignment and review went to the manager's account, with its key; the task to the node's.
    expect(boss.requests.map((r) => r.body.model)).toEqual(['boss-model', 'boss-model', 'boss-model']);
    expect(boss.requests.every((r) => r.headers.authorization === 'Bearer sk-boss-secret-9012')).toBe(true);
    expect(main.requests.slice(before).map((r) => r.body.model)).toEqual(['main3-model']);
    expect(JSON.stringify(run)).not.toContain('sk-boss-secret-9012');
    // The manager's decisions are steps of the crew's invocation too.
    expect(run.invocations.map((i: { nodeType: string }) => i.nodeType).filter((t: string) => t.startsWith('ai-crew#'))).toEqual(['ai-crew#plan', 'ai-crew#assignment', 'ai-crew#review', 'ai-crew#task']);

    // The manager's credential is checked as an agent's: another type is refused at save, with its pointer.
    const http = await server.api('POST', '/api/v1/credentials', { name: 'http-m', type: 'http-auth', fields: { token: 'x' } });
    Object.assign(flow, { id: 'managed-wrong' });
    (flow.nodes[1]!.props as unknown as { manager: { credential: string } }).manager.credential = http.body.id;
    const wrong = await server.api('POST', '/api/v1/flows', flow);
    expect(wrong.status).toBe(422);
    expect(wrong.body.errors).toEqual([expect.objectContaining({ pointer: '/nodes/1/props/manager/credential', message: expect.stringMatching(/is of type "http-auth"/) })]);
  });

  it('refuses a credential of another type or project at save, and a missing one at deploy', async () => {
    const mainId = await modelCredential('main2', main.url, 'sk-main-2');
    const http = await server.api('POST', '/api/v1/credentials', { name: 'http', type: 'http-auth', fields: { token: 'x' } });
    const wrongType = await server.api('POST', '/api/v1/flows', crewFlow('wrong-type', mainId, http.body.id));
    expect(wrongType.status).toBe(422);
    expect(wrongType.body.errors).toEqual([expect.objectContaining({ pointer: '/nodes/1/props/agents/1/credential', message: expect.stringMatching(/is of type "http-auth", but node type "ai-crew" takes "ai-model" credentials/) })]);

    expect((await server.api('POST', '/api/v1/projects', { id: 'elsewhere', name: 'elsewhere' })).status).toBe(201);
    const foreign = await modelCredential('foreign', other.url, 'sk-foreign', 'elsewhere');
    const crossProject = await server.api('POST', '/api/v1/flows', crewFlow('cross-project', mainId, foreign));
    expect(crossProject.status).toBe(422);
    expect(crossProject.body.errors[0]).toMatchObject({ pointer: '/nodes/1/props/agents/1/credential', message: `credential "${foreign}" does not exist in project "default"` });

    expect((await server.api('POST', '/api/v1/flows', crewFlow('missing', mainId, 'no-such-credential'))).status).toBe(201);
    const deploy = await server.api('POST', '/api/v1/flows/missing/deploy');
    expect(deploy.status).toBe(422);
    // Named with where it is (in the detail, or in the listed problems when the deploy lists every node at once).
    expect(JSON.stringify(deploy.body)).toMatch(/no-such-credential.*(props\/agents\/1\/credential|agents\/1\/credential)|(props\/agents\/1\/credential|agents\/1\/credential).*no-such-credential/);
  });
});
