/**
 * Crew memory and knowledge through the runtime. Memory scoped by project (the flow's project reaches the node as
 * NodeInit.projectId): with scope 'project', what one crew learned is recalled by another crew of the same project
 * that names the same memory, in another flow; a crew of another project with the same memory name recalls nothing
 * of it; a crew's own memory (the default scope) stays its own. Knowledge from a connector node: the node runs as a
 * tool call of the run, its answer is embedded once and again only when it changes. A local stand-in of the OpenAI
 * wire format answers chat and embeddings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../../runtime/src/testing/server.ts';
import { ScriptedProvider } from '../providers/scripted.ts';
import { openAIAnswer, startFakeModelServer, type FakeServer, type RecordedRequest } from '../testing/fake-model-server.ts';
import { crewFlow } from '../testing/crew-flow.ts';
import { CrewMemory, legacyCrewScope } from '../crew/crew-memory.ts';
import { SqliteVecStore } from '../memory/sqlite-vec-store.ts';
import { resolveStoreLocation } from '../memory/vector-store.ts';

let model: FakeServer;
let server: TestServer;
const bagOfWords = new ScriptedProvider([]);
const FACT = 'The pgvector extension was first released in 2021.';

beforeAll(async () => {
  model = await startFakeModelServer(async (req) => {
    if (req.path.endsWith('/embeddings')) {
      const vectors = await bagOfWords.embed(req.body.input as string[]);
      return { json: { object: 'list', data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })), model: 'fake-embed', usage: { prompt_tokens: 1, total_tokens: 1 } } };
    }
    return { json: openAIAnswer(FACT) };
  });
  server = await startTestServer({}, { env: { FLOWCREW_OUTBOUND_ALLOW: `127.0.0.1:${new URL(model.url).port}` } });
  expect((await server.api('POST', '/api/v1/projects', { id: 'elsewhere', name: 'elsewhere' })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await model?.close();
});

async function credentialIn(projectId: string): Promise<string> {
  const res = await server.api('POST', '/api/v1/credentials', {
    name: `fake model ${projectId}`,
    type: 'ai-model',
    projectId,
    fields: { provider: 'openai-compatible', baseUrl: `${model.url}/v1`, apiKey: 'sk-test', model: 'fake-model', maxRetries: 0 },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

const crewWith = (memory: Record<string, unknown>) => ({
  memory: { longTerm: true, ...memory },
  agents: [{ key: 'researcher', role: 'Researcher', goal: 'Find facts' }],
  tasks: [{ key: 'research', description: 'When was the pgvector extension first released?', agent: 'researcher' }],
});

/** Deploys a one-crew flow in a project, runs it once, and returns what its researcher was told it remembers. */
async function runCrew(id: string, projectId: string, credentialId: string, memory: Record<string, unknown>): Promise<string> {
  const saved = await server.api('POST', `/api/v1/flows/import?deploy=true&projectId=${projectId}`, crewFlow(id, credentialId, crewWith(memory)));
  expect(saved.status, JSON.stringify(saved.body)).toBe(201);
  return runAgain(id);
}

/** Runs a deployed crew flow once more; returns what its researcher was told it remembers. */
async function runAgain(id: string): Promise<string> {
  const before = model.requests.length;
  const started = await server.api('POST', `/api/v1/flows/${id}/runs`, { input: { payload: {} } });
  const run = await server.waitRun(started.body.runId, 60_000);
  expect(run.status, run.error).toBe('succeeded');
  const chat = model.requests.slice(before).find((r: RecordedRequest) => r.path.endsWith('/chat/completions'))!;
  return JSON.stringify(chat.body.messages);
}

describe('crew memory scoped by project', () => {
  it("shares a project memory between the project's crews, never with another project's, and keeps a crew's own memory its own", async () => {
    const here = await credentialIn('default');
    const there = await credentialIn('elsewhere');
    const shared = { scope: 'project', name: 'research' };
    expect(await runCrew('first-crew', 'default', here, shared)).not.toContain('From an earlier run');
    // Another flow of the same project naming the same memory recalls the first crew's result.
    expect(await runCrew('second-crew', 'default', here, shared)).toContain(`From an earlier run: Task: When was the pgvector extension first released?\\nResult: ${FACT}`);
    // Another project, same memory name: nothing of it.
    expect(await runCrew('foreign-crew', 'elsewhere', there, shared)).not.toContain('From an earlier run');
    // The default scope: the crew's own memory, not the project's.
    expect(await runCrew('own-crew', 'default', here, {})).not.toContain('From an earlier run');
  }, 120_000);

  it('refuses a memory name that is not a plain name, at save', async () => {
    const here = await credentialIn('default');
    const saved = await server.api('POST', '/api/v1/flows', crewFlow('bad-name', here, crewWith({ scope: 'project', name: '../other' })));
    expect(saved.status).toBe(422);
    expect(saved.body.errors[0].pointer).toBe('/nodes/1/props/memory/name');
  });
});

