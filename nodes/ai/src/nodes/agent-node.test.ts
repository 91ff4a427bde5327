import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ToolDescription } from '@flowcrew/sdk';
import { createTestNode, setTestServiceDefaults } from '@flowcrew/sdk/testing';
import { ScriptedProvider } from '../providers/scripted.ts';
import { openAIAnswer, openAITextStream, type FakeReply, type FakeServer } from '../testing/fake-model-server.ts';
import { requireLocalModel, skipLocalModelTests } from '../testing/local-model.ts';
import { declaredServers, setUpNodeTests } from '../testing/test-setup.ts';
import { toolRunner } from '../testing/tool-runner.ts';
import { agentNode } from './agent-node.ts';
import { mcpToolNode } from './mcp-tool-node.ts';

const servers = setUpNodeTests();
// The MCP server the administrator declared for these tests (a flow names it, never its command).
setTestServiceDefaults({
  mcpServers: declaredServers({
    calc: { command: process.execPath, args: ['--import', 'tsx', path.join(import.meta.dirname, '..', 'testing', 'mcp-stdio-fixture.ts')], cwd: path.resolve(import.meta.dirname, '..', '..', '..', '..') },
  }),
});

/** An ai-model credential for a fake OpenAI-compatible server. */
const openAICredential = (server: FakeServer) => ({ provider: 'openai-compatible', baseUrl: `${server.url}/v1`, apiKey: 'sk-test', model: 'fake-model', inputCostPerMillion: 1, outputCostPerMillion: 2, maxRetries: 1 });

async function fakeOpenAI(answer: (body: any, i: number) => FakeReply) {
  return openAICredential(await servers.start((req, i) => answer(req.body, i)));
}

const lastUser = (body: any): string => body.messages.filter((m: any) => m.role === 'user').at(-1).content;
const embedder = new ScriptedProvider([], 'hash', 32);

