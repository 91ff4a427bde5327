/**
 * Per-call overhead the platform adds around a model provider call (target: under 2 ms). Figures printed, never asserted.
 *
 * 1. ai-agent node, full path (props → prompt → OpenAI-compatible provider → HTTP → parse → usage → output message)
 *    against a local server that answers instantly, minus a bare fetch + JSON.parse of the same answer from the same server.
 * 2. The same with streaming (SSE parsing, a progress event per token), minus a bare fetch reading the same stream.
 * 3. The agent loop alone around a zero-cost in-process model (prompt building, schema check, usage, progress).
 *
 * Usage: node --import tsx bench/ai-provider-overhead.ts [--calls 2000]
 */
import { createTestNode } from '@flowcrew/sdk/testing';
import { createOutboundGuard } from '../runtime/src/outbound/index.ts';
import { runAgentTask, type Agent } from '../nodes/ai/src/agents/agent.ts';
import { OutputSchema } from '../nodes/ai/src/agents/structured-output.ts';
import { agentNode } from '../nodes/ai/src/nodes/agent-node.ts';
import { ScriptedProvider } from '../nodes/ai/src/providers/scripted.ts';
import { openAIAnswer, openAITextStream, startFakeModelServer } from '../nodes/ai/src/testing/fake-model-server.ts';

const args = process.argv.slice(2);
const i = args.indexOf('--calls');
const calls = i >= 0 ? Number(args[i + 1]) : 2000;

const answer = openAIAnswer('The capital of France is Paris.');
const stream = openAITextStream(['The ', 'capital ', 'of ', 'France ', 'is ', 'Paris.']);

async function time(n: number, fn: () => Promise<unknown>): Promise<number> {
  for (let k = 0; k < Math.min(200, n); k++) await fn(); // warm up: JIT, sockets, caches
  const start = process.hrtime.bigint();
  for (let k = 0; k < n; k++) await fn();
  return Number(process.hrtime.bigint() - start) / 1e6 / n;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${(ms * 1000).toFixed(0).padStart(6)} µs`;

async function httpOverhead(streaming: boolean): Promise<void> {
  const server = await startFakeModelServer(() => (streaming ? { sse: stream } : { json: answer }));
  const url = `${server.url}/v1/chat/completions`;
  const body = JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'What is the capital of France?' }] });
  const bare = async () => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (streaming) await res.text();
    else JSON.parse(await res.text());
  };
  // Through the runtime's outbound guard, as in production (the fake server on loopback is allow-listed).
  const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
  const node = await createTestNode(agentNode, { role: 'Geographer', goal: 'Answer questions', stream: streaming }, { credentials: { provider: 'openai-compatible', baseUrl: `${server.url}/v1`, model: 'fake-model' }, services: { outbound } });
  const viaNode = async () => {
    await node.input({ payload: 'What is the capital of France?' });
    node.usages.length = 0;
    node.progress.length = 0;
  };
  // Alternate the two measurements so drift in machine load hits both alike.
  const bareTimes: number[] = [];
  const nodeTimes: number[] = [];
  for (let round = 0; round < 5; round++) {
    bareTimes.push(await time(calls / 5, bare));
    nodeTimes.push(await time(calls / 5, viaNode));
  }
  const b = median(bareTimes);
  const n = median(nodeTimes);
  console.log(`${streaming ? 'streaming    ' : 'non-streaming'}  bare fetch ${fmt(b)}   ai-agent node ${fmt(n)}   overhead ${fmt(n - b)} per call`);
  await node.stop();
  await outbound.close();
  await server.close();
}

async function loopOverhead(): Promise<void> {
  const provider = new ScriptedProvider(() => '{"answer":"Paris"}');
  const agent: Agent = { key: 'a', role: 'Geographer', goal: 'Answer', backstory: 'Knows maps.', provider, tools: [], maxIterations: 3, allowDelegation: false };
  const schema = new OutputSchema({ type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] });
  const env = { signal: new AbortController().signal, callTool: async () => [], progress: () => undefined, recordUsage: () => undefined };
  const perCall = await time(calls, async () => {
    provider.requests.length = 0;
    await runAgentTask(agent, { key: 't', description: 'Capital of France?', expectedOutput: 'JSON', outputSchema: schema }, env);
  });
  console.log(`agent loop around a zero-cost model (prompt, schema check, usage, progress): ${fmt(perCall)} per call`);
}

console.log(`Per-call overhead around a provider call (${calls} calls each, median of 5 rounds; target < 2000 µs)`);
await httpOverhead(false);
await httpOverhead(true);
await loopOverhead();