describe("a crew's own memory never crosses projects", () => {
  const deleteFlow = async (id: string) => expect((await server.api('DELETE', `/api/v1/flows/${id}`)).status).toBe(204);

  it('a flow deleted and made again with the same id in another project does not find the old crew\'s memory', async () => {
    const here = await credentialIn('default');
    const there = await credentialIn('elsewhere');
    expect(await runCrew('reused-id', 'default', here, {})).not.toContain('From an earlier run');
    expect(await runAgain('reused-id')).toContain(`From an earlier run: Task: When was the pgvector extension first released?\\nResult: ${FACT}`);
    await deleteFlow('reused-id');
    expect(await runCrew('reused-id', 'elsewhere', there, {})).not.toContain('From an earlier run');
  }, 120_000);

  it('memory stored before the key had the project in it is recalled by the project that runs the flow, not after the id moves to another project', async () => {
    // Written as the crew node wrote it before (collections crew:<flow>:<node>), into the runtime's own vector store.
    const location = resolveStoreLocation('auto', { dataDir: server.dataDir, database: { dialect: 'sqlite' } as never });
    expect(location.kind).toBe('sqlite');
    const store = SqliteVecStore.open((location as { path: string }).path);
    try {
      // Embedded as the crew's model embeds (the stand-in's bag of words), under the same model identity.
      const embedder = Object.assign(Object.create(bagOfWords) as ScriptedProvider, { kind: 'openai-compatible', embeddingModel: 'fake-model' });
      await new CrewMemory({ config: { longTerm: true }, provider: embedder, store: async () => store, scope: legacyCrewScope({ flowId: 'old-crew', id: 'crew' }) }).remember(
        'When was the pgvector extension first released?',
        'Stored before the upgrade: 2021.',
      );
    } finally {
      store.close();
    }
    const here = await credentialIn('default');
    const there = await credentialIn('elsewhere');
    expect(await runCrew('old-crew', 'default', here, {})).toContain('From an earlier run: Task: When was the pgvector extension first released?\\nResult: Stored before the upgrade: 2021.');
    await deleteFlow('old-crew');
    expect(await runCrew('old-crew', 'elsewhere', there, {})).not.toContain('Stored before the upgrade');
  }, 120_000);
});

describe('crew knowledge from a connector node', () => {
  it('runs the node as a tool call of the run, grounds the task in its answer, and embeds it again only when it changed', async () => {
    const here = await credentialIn('default');
    // A function node stands in for a connector (a database query, a CRM lookup): any node type usable as a tool.
    const connector = (policy: string) => ({ node: { type: 'function', name: 'returns-policy', props: { func: `msg.payload = ${JSON.stringify(policy)}; return msg;` } } });
    const knowledgeCrew = (policy: string) => ({
      knowledge: { sources: [connector(policy)], refreshSeconds: 0, topK: 1, minScore: -1 },
      agents: [{ key: 'support', role: 'Support agent', goal: 'Answer customers' }],
      tasks: [{ key: 'answer', description: 'How many days do customers have to send items back?', agent: 'support' }],
    });
    const run = async (policy: string) => {
      const saved = await server.api('POST', '/api/v1/flows/import?deploy=true&replace=true', crewFlow('connector-knowledge', here, knowledgeCrew(policy)));
      expect(saved.status, JSON.stringify(saved.body)).toBe(201);
      const before = model.requests.length;
      const started = await server.api('POST', '/api/v1/flows/connector-knowledge/runs', { input: { payload: {} } });
      const done = await server.waitRun(started.body.runId, 60_000);
      expect(done.status, done.error).toBe('succeeded');
      const chat = model.requests.slice(before).find((r: RecordedRequest) => r.path.endsWith('/chat/completions'))!;
      const crew = done.invocations.find((i: { nodeType: string }) => i.nodeType === 'ai-crew');
      return { done, crew, prompt: JSON.stringify(chat.body.messages) };
    };
    const first = await run('Returns: items may be sent back within 30 days of delivery.');
    expect(first.crew.outputs[0].msg.crew.knowledge).toEqual({ embedded: ['node:returns-policy'], unchanged: [], removed: [] });
    expect(first.prompt).toContain('Returns: items may be sent back within 30 days of delivery. (source: node:returns-policy)');
    // The connector ran as its own invocation of the run, under the crew's (not filed under a task).
    const call = first.done.invocations.find((i: { nodeType: string }) => i.nodeType === 'function');
    expect(call).toMatchObject({ parentId: first.crew.id, status: 'succeeded' });

    const same = await run('Returns: items may be sent back within 30 days of delivery.');
    expect(same.crew.outputs[0].msg.crew.knowledge).toEqual({ embedded: [], unchanged: ['node:returns-policy'], removed: [] });
    const changed = await run('Returns: items may be sent back within 60 days of delivery.');
    expect(changed.crew.outputs[0].msg.crew.knowledge).toEqual({ embedded: ['node:returns-policy'], unchanged: [], removed: [] });
    expect(changed.prompt).toContain('within 60 days');
  }, 120_000);

  it('refuses at deploy a knowledge node type that is not usable as a tool', async () => {
    const here = await credentialIn('default');
    const flow = crewFlow('bad-connector', here, { ...crewWith({}), memory: undefined, knowledge: { sources: [{ node: { type: 'inject' } }] } });
    const saved = await server.api('POST', '/api/v1/flows/import?deploy=true', flow);
    expect(saved.status).toBe(422);
    expect(JSON.stringify(saved.body)).toContain('knowledge source node \\"inject\\" is not a node type usable as a tool');
  });
});
