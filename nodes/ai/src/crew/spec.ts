/**
 * A crew as plain data: what the crew node's props hold, what a CrewAI import produces, and what is checked at
 * deploy (every task's agent exists, context only names earlier tasks) so a broken crew never starts a run.
 */
import type { JsonSchema } from '@flowcrew/sdk';
import { mcpServerSchema } from '../tools/mcp.ts';
import { nodeToolConfigSchema, type NodeToolConfig } from '../tools/node-tools.ts';
import { AGENT_TEMPLATES } from '../agents/templates.ts';

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
}

/** An agent of a crew (schema: agentSpecSchema). */
export interface AgentSpec extends AgentFields {
  key: string;
  allowDelegation?: boolean;
  /** Another model on the same provider (a model name, or a GGUF path for the local provider). */
  model?: string;
}

export interface TaskSpec {
  key: string;
  description: string;
  expectedOutput?: string;
  /** Agent key; required in a sequential crew, a hint to the manager in a hierarchical one. */
  agent?: string;
  /** Keys of earlier tasks whose outputs this task gets; default: the previous task's output. */
  context?: string[];
  outputSchema?: JsonSchema;
}

const keyPattern = '^[A-Za-z0-9_.-]+$';

export const agentFieldsSchema = {
  // No `default`s on agent fields: an inline agent that extends an imported CrewAI agent must not reset its values.
  template: { enum: ['', ...Object.keys(AGENT_TEMPLATES)], description: 'Fill empty role/goal/backstory from a ready-made role.' },
  role: { type: 'string', description: 'Who the agent is, e.g. "Senior market researcher". {placeholders} come from the input message.' },
  goal: { type: 'string' },
  backstory: { type: 'string' },
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
} as const;

export const agentSpecSchema: JsonSchema = {
  type: 'object',
  required: ['key'],
  properties: {
    key: { type: 'string', pattern: keyPattern, description: 'Name tasks use to pick this agent.' },
    ...agentFieldsSchema,
    allowDelegation: { type: 'boolean', description: 'May hand work or questions to the other agents of the crew.' },
    model: { type: 'string', description: 'Use another model on the same provider (model name, or a .gguf path for the local model).' },
  },
};

export const taskSpecSchema: JsonSchema = {
  type: 'object',
  required: ['key', 'description'],
  properties: {
    key: { type: 'string', pattern: keyPattern },
    description: { type: 'string', minLength: 1, description: 'What to do. {placeholders} come from the input message.' },
    expectedOutput: { type: 'string', description: 'What a good answer looks like.' },
    agent: { type: 'string', description: 'Key of the agent that does it.' },
    context: { type: 'array', items: { type: 'string' }, description: 'Keys of earlier tasks whose output it needs (default: the previous task).' },
    outputSchema: { type: 'object', description: 'JSON Schema the answer must match; the answer is then parsed JSON.' },
  },
};

export { mcpServerSchema };

/** Deploy-time checks; returns the problems in words. */
export function crewProblems(agents: AgentSpec[], tasks: TaskSpec[], process: 'sequential' | 'hierarchical'): string[] {
  const problems: string[] = [];
  const agentKeys = new Set<string>();
  for (const a of agents) {
    if (agentKeys.has(a.key)) problems.push(`two agents have the key "${a.key}"`);
    agentKeys.add(a.key);
  }
  if (agents.length === 0) problems.push('the crew has no agents');
  if (tasks.length === 0) problems.push('the crew has no tasks');
  const seen = new Set<string>();
  for (const t of tasks) {
    if (seen.has(t.key)) problems.push(`two tasks have the key "${t.key}"`);
    if (t.agent && !agentKeys.has(t.agent)) problems.push(`task "${t.key}" names agent "${t.agent}", which is not in the crew (agents: ${[...agentKeys].join(', ')})`);
    if (!t.agent && process === 'sequential') problems.push(`task "${t.key}" has no agent (a sequential crew needs one per task)`);
    for (const c of t.context ?? []) {
      if (!seen.has(c)) problems.push(`task "${t.key}" takes context from "${c}", which is not an earlier task`);
    }
    seen.add(t.key);
  }
  return problems;
}
