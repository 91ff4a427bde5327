/**
 * One agent working one task: prompt the model, run the tools it asks for, feed the results back, until it gives a
 * final answer (checked against the task's output schema, with the validation errors handed back to it when it
 * misses) or it runs out of iterations, which is an error that says so, never a silent partial result.
 */
import type { InputContext, JsonSchema, ModelUsage } from '@flowcrew/sdk';
import { ModelOutputError, errorMessage } from '../providers/errors.ts';
import type { ChatMessage, ChatResult, ContextOverflowPolicy, ModelProvider, TokenUsage, ToolCallRequest } from '../providers/types.ts';
import type { AgentTool } from '../tools/types.ts';
import type { Knowledge, Memory } from './memory.ts';
import { correctionPrompt, reasoningPrompt, systemPrompt, taskPrompt } from './prompts.ts';
import type { RequestsPerMinute } from './rate-limit.ts';
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
  memory?: Memory;
  /** Passages from the crew's knowledge sources, found by the task's description. */
  knowledge?: Knowledge;
  temperature?: number;
  maxTokens?: number;
  /** Shared by every call of this agent (CrewAI max_rpm). */
  rateLimit?: RequestsPerMinute;
  /** Longest time one task may take, in seconds (CrewAI max_execution_time). */
  maxExecutionSeconds?: number;
  /** Write a plan before each task (CrewAI reasoning). */
  reasoning?: boolean;
  /** Tell the agent today's date with each task (CrewAI inject_date). */
  injectDate?: boolean;
  /** What the provider does when a prompt does not fit the model's window (default: fail). */
  contextOverflow?: ContextOverflowPolicy;
}

export interface AgentTask {
  key: string;
  description: string;
  expectedOutput?: string;
  context?: Array<{ label: string; text: string }>;
  outputSchema?: OutputSchema;
  /** Ask for the answer as Markdown. */
  markdown?: boolean;
  /** Tools for this task in place of the agent's own (CrewAI's task tools). */
  tools?: AgentTool[];
  /** Tools for this task on top (a crew's delegation tools); not counted as offered tools left unused. */
  extraTools?: AgentTool[];
}

export type AgentProgress =
  | { type: 'task-start'; task: string; agent: string }
  | { type: 'token'; task: string; agent: string; text: string }
  | { type: 'retry'; task: string; agent: string; attempt: number; delayMs: number; reason: string }
  | { type: 'tool-call'; task: string; agent: string; tool: string; arguments: Record<string, unknown> }
  | { type: 'tool-result'; task: string; agent: string; tool: string; ok: boolean; error?: string }
  | { type: 'answer-rejected'; task: string; agent: string; problem: string }
  | { type: 'note'; task: string; agent: string; text: string }
  | { type: 'agent-plan'; task: string; agent: string; text: string }
  | { type: 'rate-limited'; task: string; agent: string; waitedMs: number }
  | { type: 'guardrail'; task: string; agent: string; rule: string; passed: boolean; feedback: string }
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
  /** Called before each model call; throwing stops the work (a spent budget). `next` says what the call is for. */
  beforeCall?(next: string): void;
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
  /** The task offered the agent tools and it used none. */
  toolsUnused: boolean;
  /** What the run should show about this task: tools offered and none used, answer cut at the token limit, prompt cut to the window. */
  notes: string[];
  /** The agent's plan, with reasoning on. */
  plan?: string;
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
  if (!agent.maxExecutionSeconds) return runTask(agent, task, env);
  const deadline = AbortSignal.timeout(Math.ceil(agent.maxExecutionSeconds * 1000));
  try {
    return await runTask(agent, task, { ...env, signal: AbortSignal.any([env.signal, deadline]) });
  } catch (error) {
    if (deadline.aborted && !env.signal.aborted) {
      throw new AgentLoopError(`Agent "${agent.role}" ran out of time on task "${task.key}": it may take at most ${agent.maxExecutionSeconds} s (max execution time)`);
    }
    throw error;
  }
}

