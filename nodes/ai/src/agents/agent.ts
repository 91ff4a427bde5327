/**
 * One agent working one task: prompt the model, run the tools it asks for, feed the results back, until it gives a
 * final answer (checked against the task's output schema, with the validation errors handed back to it when it
 * misses) or it runs out of iterations, which is an error that says so, never a silent partial result.
 */
import type { InputContext, JsonSchema, ModelUsage } from '@flowcrew/sdk';
import { ModelOutputError, errorMessage } from '../providers/errors.ts';
import type { ChatMessage, ChatResult, ModelProvider, TokenUsage, ToolCallRequest } from '../providers/types.ts';
import type { AgentTool } from '../tools/types.ts';
import type { AgentMemory } from './memory.ts';
import { correctionPrompt, systemPrompt, taskPrompt } from './prompts.ts';
import { OutputSchema } from './structured-output.ts';

export interface Agent {
  /** Key within a crew (or the node id for a standalone agent). */
  key: string;
  role: string;
  goal: string;
  backstory: string;
  provider: ModelProvider;
  tools: AgentTool[];
  /** Model calls allowed for one task, tool rounds included. */
  maxIterations: number;
  allowDelegation: boolean;
  memory?: AgentMemory;
  temperature?: number;
  maxTokens?: number;
}

export interface AgentTask {
  key: string;
  description: string;
  expectedOutput?: string;
  context?: Array<{ label: string; text: string }>;
  outputSchema?: OutputSchema;
  /** Tools for this task only (a crew's delegation tools). */
  extraTools?: AgentTool[];
}

export type AgentProgress =
  | { type: 'task-start'; task: string; agent: string }
  | { type: 'token'; task: string; agent: string; text: string }
  | { type: 'retry'; task: string; agent: string; attempt: number; delayMs: number; reason: string }
  | { type: 'tool-call'; task: string; agent: string; tool: string; arguments: Record<string, unknown> }
  | { type: 'tool-result'; task: string; agent: string; tool: string; ok: boolean; error?: string }
  | { type: 'answer-rejected'; task: string; agent: string; problem: string }
  | { type: 'task-end'; task: string; agent: string }
  | { type: 'crew-plan'; text: string }
  | { type: 'delegation'; task: string; from: string; to: string; instructions: string }
  | { type: 'review'; task: string; agent: string; approved: boolean; feedback: string };

/** What an agent needs from the invocation it runs in. */
export interface AgentEnvironment {
  signal: AbortSignal;
  callTool: InputContext['callTool'];
  progress(event: AgentProgress): void;
  recordUsage(usage: ModelUsage): void;
  /** Stream tokens as progress events (default true). */
  stream?: boolean;
}

export interface TaskOutcome {
  task: string;
  agent: string;
  /** The final answer as text. */
  output: string;
  /** The parsed answer when the task has an output schema. */
  json?: unknown;
  iterations: number;
  toolCalls: Array<{ tool: string; ok: boolean }>;
  usage: TokenUsage;
  /** The answer hit the token limit (free-text answers only; a cut-off JSON answer is retried). */
  truncated: boolean;
}

export class AgentLoopError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentLoopError';
  }
}

/** Attempts to fix an unusable final answer (empty, not JSON, schema mismatch) before failing. */
const MAX_ANSWER_RETRIES = 2;