describe('ai-agent node', () => {
  it('answers through its fallback model when its model fails, and stops at the flow budget across runs', async () => {
    const credentials = await fakeOpenAI((body) => (body.model === 'fake-model' ? { status: 503, json: { error: { message: 'overloaded' } } } : { json: openAIAnswer(`from ${body.model}`) }));
    const node = await createTestNode(agentNode, { role: 'r', goal: 'g', stream: false, fallbackModel: 'backup', flowBudget: { maxTokens: 40, period: 'total' } }, { credentials: { ...credentials, maxRetries: 0 } });
    const [out] = await node.input({ payload: 'first' });
    expect(out!.msg.payload).toBe('from backup');
    expect((out!.msg.agent as { notes: string[] }).notes[0]).toMatch(/^openai-compatible model fake-model failed \(.*overloaded.*\); answered by the fallback model openai-compatible model backup$/);
    await node.input({ payload: 'second' });
    await expect(node.input({ payload: 'third' })).rejects.toThrow("Stopped before a model call of agent \"r\" on task \"task\": the flow's budget is spent in all (50 tokens used of 40, in 2 model calls)");
  });

  it('runs the task from its template, streams tokens live and records tokens and cost', async () => {
    const credentials = await fakeOpenAI((body) => ({ sse: openAITextStream(lastUser(body).includes('Summarise pgvector') ? ['pgvector ', 'is a ', 'Postgres extension.'] : ['wrong prompt'], { prompt_tokens: 120, completion_tokens: 6 }) }));
    const node = await createTestNode(agentNode, { template: 'research', task: { description: 'Summarise {subject} in one line.', expectedOutput: 'One line.' } }, { credentials });
    const [out] = await node.input({ payload: { subject: 'pgvector' } });
    expect(out!.msg.payload).toBe('pgvector is a Postgres extension.');
    expect(out!.msg.agent).toMatchObject({ role: 'Researcher', model: 'fake-model', iterations: 1, usage: { promptTokens: 120, completionTokens: 6 } });
    expect(node.progress.filter((p: any) => p.type === 'token').map((p: any) => p.text)).toEqual(['pgvector ', 'is a ', 'Postgres extension.']);
    expect(node.usages).toEqual([{ model: 'fake-model', promptTokens: 120, completionTokens: 6, costUsd: 0.000132 }]);
    expect(servers.current.requests[0]!.body.messages[0].content).toContain('You are Researcher.');
  });

  it('takes msg.payload as the task when no description is set, and returns parsed JSON with an output schema', async () => {
    const credentials = await fakeOpenAI(() => ({ json: openAIAnswer('{"sentiment":"positive"}') }));
    const node = await createTestNode(
      agentNode,
      { role: 'Classifier', goal: 'Classify sentiment', stream: false, task: { outputSchema: { type: 'object', properties: { sentiment: { enum: ['positive', 'negative'] } }, required: ['sentiment'] } } },
      { credentials },
    );
    const [out] = await node.input({ payload: 'I love this product' });
    expect(out!.msg.payload).toEqual({ sentiment: 'positive' });
    expect(lastUser(servers.current.requests[0]!.body)).toContain('Current task: I love this product');
    expect(servers.current.requests[0]!.body.response_format.type).toBe('json_schema');
  });

  it('hands node types usable as tools to the model, with the fixed props hidden, and runs calls through the runtime', async () => {
    const listTools = (): ToolDescription[] => [
      {
        type: 'http-request',
        label: 'HTTP request',
        description: 'Send an HTTP request',
        parameters: { type: 'object', properties: { url: { type: 'string' }, method: { enum: ['GET', 'POST'] } }, required: ['url', 'method'] },
      },
    ];
    const credentials = await fakeOpenAI((body, i) =>
      i === 0 ? { json: openAIAnswer(null, [{ id: 'c1', name: 'fetch_status', arguments: '{"url":"https://status.example.com"}' }]) } : { json: openAIAnswer(`Status: ${body.messages.at(-1).content}`) },
    );
    const node = await createTestNode(
      agentNode,
      { role: 'Ops', goal: 'Check status', stream: false, tools: [{ type: 'http-request', name: 'fetch_status', description: 'Fetch a status page', props: { method: 'GET' } }] },
      { credentials, services: { listTools }, callTool: async (call) => [{ payload: { status: 'operational', method: call.props.method } }] },
    );
    const [out] = await node.input({ payload: 'Is the service up?' });
    expect(out!.msg.payload).toBe('Status: {"status":"operational","method":"GET"}');
    expect(node.toolCalls).toEqual([{ type: 'http-request', props: { url: 'https://status.example.com', method: 'GET' }, label: 'fetch_status' }]);
    expect(servers.current.requests[0]!.body.tools).toEqual([
      { type: 'function', function: { name: 'fetch_status', description: 'Fetch a status page', parameters: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] } } },
    ]);
  });

  it('refuses at deploy a tool type that is not usable as a tool', async () => {
    await expect(createTestNode(agentNode, { role: 'r', goal: 'g', tools: [{ type: 'function' }] }, { services: { listTools: () => [] } })).rejects.toThrow(
      'tool "function" is not a node type usable as a tool (available: none installed)',
    );
  });

  it('uses MCP server tools, each call recorded as an ai-mcp-tool invocation', async () => {
    const credentials = await fakeOpenAI((body, i) =>
      i === 0 ? { json: openAIAnswer(null, [{ id: 'c1', name: 'calc_add', arguments: '{"a":20,"b":22}' }]) } : { json: openAIAnswer(`The sum is ${body.messages.at(-1).content}.`) },
    );
    const mcpServers = [{ name: 'calc', transport: 'stdio' as const }];
    const node = await createTestNode(agentNode, { role: 'Calculator', goal: 'Add', stream: false, mcpServers, mcp: [{ server: 'calc', tools: ['add'] }] }, { credentials, callTool: toolRunner([mcpToolNode]) });
    const [out] = await node.input({ payload: 'What is 20 + 22?' });
    expect(out!.msg.payload).toBe('The sum is 42.');
    expect(node.toolCalls).toEqual([{ type: 'ai-mcp-tool', props: { server: mcpServers[0], tool: 'add', arguments: { a: 20, b: 22 } }, label: 'calc/add' }]);
  });

  it('fails the invocation with a clear error when the agent loops past max iterations', async () => {
    const credentials = await fakeOpenAI(() => ({ json: openAIAnswer(null, [{ id: 'c', name: 'ping', arguments: '{}' }]) }));
    const listTools = () => [{ type: 'ping', label: 'Ping', description: 'Ping', parameters: { type: 'object', properties: {} } }];
    const node = await createTestNode(agentNode, { role: 'Pinger', goal: 'Ping', stream: false, maxIterations: 2, tools: [{ type: 'ping' }] }, { credentials, services: { listTools }, callTool: async () => [{ payload: 'pong' }] });
    await expect(node.input({ payload: 'ping forever' })).rejects.toThrow(
      'Agent "Pinger" reached its limit of 2 iterations on task "task" without a final answer (last step: called "ping"). ' + "Raise the agent's maxIterations setting",
    );
    expect(node.statuses.at(-1)).toMatchObject({ fill: 'red' });
  });

  it('fails the invocation with the provider\'s reason after retries', async () => {
    const credentials = await fakeOpenAI(() => ({ status: 500, json: { error: { message: 'model crashed' } } }));
    const node = await createTestNode(agentNode, { role: 'r', goal: 'g', stream: false }, { credentials: { ...credentials, maxRetries: 0 } });
    await expect(node.input({ payload: 'x' })).rejects.toThrow(/HTTP 500 Internal Server Error: model crashed/);
  });

  it('remembers results across runs and recalls the relevant one', async () => {
    // Chat answers depend on whether a memory was recalled; embeddings come from a feature-hashing embedder.
    const server = await servers.start(async (req) => {
      if (req.path.endsWith('/embeddings')) return { json: { data: (await embedder.embed(req.body.input)).map((embedding, index) => ({ index, embedding })) } };
      return { json: openAIAnswer(lastUser(req.body).includes('What you remember') ? 'I recall the earlier answer.' : 'Paris is the capital of France.') };
    });
    const node = await createTestNode(agentNode, { role: 'Geographer', goal: 'Answer', stream: false, memory: true, store: 'sqlite' }, { credentials: openAICredential(server) });
    expect((await node.input({ payload: 'What is the capital of France?' }))[0]!.msg.payload).toBe('Paris is the capital of France.');
    expect((await node.input({ payload: 'Remind me: the capital of France?' }))[0]!.msg.payload).toBe('I recall the earlier answer.');
    const recallPrompt = lastUser(server.requests.filter((r) => r.path.endsWith('/chat/completions')).at(-1)!.body);
    expect(recallPrompt).toContain('- Task: What is the capital of France?\nResult: Paris is the capital of France.');
    await node.stop();
  });
});

