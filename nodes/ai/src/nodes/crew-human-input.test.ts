/**
 * CrewAI's human_input, durable: a crew task's answer waits for a person (run status `waiting`, no process holding
 * it, across a restart); feedback sends the task back to its agent with the feedback, acceptance lets the crew go
 * on. A real runtime (in process, SQLite, HTTP) and a local stand-in of the OpenAI wire format.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../../runtime/src/testing/server.ts';
import { fakeModelCredential, openAIAnswer, startFakeModelServer, type FakeServer, type RecordedRequest } from '../testing/fake-model-server.ts';
import { crewFlow } from '../testing/crew-flow.ts';

let model: FakeServer;
let dataDir: string;
let server: TestServer;
let env: Record<string, string>;

const system = (req: RecordedRequest) => (req.body.messages as Array<{ content: string }>)[0]!.content;
const asked = (who: string) => model.requests.filter((r) => system(r).startsWith(`You are ${who}.`));

beforeAll(async () => {
  model = await startFakeModelServer((req) => {
    const text = JSON.stringify(req.body.messages);
    if (system(req).startsWith('You are Writer.')) return { json: openAIAnswer(text.includes('Mention PostgreSQL 17') ? 'Draft v2: pgvector on PostgreSQL 17.' : 'Draft v1: pgvector.') };
    return { json: openAIAnswer('Summary of the accepted draft.') };
  });
  dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-crew-human-'));
  env = { FLOWCREW_OUTBOUND_ALLOW: `127.0.0.1:${new URL(model.url).port}` };
  server = await startTestServer({ dataDir }, { env });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await model?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The run's open question once it is parked on it. */
const openQuestion = (runId: string) =>
  until(`run ${runId} to wait for a person`, async () => {
    const run = (await server.api('GET', `/api/v1/runs/${runId}`)).body;
    if (run.status !== 'waiting') return undefined;
    return ((await server.api('GET', `/api/v1/waits?runId=${runId}`)).body as Array<{ id: string; status: string }>).find((w) => w.status === 'open');
  });

describe('crew task with human_input', () => {
  it('waits for review across a restart, revises with the feedback, and goes on once accepted', async () => {
    const credentialId = await fakeModelCredential(server, model);
    const flow = crewFlow('human-crew', credentialId, {
      agents: [
        { key: 'writer', role: 'Writer', goal: 'Write' },
        { key: 'editor', role: 'Editor', goal: 'Summarise' },
      ],
      tasks: [
        { key: 'draft', description: 'Write about {topic}', agent: 'writer', humanInput: true },
        { key: 'summary', description: 'Summarise the draft', agent: 'editor' },
      ],
    });
    expect((await server.api('POST', '/api/v1/flows/import?deploy=true', flow)).status).toBe(201);
    const started = await server.api('POST', '/api/v1/flows/human-crew/runs', { input: { payload: { topic: 'pgvector' } } });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const runId = started.body.runId as string;

    const first = await openQuestion(runId);
    expect(first).toMatchObject({ id: expect.stringMatching(/:task:draft:0$/), context: { task: 'draft', agent: 'Writer', answer: 'Draft v1: pgvector.' } });

    // Restart while it waits: nothing is re-run, the question is still open.
    await server.stop();
    server = await startTestServer({ dataDir }, { env });
    expect((await server.api('GET', `/api/v1/runs/${runId}`)).body.status).toBe('waiting');
    expect(asked('Writer')).toHaveLength(1);

    // Feedback: the writer revises, and the revision is reviewed in turn.
    const feedback = await server.api('POST', `/api/v1/waits/${encodeURIComponent(first.id)}/answer`, { answer: { approved: false, feedback: 'Mention PostgreSQL 17' } });
    expect(feedback.status, JSON.stringify(feedback.body)).toBe(200);
    const second = await openQuestion(runId);
    expect(second).toMatchObject({ id: expect.stringMatching(/:task:draft:1$/), context: { answer: 'Draft v2: pgvector on PostgreSQL 17.' } });
    expect(asked('Writer')).toHaveLength(2);
    expect(JSON.stringify(asked('Writer')[1]!.body.messages)).toContain('Draft v1: pgvector.');
    expect(asked('Editor')).toHaveLength(0);

    expect((await server.api('POST', `/api/v1/waits/${encodeURIComponent(second.id)}/answer`, { answer: { approved: true } })).status).toBe(200);
    const run = await server.waitRun(runId, 20_000);
    expect(run.status, run.error).toBe('succeeded');
    const crew = run.invocations.find((i: { nodeId: string }) => i.nodeId === 'crew').outputs[0].msg.crew;
    expect(crew.tasks.map((t: { output: string }) => t.output)).toEqual(['Draft v2: pgvector on PostgreSQL 17.', 'Summary of the accepted draft.']);
    expect(crew.tasks[0].humanReviews).toEqual([
      { round: 0, approved: false, feedback: 'Mention PostgreSQL 17', by: 'admin-token', via: 'api', timedOut: false },
      { round: 1, approved: true, feedback: '', by: 'admin-token', via: 'api', timedOut: false },
    ]);
    // Each model call was made once: the parks and the restart repeated none.
    expect(asked('Writer')).toHaveLength(2);
    expect(asked('Editor')).toHaveLength(1);
    expect(JSON.stringify(asked('Editor')[0]!.body.messages)).toContain('Draft v2: pgvector on PostgreSQL 17.');
  }, 90_000);
});
