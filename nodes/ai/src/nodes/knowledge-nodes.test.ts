import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { testResources } from '@flowcrew/sdk/testing';
import { ScriptedProvider } from '../providers/scripted.ts';
import { requireLocalModel, skipLocalModelTests } from '../testing/local-model.ts';
import { setUpNodeTests } from '../testing/test-setup.ts';
import { toolRunner } from '../testing/tool-runner.ts';
import { buildNodeTool } from '../tools/node-tools.ts';
import { knowledgeNode, retrieveNode } from './knowledge-nodes.ts';

const servers = setUpNodeTests();

/** An OpenAI-compatible embeddings endpoint backed by a feature-hashing embedder. */
async function embeddingsServer() {
  const embedder = new ScriptedProvider([], 'hash', 64);
  const server = await servers.start(async (req) => ({ json: { data: (await embedder.embed(req.body.input)).map((embedding, index) => ({ index, embedding })) } }));
  return { provider: 'openai-compatible', baseUrl: `${server.url}/v1`, model: 'chat-model', embeddingModel: 'embed-model' };
}

const NOTES = [
  'Invoices are sent on the first working day of each month by email.',
  'Refunds are processed within five working days after the returned item arrives at the warehouse.',
  'Support is open Monday to Friday from nine to five, Central European Time.',
].join('\n\n');

describe('ai-knowledge and ai-retrieve nodes', () => {
  it('ingests a file, then retrieves the passage that answers a question, with scores', async () => {
    const credentials = await embeddingsServer();
    const ingest = await createTestNode(knowledgeNode, { collection: 'policies', chunkSize: 120, chunkOverlap: 0 }, { credentials });
    const [ingested] = await ingest.input({ payload: Buffer.from(NOTES), filename: 'policies.md' });
    expect(ingested!.msg.payload).toEqual({ collection: 'policies', sources: [{ source: 'policies.md', chunks: 3 }], chunks: 3, dimensions: 64 });

    const retrieve = await createTestNode(retrieveNode, { collection: 'policies', topK: 2 }, { credentials });
    const [found] = await retrieve.input({ payload: 'how many working days are refunds processed' });
    const hits = found!.msg.payload as Array<{ text: string; score: number; source: string; metadata: Record<string, unknown> }>;
    expect(hits).toHaveLength(2);
    expect(hits[0]).toMatchObject({ source: 'policies.md', metadata: { chunk: 1 } });
    expect(hits[0]!.text).toContain('Refunds are processed');
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
    expect(found!.msg.query).toBe('how many working days are refunds processed');
    expect(servers.current.requests[0]!.body.model).toBe('embed-model');
    await ingest.stop();
    await retrieve.stop();
  });

  it('works as an agent tool with the collection fixed by the flow author', async () => {
    const credentials = await embeddingsServer();
    const ingest = await createTestNode(knowledgeNode, { collection: 'faq', chunkSize: 120, chunkOverlap: 0 }, { credentials });
    await ingest.input({ payload: [{ text: NOTES, source: 'faq', metadata: { team: 'support' } }] });
    const description = { type: 'ai-retrieve', label: retrieveNode.label, description: 'Search a knowledge collection', parameters: retrieveNode.props };
    const tool = buildNodeTool({ type: 'ai-retrieve', name: 'search_faq', props: { collection: 'faq', topK: 1 } }, [description], new Set());
    expect(Object.keys(tool.spec.parameters.properties as object)).not.toContain('collection');
    // The tool node runs with the credential the runtime resolves for it; here the test runner passes it directly.
    const run = toolRunner([{ ...retrieveNode, create: (init) => retrieveNode.create({ ...init, credentials }) }]);
    const text = await tool.invoke({ query: 'when is support open' }, { signal: new AbortController().signal, callTool: run });
    expect(JSON.parse(text)).toEqual([expect.objectContaining({ source: 'faq', text: expect.stringContaining('Support is open'), metadata: { team: 'support', chunk: 2 } })]);
    await ingest.stop();
  });

  it('rejects binary files and malformed input before embedding anything', async () => {
    const credentials = await embeddingsServer();
    const ingest = await createTestNode(knowledgeNode, { collection: 'x' }, { credentials });
    await expect(ingest.input({ payload: Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0x01]), filename: 'a.pdf' })).rejects.toThrow('msg.payload is a binary file; only text files (UTF-8) can be ingested');
    await expect(ingest.input({ payload: [{ text: 'ok' }, 42] })).rejects.toThrow('msg.payload[1] must be text, a Buffer, or { text, source?, metadata? } (got number)');
    expect(servers.current.requests).toHaveLength(0);
    const retrieve = await createTestNode(retrieveNode, { collection: 'never-filled' }, { credentials });
    await expect(retrieve.input({ payload: 'anything' })).rejects.toThrow('collection "never-filled" does not exist (ingest into it with a knowledge node first)');
  });

  it('records the tokens and cost each embedding call took, and stops at the budget before the next call', async () => {
    const embedder = new ScriptedProvider([], 'hash', 64);
    const server = await servers.start(async (req) => ({ json: { data: (await embedder.embed(req.body.input)).map((embedding, index) => ({ index, embedding })), usage: { prompt_tokens: 10 * req.body.input.length, total_tokens: 10 * req.body.input.length } } }));
    const credentials = { provider: 'openai-compatible', baseUrl: `${server.url}/v1`, model: 'chat-model', embeddingModel: 'embed-model', inputCostPerMillion: 100, outputCostPerMillion: 200 };
    const ingest = await createTestNode(knowledgeNode, { collection: 'metered', chunkSize: 120, chunkOverlap: 0 }, { credentials });
    await ingest.input({ payload: { text: NOTES, source: 'notes' } });
    // Three chunks in one call: the server counted 30 tokens, at $100 per million.
    expect(ingest.usages).toEqual([{ model: 'embed-model', promptTokens: 30, completionTokens: 0, costUsd: 0.003 }]);

    // The flow's budget is spent after one query: the second is refused before its embedding call is made.
    const retrieve = await createTestNode(retrieveNode, { collection: 'metered', flowBudget: { maxTokens: 5, period: 'total' } }, { credentials });
    await retrieve.input({ payload: 'refunds' });
    expect(retrieve.usages).toEqual([{ model: 'embed-model', promptTokens: 10, completionTokens: 0, costUsd: 0.001 }]);
    const calls = server.requests.length;
    await expect(retrieve.input({ payload: 'support hours' })).rejects.toThrow(/budget/);
    expect(server.requests).toHaveLength(calls);
    // A cost budget needs prices: refused at deploy on a credential without them.
    await expect(createTestNode(retrieveNode, { collection: 'metered', budget: { maxCostUsd: 1 } }, { credentials: { ...credentials, inputCostPerMillion: undefined, outputCostPerMillion: undefined } })).rejects.toThrow(
      /a cost budget \(maxCostUsd\) is set, but the embedding model runs on openai-compatible model chat-model, which has no prices/,
    );
  });

  it('refuses to search a collection with a different embedding model', async () => {
    const credentials = await embeddingsServer();
    const ingest = await createTestNode(knowledgeNode, { collection: 'mixed' }, { credentials });
    await ingest.input({ payload: 'some text' });
    const retrieve = await createTestNode(retrieveNode, { collection: 'mixed' }, { credentials: { ...credentials, embeddingModel: 'other-embedder' } });
    await expect(retrieve.input({ payload: 'text' })).rejects.toThrow(
      'collection "mixed" was built with openai-compatible:embed-model; searching it with openai-compatible:other-embedder would compare unrelated vectors',
    );
  });
});

