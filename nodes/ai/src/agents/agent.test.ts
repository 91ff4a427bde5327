import { describe, expect, it } from 'vitest';
import type { FlowMessage, ModelUsage, ToolCall } from '@flowcrew/sdk';
import { ScriptedProvider, type Script } from '../providers/scripted.ts';
import type { AgentTool } from '../tools/types.ts';
import { AgentLoopError, runAgentTask, type Agent, type AgentEnvironment, type AgentProgress } from './agent.ts';
import { OutputSchema } from './structured-output.ts';

function setup(script: Script, tools: AgentTool[] = [], overrides: Partial<Agent> = {}) {
  const provider = new ScriptedProvider(script);
  const agent: Agent = { key: 'a', role: 'Researcher', goal: 'Find facts', backstory: 'Careful.', provider, tools, maxIterations: 4, allowDelegation: false, ...overrides };
  const events: AgentProgress[] = [];
  const usages: ModelUsage[] = [];
  const calls: ToolCall[] = [];
  const env: AgentEnvironment = {
    signal: new AbortController().signal,
    callTool: async (call) => {
      calls.push(call);
      return [{ payload: { temperature: -5, city: call.props.city } } satisfies FlowMessage];
    },
    progress: (e) => events.push(e),
    recordUsage: (u) => usages.push(u),
  };
  return { provider, agent, env, events, usages, calls };
}