describe('choosing the model at deploy', () => {
  it('reports a node set to use a credential that has none before any run', async () => {
    await expect(createTestNode(agentNode, { role: 'r', goal: 'g', provider: 'credential' })).rejects.toThrow('this node is set to use a credential but has none');
  });

  it('reports an incomplete or unknown credential by field, never showing secrets', async () => {
    await expect(createTestNode(agentNode, { role: 'r', goal: 'g' }, { credentials: { provider: 'anthropic', model: 'claude' } })).rejects.toThrow('the anthropic credential is missing "apiKey"');
    await expect(createTestNode(agentNode, { role: 'r', goal: 'g' }, { credentials: { provider: 'gemini', apiKey: 'secret-key' } })).rejects.toThrow(/must be one of openai-compatible, anthropic, local-gguf \(got "gemini"\)$/);
  });

  it('refuses a local model path that does not exist', async () => {
    await expect(createTestNode(agentNode, { role: 'r', goal: 'g', modelPath: '/nowhere/model.gguf' })).rejects.toThrow('model file /nowhere/model.gguf does not exist: correct modelPath, or leave it empty to use the default local model');
    await expect(createTestNode(agentNode, { role: 'r', goal: 'g' }, { credentials: { provider: 'local-gguf', modelPath: '/nowhere/other.gguf' } })).rejects.toThrow(
      'model file /nowhere/other.gguf does not exist: correct modelPath in the node\'s local-gguf "ai-model" credential',
    );
  });

  it('deploys without a default local model but fails each run saying how to get one', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'flowcrew-models-'));
    const saved = { models: process.env.FLOWCREW_MODELS_DIR, model: process.env.FLOWCREW_MODEL_PATH };
    process.env.FLOWCREW_MODELS_DIR = empty;
    delete process.env.FLOWCREW_MODEL_PATH;
    try {
      const node = await createTestNode(agentNode, { role: 'r', goal: 'g' });
      expect(node.statuses[0]).toMatchObject({ fill: 'red', text: expect.stringContaining('no local model found') });
      await expect(node.input({ payload: 'hi' })).rejects.toThrow(`no local model found in ${empty}: run scripts/fetch-model (npm start does it once) to fetch the SmolLM2 model`);
      await expect(node.input({ payload: 'hi' })).rejects.toThrow('or attach an "ai-model" credential to this node');
    } finally {
      if (saved.models === undefined) delete process.env.FLOWCREW_MODELS_DIR;
      else process.env.FLOWCREW_MODELS_DIR = saved.models;
      if (saved.model !== undefined) process.env.FLOWCREW_MODEL_PATH = saved.model;
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe.skipIf(skipLocalModelTests)('ai-agent on the local model', () => {
  it('answers with JSON matching the task schema, held to it by a grammar', async () => {
    requireLocalModel();
    const schema = { type: 'object', properties: { language: { enum: ['French', 'German', 'Spanish'] }, confidence: { type: 'integer', minimum: 0, maximum: 10 } }, required: ['language', 'confidence'] };
    const node = await createTestNode(agentNode, { role: 'Linguist', goal: 'Identify languages', maxTokens: 40, task: { outputSchema: schema } });
    const [out] = await node.input({ payload: 'Which language is "Bonjour, comment allez-vous?"' });
    expect(out!.msg.payload).toEqual({ language: expect.stringMatching(/^(French|German|Spanish)$/), confidence: expect.any(Number) });
    expect(node.usages[0]).toMatchObject({ model: 'SmolLM2-135M-Instruct.Q4_1.gguf', costUsd: 0 });
  }, 180_000); // loads the model and answers on two cores shared with other suites: 30 s+ at load 15-20
});
