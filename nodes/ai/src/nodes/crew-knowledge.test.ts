/**
 * The crew node's knowledge and memory over the OpenAI wire format (a local stand-in answering chat and embeddings):
 * knowledge files are embedded at the first run and not again until they change, passages reach the task prompt,
 * and crew memory carries results and entities from one run to the next.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { openAIAnswer, type RecordedRequest } from '../testing/fake-model-server.ts';
import { setUpNodeTests } from '../testing/test-setup.ts';
import { ScriptedProvider } from '../providers/scripted.ts';
import { crewNode } from './crew-node.ts';

const servers = setUpNodeTests();
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-crew-knowledge-'));
  process.env.FLOWCREW_KNOWLEDGE_DIR = dir;
  await writeFile(path.join(dir, 'returns.md'), 'Returns: items may be sent back within 30 days of delivery.');
  await writeFile(path.join(dir, 'shipping.csv'), 'region,days\nEurope,3\nAsia,9\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bagOfWords = new ScriptedProvider([]);

async function fakeModel(chat: (req: RecordedRequest) => string) {
  const server = await servers.start(async (req) => {
    if (req.path.endsWith('/embeddings')) {
      const vectors = await bagOfWords.embed(req.body.input as string[]);
      return { json: { object: 'list', data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })), model: 'fake-embed', usage: { prompt_tokens: 1, total_tokens: 1 } } };
    }
    return { json: openAIAnswer(chat(req)) };
  });
  return { server, credentials: { provider: 'openai-compatible', baseUrl: `${server.url}/v1`, model: 'fake-model', maxRetries: 0 } };
}

const user = (req: RecordedRequest) => (req.body.messages as Array<{ role: string; content: string }>).filter((m) => m.role === 'user').at(-1)!.content;
const embedCalls = (requests: RecordedRequest[]) => requests.filter((r) => r.path.endsWith('/embeddings'));

describe('ai-crew knowledge and memory', () => {
  it('embeds knowledge once, grounds each task in it, and embeds a file again only when it changed', async () => {
    const { server, credentials } = await fakeModel(() => 'Returns are accepted for 30 days.');
    const props = {
      stream: false,
      agents: [{ key: 'support', role: 'Support agent', goal: 'Answer customers' }],
      tasks: [{ key: 'answer', description: 'How many days do customers have to send items back after delivery?', agent: 'support' }],
      knowledge: { sources: [{ file: 'returns.md' }, { file: 'shipping.csv' }], refreshSeconds: 0, topK: 1 },
    };
    const node = await createTestNode(crewNode, props, { credentials });
    const [first] = await node.input({ payload: 'q' });
    expect((first!.msg.crew as any).knowledge).toEqual({ embedded: ['file:returns.md', 'file:shipping.csv'], unchanged: [], removed: [] });
    const chat = server.requests.filter((r) => r.path.endsWith('/chat/completions'));
    expect(user(chat[0]!)).toContain('Additional information from your knowledge sources:\n- Returns: items may be sent back within 30 days of delivery. (source: file:returns.md)');

    // Each embedding call (the sources, the task's query) counts in the run's usage, as the server counted it.
    expect(node.usages.filter((u) => u.model === 'fake-embed' || (u.completionTokens === 0 && u.promptTokens === 1)).length).toBe(embedCalls(server.requests).length);

    const embedsBefore = embedCalls(server.requests).length;
    const [second] = await node.input({ payload: 'q' });
    expect((second!.msg.crew as any).knowledge).toEqual({ embedded: [], unchanged: ['file:returns.md', 'file:shipping.csv'], removed: [] });
    // Only the query was embedded: no source again.
    expect(embedCalls(server.requests).length - embedsBefore).toBe(1);

    await writeFile(path.join(dir, 'returns.md'), 'Returns: items may be sent back within 60 days of delivery.');
    const [third] = await node.input({ payload: 'q' });
    expect((third!.msg.crew as any).knowledge).toEqual({ embedded: ['file:returns.md'], unchanged: ['file:shipping.csv'], removed: [] });
    expect(user(server.requests.filter((r) => r.path.endsWith('/chat/completions')).at(-1)!)).toContain('within 60 days');
    await node.stop();
  });

  it('remembers results and entities across runs, with entity extraction counted as model calls of the run', async () => {
    const { server, credentials } = await fakeModel((req) => {
      if (user(req).includes('List the people, organisations')) return JSON.stringify({ entities: [{ name: 'Acme Corp', type: 'organisation', description: 'a customer evaluating pgvector' }] });
      return 'Acme Corp evaluates pgvector for search.';
    });
    const props = {
      stream: false,
      agents: [{ key: 'analyst', role: 'Analyst', goal: 'Analyse' }],
      tasks: [{ key: 'analyse', description: 'Analyse what Acme Corp does with pgvector', agent: 'analyst' }],
      memory: { longTerm: true, entities: true },
    };
    const node = await createTestNode(crewNode, props, { credentials });
    await node.input({ payload: 'go' });
    // The task and the entity extraction, and the memory's three embedding calls (recall, remember, entities).
    expect(node.usages).toHaveLength(5);
    expect(node.usages.filter((u) => u.completionTokens === 0 && (u.promptTokens ?? 0) > 0)).toHaveLength(3);
    await node.input({ payload: 'go' });
    const prompts = server.requests.filter((r) => r.path.endsWith('/chat/completions')).map(user);
    const secondTask = prompts.filter((p) => p.startsWith('Current task: Analyse'))[1]!;
    expect(secondTask).toContain('From an earlier run: Task: Analyse what Acme Corp does with pgvector\nResult: Acme Corp evaluates pgvector for search.');
    expect(secondTask).toContain('Known entity: Acme Corp (organisation): a customer evaluating pgvector');
    await node.stop();
  });
});
