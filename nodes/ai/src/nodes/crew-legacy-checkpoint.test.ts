/**
 * A crew suspended under an earlier version resumes after the upgrade. Earlier versions (before crew steps were child
 * invocations) kept a crew's finished tasks and review drafts in the crew node's context; the fixture
 * (crew/fixtures/legacy-checkpoint/node-context.json) is what that version's CrewCheckpoint wrote for a two-task crew
 * waiting for a person's review of its second task. The test brings a real runtime's data directory into that state
 * (the run waiting, the checkpoint in the node's context, no step rows), starts the runtime on it, answers the
 * question, and checks that no finished work is asked of the model again. A real runtime (in process, SQLite, HTTP)
 * and a local stand-in of the OpenAI wire format.
 */
import Database from 'better-sqlite3';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../../runtime/src/testing/server.ts';
import { fakeModelCredential, openAIAnswer, startFakeModelServer, type FakeServer, type RecordedRequest } from '../testing/fake-model-server.ts';
import { crewFlow } from '../testing/crew-flow.ts';

const FIXTURE = new URL('../crew/fixtures/legacy-checkpoint/node-context.json', import.meta.url);

let model: FakeServer;
let dataDir: string;
let server: TestServer;
let env: Record<string, string>;

const system = (req: RecordedRequest) => (req.body.messages as Array<{ content: string }>)[0]!.content;
const asked = (who: string) => model.requests.filter((r) => system(r).startsWith(`You are ${who}.`));

beforeAll(async () => {
  model = await startFakeModelServer((req) => {
    if (system(req).startsWith('You are Researcher.')) return { json: openAIAnswer('Fact from the model.') };
    if (system(req).startsWith('You are Writer.')) return { json: openAIAnswer('Draft from the model.') };
    return { json: openAIAnswer('Summary.') };
  });
  dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-crew-legacy-'));
  env = { FLOWCREW_OUTBOUND_ALLOW: `127.0.0.1:${new URL(model.url).port}` };
  server = await startTestServer({ dataDir }, { env });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await model?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('crew checkpoints of an earlier version', () => {
  it('a crew waiting for review when the runtime was upgraded resumes from the old checkpoint: nothing finished is done again', async () => {
    const credentialId = await fakeModelCredential(server, model);
    const flow = crewFlow('legacy-crew', credentialId, {
      agents: [
        { key: 'researcher', role: 'Researcher', goal: 'Find facts' },
        { key: 'writer', role: 'Writer', goal: 'Write' },
      ],
      tasks: [
        { key: 'research', description: 'Research {topic}', agent: 'researcher' },
        { key: 'write', description: 'Write about {topic}', agent: 'writer', humanInput: true },
      ],
    });
    expect((await server.api('POST', '/api/v1/flows/import?deploy=true', flow)).status).toBe(201);
    const started = await server.api('POST', '/api/v1/flows/legacy-crew/runs', { input: { payload: { topic: 'pgvector' } } });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const runId = started.body.runId as string;
    const question = await until(`run ${runId} to wait for a person`, async () => {
      if ((await server.api('GET', `/api/v1/runs/${runId}`)).body.status !== 'waiting') return undefined;
      return ((await server.api('GET', `/api/v1/waits?runId=${runId}`)).body as Array<{ id: string; status: string }>).find((w) => w.status === 'open');
    });
    await server.stop();

    // The data directory as the earlier version left it: no step rows, the checkpoint in the crew node's context.
    const db = new Database(path.join(dataDir, 'flowcrew.db'));
    try {
      const crew = db.prepare("SELECT id FROM invocations WHERE run_id = ? AND node_type = 'ai-crew'").get(runId) as { id: string };
      expect(db.prepare('DELETE FROM invocations WHERE run_id = ? AND parent_id = ?').run(runId, crew.id).changes).toBe(2);
      const fixture = JSON.parse(await readFile(FIXTURE, 'utf8')) as Record<string, unknown>;
      const stored = Object.values(fixture)[0];
      const week = 7 * 24 * 3600 * 1000;
      const put = db.prepare('INSERT INTO context (scope, key, value) VALUES (?, ?, ?)');
      put.run('node:legacy-crew:crew', `flowcrew.crew.checkpoint:${runId}:crew:${crew.id}`, JSON.stringify(stored));
      // Another invocation's checkpoint that never came back: removed once it is over a week old, as before.
      put.run('node:legacy-crew:crew', 'flowcrew.crew.checkpoint:gone:crew:gone', JSON.stringify({ ...(stored as object), savedAt: Date.now() - week - 60_000 }));
      put.run('node:legacy-crew:crew', 'flowcrew.crew.checkpoint:recent:crew:recent', JSON.stringify({ ...(stored as object), savedAt: Date.now() }));
    } finally {
      db.close();
    }
    const callsBefore = model.requests.length;

    server = await startTestServer({ dataDir }, { env });
    expect((await server.api('GET', `/api/v1/runs/${runId}`)).body.status).toBe('waiting');
    const answered = await server.api('POST', `/api/v1/waits/${encodeURIComponent(question.id)}/answer`, { answer: { approved: true } });
    expect(answered.status, JSON.stringify(answered.body)).toBe(200);
    const run = await server.waitRun(runId, 30_000);
    expect(run.status, run.error).toBe('succeeded');

    // The research and the reviewed draft came from the old checkpoint; the model was not asked for either again.
    expect(model.requests.length).toBe(callsBefore);
    expect(asked('Researcher')).toHaveLength(1);
    expect(asked('Writer')).toHaveLength(1);
    const crewInvocation = run.invocations.find((i: { nodeType: string }) => i.nodeType === 'ai-crew');
    const out = crewInvocation.outputs[0].msg;
    expect(out.crew.resumed).toEqual(['research']);
    expect(out.crew.tasks.map((t: { output: string }) => t.output)).toEqual([
      'Fact (stored by the earlier version): pgvector 0.5 added HNSW indexes.',
      'Draft (stored by the earlier version): pgvector brings HNSW to PostgreSQL.',
    ]);
    expect(out.crew.tasks[1].humanReviews).toMatchObject([{ round: 0, approved: true }]);
    // Now stored as steps, in the order they were made; the old entry and the week-old one are gone, the recent one kept.
    const steps = run.invocations.filter((i: { parentId: string | null }) => i.parentId === crewInvocation.id).sort((a: { seq: number }, b: { seq: number }) => a.seq - b.seq);
    expect(steps.map((s: { input: { step: { key: string } } }) => s.input.step.key)).toEqual(['task:research', 'draft:write#0', 'task:write']);
    expect(steps[0].input.input).toEqual({ task: 'research', from: 'a crew checkpoint stored by an earlier Flowcrew version' });
    await server.stop();
    const after = new Database(path.join(dataDir, 'flowcrew.db'), { readonly: true });
    try {
      const keys = (after.prepare("SELECT key FROM context WHERE scope = 'node:legacy-crew:crew'").all() as Array<{ key: string }>).map((r) => r.key);
      expect(keys).toEqual(['flowcrew.crew.checkpoint:recent:crew:recent']);
    } finally {
      after.close();
    }
    server = await startTestServer({ dataDir }, { env });
  }, 120_000);
});