describe('the embedded vector store and the runtime data directory', () => {
  it('keeps collections in <dataDir>/ai/vectors.db, and a throwaway runtime (dataDir :memory:) apart in memory', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'flowcrew-data-'));
    try {
      const credentials = await embeddingsServer();
      const ingest = await createTestNode(knowledgeNode, { collection: 'on-disk' }, { credentials, services: { dataDir } });
      await ingest.input({ payload: { text: 'Kept on disk.', source: 'disk' } });
      await ingest.stop();
      expect(existsSync(path.join(dataDir, 'ai', 'vectors.db'))).toBe(true);
      const retrieve = await createTestNode(retrieveNode, { collection: 'on-disk' }, { credentials, services: { dataDir } });
      expect((await retrieve.input({ payload: 'disk' }))[0]!.msg.payload).toEqual([expect.objectContaining({ source: 'disk', text: 'Kept on disk.' })]);
      await retrieve.stop();
      const throwaway = await createTestNode(retrieveNode, { collection: 'on-disk' }, { credentials });
      await expect(throwaway.input({ payload: 'disk' })).rejects.toThrow('collection "on-disk" does not exist');
    } finally {
      await testResources().reset();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(skipLocalModelTests)('knowledge on the local model', () => {
  it('embeds with the local model and retrieves by similarity', async () => {
    requireLocalModel();
    const ingest = await createTestNode(knowledgeNode, { collection: 'local-notes', chunkSize: 120, chunkOverlap: 0 });
    const [ingested] = await ingest.input({ payload: { text: NOTES, source: 'notes' } });
    expect(ingested!.msg.payload).toMatchObject({ chunks: 3, dimensions: 576 });
    const retrieve = await createTestNode(retrieveNode, { collection: 'local-notes', topK: 3, minScore: -1 });
    const [found] = await retrieve.input({ payload: 'refunds' });
    const hits = found!.msg.payload as Array<{ score: number }>;
    expect(hits).toHaveLength(3);
    expect(hits[0]!.score).toBeGreaterThanOrEqual(hits[1]!.score);
  }, 180_000); // loads the model on two cores shared with other suites: 30 s+ at load 15-20
});