async function runTask(agent: Agent, task: AgentTask, env: AgentEnvironment): Promise<TaskOutcome> {
  const own = task.tools ?? agent.tools;
  const tools = [...own, ...(task.extraTools ?? [])];
  const byName = new Map(tools.map((t) => [t.spec.name, t]));
  const memories = agent.memory ? await agent.memory.recall(task.description, env.signal) : [];
  const knowledge = agent.knowledge ? await agent.knowledge.search(task.description, env.signal, env) : [];
  const schema = task.outputSchema?.schema as JsonSchema | undefined;
  const prompt = {
    description: task.description,
    expectedOutput: task.expectedOutput,
    context: task.context,
    memories,
    knowledge,
    outputSchema: schema,
    markdown: task.markdown,
    date: agent.injectDate ? new Date().toISOString().slice(0, 10) : undefined,
  };
  const messages: ChatMessage[] = [
    { role: 'system', content: systemPrompt(agent, tools.length > 0) },
    { role: 'user', content: taskPrompt(prompt) },
  ];
  const outcome: TaskOutcome = {
    task: task.key,
    agent: agent.role,
    output: '',
    iterations: 0,
    toolCalls: [],
    usage: { promptTokens: 0, completionTokens: 0 },
    truncated: false,
    toolsUnused: false,
    notes: [],
  };
  const where = { task: task.key, agent: agent.role };
  const note = (text: string) => {
    outcome.notes.push(text);
    env.progress({ type: 'note', ...where, text });
  };
  env.progress({ type: 'task-start', ...where });

  if (agent.reasoning) {
    // CrewAI's reasoning: the agent plans first, then works with its plan in view.
    const planned = await callModel(agent, [messages[0]!, { role: 'user', content: reasoningPrompt(taskPrompt(prompt)) }], [], undefined, env, where);
    add(outcome.usage, planned);
    for (const n of planned.notes ?? []) note(n);
    outcome.plan = planned.content.trim();
    env.progress({ type: 'agent-plan', ...where, text: outcome.plan });
    if (outcome.plan) messages[1] = { role: 'user', content: taskPrompt({ ...prompt, context: [...(task.context ?? []), { label: 'Your plan', text: outcome.plan }] }) };
  }

  let answerRetries = 0;
  let offerTools = tools.length > 0;
  let lastStep = 'no step yet';
  while (outcome.iterations < agent.maxIterations + answerRetries) {
    env.signal.throwIfAborted();
    outcome.iterations++;
    const result = await callModel(agent, messages, offerTools ? tools : [], schema, env, where);
    add(outcome.usage, result);
    for (const n of result.notes ?? []) note(n);

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
      if (checked.ok) return finish(outcome, answer, checked.value, result, env, agent, task, own, note);
      problem = result.finishReason === 'length' ? `was cut off at the token limit and ${checked.problem}` : checked.problem;
    } else return finish(outcome, answer, undefined, result, env, agent, task, own, note);

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

function add(usage: TokenUsage, result: ChatResult): void {
  usage.promptTokens += result.usage.promptTokens;
  usage.completionTokens += result.usage.completionTokens;
}

async function finish(
  outcome: TaskOutcome,
  answer: string,
  json: unknown,
  result: ChatResult,
  env: AgentEnvironment,
  agent: Agent,
  task: AgentTask,
  offered: AgentTool[],
  note: (text: string) => void,
): Promise<TaskOutcome> {
  outcome.output = answer;
  if (json !== undefined) outcome.json = json;
  outcome.truncated = result.finishReason === 'length';
  if (outcome.truncated) note(`answer cut at the token limit (maxTokens ${agent.maxTokens ?? 'default'}): it may be incomplete; raise maxTokens for a complete answer`);
  const used = new Set(outcome.toolCalls.map((c) => c.tool));
  outcome.toolsUnused = offered.length > 0 && !offered.some((t) => used.has(t.spec.name));
  if (outcome.toolsUnused) note(`tools offered, none used: ${offered.map((t) => t.spec.name).join(', ')}`);
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
  env.beforeCall?.(`a model call of agent "${agent.role}" on task "${where.task}"`);
  if (agent.rateLimit) {
    const waitedMs = await agent.rateLimit.acquire(env.signal);
    if (waitedMs >= 1000) env.progress({ type: 'rate-limited', ...where, waitedMs });
  }
  const result = await agent.provider.chat({
    contextOverflow: agent.contextOverflow,
    messages,
    tools: tools.map((t) => t.spec),
    responseSchema: schema,
    temperature: agent.temperature,
    maxTokens: agent.maxTokens,
    signal: env.signal,
    onText: env.stream === false ? undefined : (text) => env.progress({ type: 'token', ...where, text }),
    onRetry: (info) => env.progress({ type: 'retry', ...where, ...info }),
  });
  // A provider that picks between models (a fallback) prices the call by the model that answered.
  const costUsd = result.costUsd ?? agent.provider.cost?.(result.usage);
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