export async function runAgentTask(agent: Agent, task: AgentTask, env: AgentEnvironment): Promise<TaskOutcome> {
  const tools = [...agent.tools, ...(task.extraTools ?? [])];
  const byName = new Map(tools.map((t) => [t.spec.name, t]));
  const memories = agent.memory ? await agent.memory.recall(task.description, env.signal) : [];
  const schema = task.outputSchema?.schema as JsonSchema | undefined;
  const messages: ChatMessage[] = [
    { role: 'system', content: systemPrompt(agent, tools.length > 0) },
    { role: 'user', content: taskPrompt({ description: task.description, expectedOutput: task.expectedOutput, context: task.context, memories, outputSchema: schema }) },
  ];
  const outcome: TaskOutcome = { task: task.key, agent: agent.role, output: '', iterations: 0, toolCalls: [], usage: { promptTokens: 0, completionTokens: 0 }, truncated: false };
  const where = { task: task.key, agent: agent.role };
  env.progress({ type: 'task-start', ...where });

  let answerRetries = 0;
  let offerTools = tools.length > 0;
  let lastStep = 'no step yet';
  while (outcome.iterations < agent.maxIterations + answerRetries) {
    env.signal.throwIfAborted();
    outcome.iterations++;
    const result = await callModel(agent, messages, offerTools ? tools : [], schema, env, where);
    outcome.usage.promptTokens += result.usage.promptTokens;
    outcome.usage.completionTokens += result.usage.completionTokens;

    if (result.toolCalls.length > 0) {
      messages.push({ role: 'assistant', content: result.content, toolCalls: result.toolCalls });
      for (const call of result.toolCalls) {
        const reply = await runToolCall(call, byName, env, where);
        outcome.toolCalls.push({ tool: call.name, ok: !reply.isError });
        messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content: reply.content, isError: reply.isError });
      }
      lastStep = `called ${result.toolCalls.map((c) => `"${c.name}"`).join(', ')}`;
      continue;
    }

    const answer = result.content.trim();
    let problem: string | undefined;
    if (!answer) problem = 'the answer was empty';
    else if (task.outputSchema) {
      const checked = task.outputSchema.check(answer);
      if (checked.ok) return finish(outcome, answer, checked.value, result, env, agent, task);
      problem = result.finishReason === 'length' ? `was cut off at the token limit and ${checked.problem}` : checked.problem;
    } else return finish(outcome, answer, undefined, result, env, agent, task);

    if (answerRetries >= MAX_ANSWER_RETRIES) {
      throw new ModelOutputError(
        `Agent "${agent.role}" gave no usable answer to task "${task.key}" after ${answerRetries + 1} attempts: its answer ${problem}. ` +
          `Last answer: ${JSON.stringify(answer.slice(0, 300))}`,
        { answer },
      );
    }
    answerRetries++;
    env.progress({ type: 'answer-rejected', ...where, problem });
    messages.push({ role: 'assistant', content: result.content }, { role: 'user', content: correctionPrompt(problem, schema) });
    // Without tools on offer a local model can be held to the schema by a grammar.
    offerTools = false;
    lastStep = 'gave an unusable answer';
  }
  throw new AgentLoopError(
    `Agent "${agent.role}" reached its limit of ${agent.maxIterations} iterations on task "${task.key}" without a final answer (last step: ${lastStep}). ` +
      "Raise the agent's maxIterations setting, give it fewer tools, or simplify the task.",
  );
}

async function finish(outcome: TaskOutcome, answer: string, json: unknown, result: ChatResult, env: AgentEnvironment, agent: Agent, task: AgentTask): Promise<TaskOutcome> {
  outcome.output = answer;
  if (json !== undefined) outcome.json = json;
  outcome.truncated = result.finishReason === 'length';
  if (agent.memory) await agent.memory.remember(task.description, answer, env.signal);
  env.progress({ type: 'task-end', task: task.key, agent: agent.role });
  return outcome;
}

async function callModel(
  agent: Agent,
  messages: ChatMessage[],
  tools: AgentTool[],
  schema: JsonSchema | undefined,
  env: AgentEnvironment,
  where: { task: string; agent: string },
): Promise<ChatResult> {
  const result = await agent.provider.chat({
    messages,
    tools: tools.map((t) => t.spec),
    responseSchema: schema,
    temperature: agent.temperature,
    maxTokens: agent.maxTokens,
    signal: env.signal,
    onText: env.stream === false ? undefined : (text) => env.progress({ type: 'token', ...where, text }),
    onRetry: (info) => env.progress({ type: 'retry', ...where, ...info }),
  });
  const costUsd = agent.provider.cost?.(result.usage);
  env.recordUsage({
    model: result.model,
    promptTokens: result.usage.promptTokens,
    completionTokens: result.usage.completionTokens,
    ...(costUsd === undefined ? {} : { costUsd }),
  });
  return result;
}

/** A failed tool call is reported to the model (it may recover); it does not fail the task by itself. */
async function runToolCall(
  call: ToolCallRequest,
  tools: Map<string, AgentTool>,
  env: AgentEnvironment,
  where: { task: string; agent: string },
): Promise<{ content: string; isError: boolean }> {
  const tool = tools.get(call.name);
  if (!tool) {
    const known = [...tools.keys()].join(', ') || 'none';
    env.progress({ type: 'tool-result', ...where, tool: call.name, ok: false, error: 'unknown tool' });
    return { content: `Error: there is no tool named "${call.name}". Available tools: ${known}.`, isError: true };
  }
  if (call.invalidArguments !== undefined) {
    env.progress({ type: 'tool-result', ...where, tool: call.name, ok: false, error: 'invalid arguments' });
    return { content: `Error: the arguments must be a JSON object; got ${JSON.stringify(call.invalidArguments.slice(0, 200))}.`, isError: true };
  }
  env.progress({ type: 'tool-call', ...where, tool: call.name, arguments: call.arguments });
  try {
    const content = await tool.invoke(call.arguments, { callTool: env.callTool, signal: env.signal });
    env.progress({ type: 'tool-result', ...where, tool: call.name, ok: true });
    return { content, isError: false };
  } catch (error) {
    if (env.signal.aborted) throw error;
    env.progress({ type: 'tool-result', ...where, tool: call.name, ok: false, error: errorMessage(error) });
    return { content: `Error: ${errorMessage(error)}`, isError: true };
  }
}
