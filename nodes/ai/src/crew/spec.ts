/**
 * A crew as plain data: what the crew node's props hold, what a CrewAI import produces, and what is checked at
 * deploy (every task's agent exists, context only names earlier tasks) so a broken crew never starts a run.
 */
import type { JsonSchema } from '@flowcrew/sdk';
import { mcpServerSchema } from '../tools/mcp.ts';
import { nodeToolConfigSchema, type NodeToolConfig } from '../tools/node-tools.ts';
import { AGENT_TEMPLATES } from '../agents/templates.ts';
import type { ContextOverflowPolicy } from '../providers/types.ts';
import { guardrailFunctionSchema } from './function-guardrail.ts';

export interface McpToolsRef {
  /** Name of a server in the node's mcpServers. */
  server: string;
  /** Only these tools (default: all the server offers). */
  tools?: string[];
}

/** What describes one agent, in an ai-agent node's props and in each agent of a crew (schema: agentFieldsSchema). */
export interface AgentFields {
  template?: string;
  role?: string;
  goal?: string;
  backstory?: string;
  tools?: NodeToolConfig[];
  mcp?: McpToolsRef[];
  maxIterations?: number;
  memory?: boolean;
  temperature?: number;
  maxTokens?: number;
  /** Model calls per minute at most (across the runs of the deployed node); more wait their turn. */
  maxRpm?: number;
  /** Longest time one task may take, in seconds; then it fails saying so. */
  maxExecutionSeconds?: number;
  /** Write a short plan before each task and work from it. */
  reasoning?: boolean;
  /** Tell the agent today's date (YYYY-MM-DD) with each task. */
  injectDate?: boolean;
  /** When a prompt does not fit the model's context window: fail (default) or cut it with a recorded note. */
  contextOverflow?: ContextOverflowPolicy;
}

/** An agent of a crew (schema: agentSpecSchema). */
export interface AgentSpec extends AgentFields {
  key: string;
  allowDelegation?: boolean;
  /** Another model on the same provider (a model name, or a GGUF path for the local provider). */
  model?: string;
  /** An AI model credential of its own (another provider or account than the node's); `model`/`llm` then pick within it. */
  credential?: string;
  /** When the agent's model fails a call for good: another model on the node's provider, or "local" (the local model). */
  fallbackModel?: string;
  /**
   * A CrewAI model reference ("openai/gpt-4o", "anthropic/claude-..."): its model name is used when the node's
   * credential is of that provider; otherwise the node's model runs the agent (said at deploy). `model` wins.
   */
  llm?: string;
}

export interface TaskSpec {
  key: string;
  /** Required, except on a task that adds to an imported CrewAI task of the same key. */
  description?: string;
  /** Shown in progress and output instead of the key. */
  name?: string;
  expectedOutput?: string;
  /** Agent key; required in a sequential crew, a hint to the manager in a hierarchical one. */
  agent?: string;
  /** Keys of earlier tasks whose outputs this task gets; absent: every earlier task's (as in CrewAI); []: none. */
  context?: string[];
  outputSchema?: JsonSchema;
  /** Ask for the answer formatted as Markdown. */
  markdown?: boolean;
  /** CrewAI's human_input: a person reviews the answer (the run waits); feedback sends it back to the agent. */
  humanInput?: boolean;
  /** CrewAI's async_execution: the crew goes on while it runs; the next task that is not async waits for it. */
  asyncExecution?: boolean;
  /** Rules the answer must follow, each checked by the agent's model; a failed check sends the task back with why. */
  guardrails?: string[];
  /** JavaScript run in the function sandbox on each answer (CrewAI's function guardrail): pass, refuse with a reason, or replace it. */
  guardrailFunction?: string;
  /** How many times a task whose answer fails a guardrail is redone (default 3), before the crew fails. */
  guardrailMaxRetries?: number;
  /** Tools for this task only; they replace the agent's own (CrewAI's task tools). */
  tools?: NodeToolConfig[];
  mcp?: McpToolsRef[];
}

const keyPattern = '^[A-Za-z0-9_.-]+$';

/** Each template's text for one agent field, by template name (the editor's greyed hint in an empty field). */
function templateText(field: 'role' | 'goal' | 'backstory') {
  return { prop: 'template', values: Object.fromEntries(Object.entries(AGENT_TEMPLATES).map(([name, t]) => [name, t[field]])) };
}

