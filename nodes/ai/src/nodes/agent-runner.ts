/**
 * What the two nodes that run agents (ai-agent, ai-crew) share: their definition basics and common props (MCP
 * servers, model, vector store, streaming), how an agent is set up at deploy (template, model, tools, memory) and
 * made concrete for one message ({placeholders} filled), and how a failed run shows on the node.
 */
import type { InputContext, JsonSchema, NodeDefinition, ToolDescription } from '@flowcrew/sdk';
import type { Agent } from '../agents/agent.ts';
import { AgentMemory } from '../agents/memory.ts';
import { RequestsPerMinute } from '../agents/rate-limit.ts';
import { applyTemplate } from '../agents/templates.ts';
import { interpolate } from '../crew/interpolate.ts';
import type { AgentFields } from '../crew/spec.ts';
import type { StoreChoice } from '../memory/vector-store.ts';
import type { ModelProvider } from '../providers/types.ts';
import { mcpServerSchema, type McpEnvironment, type McpServerConfig } from '../tools/mcp.ts';
import { modelCredentials, type ModelProps } from './model-selection.ts';
import { AgentToolbox, modelAndStoreProps, type StoreHandle } from './node-resources.ts';

/** Model calls an agent may make per task when it sets no maxIterations. */
const DEFAULT_MAX_ITERATIONS = 6;

/** Props both nodes have besides their agents and tasks. */
export interface AgentRunnerProps extends ModelProps {
  mcpServers?: McpServerConfig[];
  store?: StoreChoice;
  stream?: boolean;
}

/** Definition fields both nodes share: one input, one output, an optional model credential, no retry by default. */
export const agentRunnerBasics = {
  inputs: 1,
  outputs: 1,
  credentials: modelCredentials,
  defaults: { retry: { maxAttempts: 1, backoffMs: 0 } },
} as const satisfies Partial<NodeDefinition>;

export const mcpServersProp = {
  type: 'array',
  items: mcpServerSchema,
  default: [],
  description: 'MCP servers the agents may use: a server the administrator declared (stdio, by name), or an HTTP endpoint.',
} as const satisfies JsonSchema;

/** The props both nodes end with: the model, the vector store (agent memory), streaming. */
export const agentRunnerTailProps = {
  ...modelAndStoreProps,
  stream: { type: 'boolean', default: true, description: 'Stream tokens live to the editor.' },
} as const satisfies Record<string, JsonSchema>;

/** An agent's fields with role, goal and backstory filled in ({placeholders} still in them). */
export type FilledAgentFields = AgentFields & { role: string; goal: string; backstory: string; allowDelegation?: boolean };

/** Fill empty role/goal/backstory from the agent's template; an agent still without a role or goal is refused at deploy. */
export function withTemplate<T extends AgentFields>(fields: T, name: string): T & FilledAgentFields {
  const filled = applyTemplate(fields);
  if (!filled.role || !filled.goal) throw new Error(`${name} needs a role and a goal (or a template)`);
  return filled;
}

/** An agent as set up at deploy. */
export interface PreparedAgent {
  /** Key within the crew, or the node id. */
  key: string;
  fields: FilledAgentFields;
  provider: ModelProvider;
  /** None: the agent has no tools (a crew's manager). */
  toolbox?: AgentToolbox;
  memory?: AgentMemory;
  /** The agent's maxRpm, shared by every run of the deployed node. */
  rateLimit?: RequestsPerMinute;
}

export interface AgentSetup {
  key: string;
  /** How errors name the agent, e.g. 'agent "writer"'. */
  name: string;
  provider: ModelProvider;
  /** The node's MCP servers and the node types usable as tools, for the agent's tools. */
  mcpServers: McpServerConfig[];
  /** The runtime's declared MCP servers and outbound guard (from the node's services). */
  mcp: McpEnvironment;
  availableTools: ToolDescription[];
  /** The node's vector store, when an agent of it has memory, and this agent's own collection in it. */
  store?: StoreHandle;
  memoryCollection: string;
}

/** Check and build the agent's tools (MCP servers are contacted on first use) and its memory, when it has memory on. */
export function prepareAgent(fields: FilledAgentFields, setup: AgentSetup): PreparedAgent {
  const { store } = setup;
  return {
    key: setup.key,
    fields,
    provider: setup.provider,
    toolbox: new AgentToolbox(setup.name, fields.tools ?? [], fields.mcp ?? [], setup.mcpServers, setup.availableTools, setup.mcp),
    memory: fields.memory && store ? new AgentMemory(() => store.get(), setup.provider, setup.memoryCollection) : undefined,
    rateLimit: fields.maxRpm ? new RequestsPerMinute(fields.maxRpm) : undefined,
  };
}

/**
 * The agent for one message: {placeholders} filled from the message's inputs, its tools listed. `defaults` are the
 * node's, for what the agent itself leaves unset.
 */
export async function agentForMessage(agent: PreparedAgent, inputs: Record<string, unknown>, defaults: { temperature?: number; maxTokens?: number } = {}): Promise<Agent> {
  const { fields } = agent;
  return {
    key: agent.key,
    role: interpolate(fields.role, inputs),
    goal: interpolate(fields.goal, inputs),
    backstory: interpolate(fields.backstory, inputs),
    provider: agent.provider,
    tools: agent.toolbox ? await agent.toolbox.tools() : [],
    maxIterations: fields.maxIterations ?? DEFAULT_MAX_ITERATIONS,
    allowDelegation: fields.allowDelegation ?? false,
    memory: agent.memory,
    temperature: fields.temperature ?? defaults.temperature,
    maxTokens: fields.maxTokens ?? defaults.maxTokens,
    rateLimit: agent.rateLimit,
    maxExecutionSeconds: fields.maxExecutionSeconds,
    reasoning: fields.reasoning,
    injectDate: fields.injectDate,
    contextOverflow: fields.contextOverflow,
  };
}

/** Run `work`, showing a failure on the node (red, the start of its message) before it fails the invocation. */
export async function showingFailure<T>(ctx: InputContext, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    // Waiting for a person (ctx.waitForInput) is no failure: the run parks and this node runs again when answered.
    if ((error as Error).name === 'WaitingForInput') ctx.status({ fill: 'yellow', shape: 'ring', text: 'waiting for a person' });
    else ctx.status({ fill: 'red', shape: 'dot', text: (error as Error).message.slice(0, 80) });
    throw error;
  }
}