const weather: AgentTool = {
  spec: { name: 'weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
  async invoke(args, ctx) {
    const out = await ctx.callTool({ type: 'http-request', props: args, label: 'weather' });
    return JSON.stringify(out[0]!.payload);
  },
};

describe('an agent working a task', () => {
  it('prompts with its role, goal, backstory, the task and expected output, and returns the answer', async () => {
    const { agent, env, provider, usages, events } = setup(['Paris is the capital of France.']);
    const outcome = await runAgentTask(agent, { key: 'capital', description: 'What is the capital of France?', expectedOutput: 'One sentence.' }, env);
    expect(outcome).toMatchObject({ output: 'Paris is the capital of France.', iterations: 1, toolCalls: [], truncated: false });
    const [system, user] = provider.requests[0]!.messages;
    expect(system!.content).toContain('You are Researcher. Careful.');
    expect(system!.content).toContain('Your personal goal is: Find facts');
    expect(user!.content).toContain('Current task: What is the capital of France?');
    expect(user!.content).toContain('expected criteria for your final answer: One sentence.');
    expect(usages).toEqual([{ model: 'scripted', promptTokens: expect.any(Number), completionTokens: 6 }]);
    expect(events.filter((e) => e.type === 'token').map((e) => (e as { text: string }).text).join('')).toBe('Paris is the capital of France.');
  });

  it('calls tools through the runtime and feeds the results back until the final answer', async () => {
    const { agent, env, provider, calls, events } = setup(
      [{ toolCalls: [{ name: 'weather', arguments: { city: 'Oslo' } }] }, 'It is -5 degrees in Oslo.'],
      [weather],
    );
    const outcome = await runAgentTask(agent, { key: 't', description: 'Weather in Oslo?' }, env);
    expect(outcome.output).toBe('It is -5 degrees in Oslo.');
    expect(outcome.toolCalls).toEqual([{ tool: 'weather', ok: true }]);
    expect(calls).toEqual([{ type: 'http-request', props: { city: 'Oslo' }, label: 'weather' }]);
    const second = provider.requests[1]!.messages;
    expect(second.at(-1)).toMatchObject({ role: 'tool', name: 'weather', content: '{"temperature":-5,"city":"Oslo"}' });
    expect(events.map((e) => e.type)).toContain('tool-call');
  });

  it('tells the model about an unknown tool or a failing tool instead of failing the task', async () => {
    const failing: AgentTool = { spec: { name: 'db', description: 'query', parameters: { type: 'object' } }, invoke: async () => Promise.reject(new Error('connection refused')) };
    const { agent, env, provider } = setup(
      [{ toolCalls: [{ name: 'nope', arguments: {} }] }, { toolCalls: [{ name: 'db', arguments: {} }] }, 'Could not query the database.'],
      [failing],
    );
    const outcome = await runAgentTask(agent, { key: 't', description: 'Count users' }, env);
    expect(outcome.toolCalls).toEqual([
      { tool: 'nope', ok: false },
      { tool: 'db', ok: false },
    ]);
    expect(provider.requests[1]!.messages.at(-1)).toMatchObject({ role: 'tool', isError: true, content: 'Error: there is no tool named "nope". Available tools: db.' });
    expect(provider.requests[2]!.messages.at(-1)).toMatchObject({ role: 'tool', isError: true, content: 'Error: connection refused' });
  });

  it('stops an agent that keeps calling tools at max iterations with a clear error', async () => {
    const { agent, env } = setup(() => ({ toolCalls: [{ name: 'weather', arguments: { city: 'Oslo' } }] }), [weather], { maxIterations: 3 });
    const run = runAgentTask(agent, { key: 'loop', description: 'Weather?' }, env);
    await expect(run).rejects.toBeInstanceOf(AgentLoopError);
    await expect(runAgentTask(agent, { key: 'loop', description: 'Weather?' }, env)).rejects.toThrow(
      'Agent "Researcher" reached its limit of 3 iterations on task "loop" without a final answer (last step: called "weather")',
    );
  });

  it('sends schema violations back to the model and returns the parsed JSON once it conforms', async () => {
    const schema = { type: 'object', properties: { score: { type: 'integer', minimum: 0, maximum: 10 } }, required: ['score'], additionalProperties: false };
    const { agent, env, provider, events } = setup(['Sure! Here it is: {"score": 42}', '```json\n{"score": 7}\n```']);
    const outcome = await runAgentTask(agent, { key: 'rate', description: 'Rate it', outputSchema: new OutputSchema(schema) }, env);
    expect(outcome.json).toEqual({ score: 7 });
    expect(provider.requests[0]!.responseSchema).toEqual(schema);
    const correction = provider.requests[1]!.messages.at(-1)!;
    expect(correction.content).toContain('does not match the schema: at /score: must be <= 10');
    expect(events).toContainEqual(expect.objectContaining({ type: 'answer-rejected' }));
  });

  it('fails with the reason and the last answer when the model never produces valid JSON', async () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
    const { agent, env } = setup(() => 'I think it is fine');
    await expect(runAgentTask(agent, { key: 'check', description: 'Check', outputSchema: new OutputSchema(schema) }, env)).rejects.toThrow(
      'Agent "Researcher" gave no usable answer to task "check" after 3 attempts: its answer no JSON object or array found in the answer: "I think it is fine". Last answer: "I think it is fine"',
    );
  });

  it('reports a JSON answer cut off by the token limit as such', async () => {
    const schema = { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] };
    const { agent, env, provider } = setup([{ content: '{"summary": "The sky is blue. The sky', finishReason: 'length' }, '{"summary": "Blue sky."}']);
    const outcome = await runAgentTask(agent, { key: 's', description: 'Summarise', outputSchema: new OutputSchema(schema) }, env);
    expect(outcome.json).toEqual({ summary: 'Blue sky.' });
    expect(provider.requests[1]!.messages.at(-1)!.content).toContain('was cut off at the token limit');
  });

  it('retries an empty answer', async () => {
    const { agent, env } = setup(['  ', 'Done.']);
    expect((await runAgentTask(agent, { key: 't', description: 'Do it' }, env)).output).toBe('Done.');
  });

  it('stops when the run is cancelled', async () => {
    const controller = new AbortController();
    const { agent, env } = setup(() => {
      controller.abort(new Error('run cancelled'));
      return { toolCalls: [{ name: 'weather', arguments: { city: 'Oslo' } }] };
    }, [weather]);
    await expect(runAgentTask(agent, { key: 't', description: 'x' }, { ...env, signal: controller.signal })).rejects.toThrow('run cancelled');
  });
});