export const agentFieldsSchema = {
  // No `default`s on agent fields: an inline agent that extends an imported CrewAI agent must not reset its values.
  template: { enum: ['', ...Object.keys(AGENT_TEMPLATES)], description: 'Fill empty role/goal/backstory from a ready-made role.' },
  // The editor shows the chosen template's text, greyed, in the empty fields it fills (x-placeholderFrom).
  role: { type: 'string', 'x-placeholderFrom': templateText('role'), description: 'Who the agent is, e.g. "Senior market researcher". {placeholders} come from the input message. Empty: the template\'s (shown greyed).' },
  goal: { type: 'string', 'x-placeholderFrom': templateText('goal') },
  backstory: { type: 'string', 'x-placeholderFrom': templateText('backstory') },
  tools: { type: 'array', items: nodeToolConfigSchema, description: 'Node types usable as tools (HTTP request, database query, ai-retrieve...).' },
  mcp: {
    type: 'array',
    items: { type: 'object', required: ['server'], properties: { server: { type: 'string' }, tools: { type: 'array', items: { type: 'string' } } } },
    description: 'Tools from the MCP servers declared on the node.',
  },
  maxIterations: { type: 'integer', minimum: 1, maximum: 50, description: 'Model calls allowed per task, tool rounds included (default 6).' },
  memory: { type: 'boolean', description: 'Remember results across runs (vector store) and recall relevant ones.' },
  temperature: { type: 'number', minimum: 0, maximum: 2 },
  maxTokens: { type: 'integer', minimum: 1, description: 'Max tokens per model answer.' },
  maxRpm: { type: 'integer', minimum: 1, description: 'Model calls per minute at most (CrewAI max_rpm); more wait their turn.' },
  maxExecutionSeconds: { type: 'number', exclusiveMinimum: 0, description: 'Longest time one task may take (CrewAI max_execution_time); then it fails saying so.' },
  reasoning: { type: 'boolean', description: 'Write a short plan before each task and work from it (CrewAI reasoning).' },
  injectDate: { type: 'boolean', description: "Tell the agent today's date with each task (CrewAI inject_date)." },
  contextOverflow: {
    enum: ['fail', 'truncate'],
    description: "When a prompt does not fit the local model's context window: fail (default) or cut the middle of the longest messages, noted in the output.",
  },
} as const;

export const agentSpecSchema: JsonSchema = {
  type: 'object',
  required: ['key'],
  properties: {
    key: { type: 'string', pattern: keyPattern, description: 'Name tasks use to pick this agent.' },
    ...agentFieldsSchema,
    allowDelegation: { type: 'boolean', description: 'May hand work or questions to the other agents of the crew.' },
    model: { type: 'string', description: 'Use another model on the same provider (model name, or a .gguf path for the local model).' },
    credential: { type: 'string', minLength: 1, description: 'Id of an AI model credential of its own (another provider or account than the node\'s); model and llm then pick within it.' },
    llm: { type: 'string', description: 'CrewAI model reference (openai/gpt-4o): its model name is used when the credential is of that provider.' },
    fallbackModel: { type: 'string', minLength: 1, description: 'When its model fails a call for good: another model on the same provider, or "local" for the local model.' },
  },
};

export const taskSpecSchema: JsonSchema = {
  type: 'object',
  required: ['key'],
  properties: {
    key: { type: 'string', pattern: keyPattern, description: 'The task; the key of a CrewAI task adds to it (agent, context, tools, output schema).' },
    description: { type: 'string', minLength: 1, description: 'What to do. {placeholders} come from the input message. Required unless the key is a CrewAI task.' },
    name: { type: 'string', description: 'Shown instead of the key.' },
    expectedOutput: { type: 'string', description: 'What a good answer looks like.' },
    // x-optionsFrom: the editor offers the crew node's agents and tasks as choices (paths from the node's props).
    agent: { type: 'string', description: 'Key of the agent that does it.', 'x-optionsFrom': '/agents/*/key' },
    context: {
      type: 'array',
      items: { type: 'string', 'x-optionsFrom': '/tasks/*/key' },
      description: "Keys of earlier tasks whose output it needs. Not set: every earlier task's output (as in CrewAI); empty: none.",
    },
    outputSchema: { type: 'object', description: 'JSON Schema the answer must match; the answer is then parsed JSON.' },
    markdown: { type: 'boolean', description: 'Ask for the answer formatted as Markdown.' },
    humanInput: { type: 'boolean', description: 'A person reviews the answer before the crew goes on (the run waits, answered in the editor, by API or a signed link); feedback sends the task back to its agent.' },
    asyncExecution: { type: 'boolean', description: 'CrewAI async_execution: the crew starts the next task without waiting for this one; the next task that is not async waits for it (and gets its answer).' },
    guardrails: { type: 'array', items: { type: 'string', minLength: 1 }, description: "Rules the answer must follow, each checked by the agent's model; a failed check sends the task back." },
    guardrailFunction: guardrailFunctionSchema,
    guardrailMaxRetries: { type: 'integer', minimum: 0, maximum: 10, description: 'Times a task is redone after a failed guardrail (default 3).' },
    tools: { type: 'array', items: nodeToolConfigSchema, description: "Tools for this task only; they replace the agent's own." },
    mcp: agentFieldsSchema.mcp,
  },
};

export { mcpServerSchema };

