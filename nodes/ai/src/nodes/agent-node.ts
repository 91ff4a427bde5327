/** ai-agent: one agent (role, goal, backstory, tools, memory) doing one task per message. */
import { NodeInputError, defineNode, type JsonSchema } from '@flowcrew/sdk';
import { runAgentTask, type Agent } from '../agents/agent.ts';
import { AgentMemory } from '../agents/memory.ts';
import { OutputSchema } from '../agents/structured-output.ts';
import { applyTemplate, ROLE_TEMPLATE_NAMES } from '../agents/templates.ts';
import { inputsFromMessage, interpolate, requireInputs } from '../crew/interpolate.ts';
import { agentFieldsSchema, type McpToolsRef } from '../crew/spec.ts';
import type { StoreChoice } from '../memory/vector-store.ts';
import { mcpServerSchema, type McpServerConfig } from '../tools/mcp.ts';
import type { NodeToolConfig } from '../tools/node-tools.ts';
import { agentEnvironment, MODEL_HELP, modelCredentials, modelPropsSchema, selectModelForNode, type ModelProps } from './model-selection.ts';
import { AgentToolbox, StoreHandle, storePropSchema } from './node-resources.ts';

export interface AgentNodeProps extends ModelProps {
  template?: string;
  role?: string;
  goal?: string;
  backstory?: string;
  tools?: NodeToolConfig[];
  mcp?: McpToolsRef[];
  mcpServers?: McpServerConfig[];
  maxIterations?: number;
  memory?: boolean;
  temperature?: number;
  maxTokens?: number;
  task?: { description?: string; expectedOutput?: string; outputSchema?: JsonSchema };
  store?: StoreChoice;
  stream?: boolean;
}

export const agentNode = defineNode<AgentNodeProps>({
  type: 'ai-agent',
  category: 'ai',
  label: 'AI agent',
  icon: 'smart_toy',
  color: '#c7b8f5',
  inputs: 1,
  outputs: 1,
  credentials: modelCredentials,
  defaults: { retry: { maxAttempts: 1, backoffMs: 0 } },
  props: {
    type: 'object',
    properties: {
      ...agentFieldsSchema,
      template: { enum: ['', ...ROLE_TEMPLATE_NAMES], default: '', description: 'Fill empty role/goal/backstory from a ready-made role.' },
      task: {
        type: 'object',
        default: {},
        properties: {
          description: { type: 'string', default: '', description: 'The task, with {placeholders} from msg.payload. Empty: msg.payload is the task.' },
          expectedOutput: { type: 'string', default: '' },
          outputSchema: { type: 'object', description: 'JSON Schema the answer must match; msg.payload is then the parsed JSON.' },
        },
      },
      mcpServers: { type: 'array', items: mcpServerSchema, default: [] },
      ...modelPropsSchema,
      store: storePropSchema,
      stream: { type: 'boolean', default: true, description: 'Stream tokens live to the editor.' },
    },
  },
  help: `Runs one AI agent on each message and sends its answer on.

The agent has a **role**, a **goal** and a **backstory** (or a **template**: research, analysis, implementation, qa),
may use **tools** (node types usable as tools, such as HTTP request or ai-retrieve, and MCP servers), and works
until it has a final answer or reaches **max iterations**, which fails the invocation with a clear error.

**Task**: \`task.description\` with {placeholders} filled from \`msg.payload\` fields, or, when empty, \`msg.payload\` itself.
With \`task.outputSchema\` the answer must be JSON matching it: invalid answers are sent back to the model with the
validation errors, and \`msg.payload\` is the parsed value.

**Output**: \`msg.payload\` = the answer; \`msg.agent\` = role, iterations, tool calls and token usage.
Tokens stream live to the editor; token counts and cost are recorded with the run. Every tool call is its own
invocation in the run.

**Memory** on: the agent's results are kept in the vector store and the most relevant ones are recalled for each new task.

${MODEL_HELP}`,
  create(init) {
    const props = init.props;
    const fields = applyTemplate({ template: props.template, role: props.role, goal: props.goal, backstory: props.backstory });
    if (!fields.role || !fields.goal) throw new Error('the agent needs a role and a goal (or a template)');
    const model = selectModelForNode(init);
    const provider = model.provider();
    const toolbox = new AgentToolbox(`agent "${fields.role}"`, props.tools ?? [], props.mcp ?? [], props.mcpServers ?? [], init.services.listTools());
    const outputSchema = props.task?.outputSchema ? new OutputSchema(props.task.outputSchema) : undefined;
    const store = props.memory ? new StoreHandle(props.store ?? 'auto') : undefined;
    const memory = store ? new AgentMemory(() => store.get(), provider, `memory:${init.flowId}:${init.id}`) : undefined;

    return {
      async onInput(msg, ctx) {
        const inputs = inputsFromMessage(msg);
        const template = props.task?.description ?? '';
        let description: string;
        if (template) {
          requireInputs([template, props.task?.expectedOutput ?? '', fields.role, fields.goal, fields.backstory], inputs);
          description = interpolate(template, inputs);
        } else {
          if (msg.payload === undefined || msg.payload === null || msg.payload === '') throw new NodeInputError('no task: set task.description, or send the task as msg.payload');
          requireInputs([fields.role, fields.goal, fields.backstory], inputs);
          description = typeof msg.payload === 'string' ? msg.payload : JSON.stringify(msg.payload);
        }
        const agent: Agent = {
          key: init.id,
          role: interpolate(fields.role, inputs),
          goal: interpolate(fields.goal, inputs),
          backstory: interpolate(fields.backstory, inputs),
          provider,
          tools: await toolbox.tools(),
          maxIterations: props.maxIterations ?? 6,
          allowDelegation: false,
          memory,
          temperature: props.temperature,
          maxTokens: props.maxTokens,
        };
        ctx.status({ fill: 'blue', shape: 'dot', text: `${agent.role}: working` });
        try {
          const outcome = await runAgentTask(
            agent,
            { key: 'task', description, expectedOutput: props.task?.expectedOutput ? interpolate(props.task.expectedOutput, inputs) : undefined, outputSchema },
            agentEnvironment(ctx, props.stream !== false),
          );
          ctx.status({ fill: 'green', shape: 'dot', text: `${agent.role}: done (${outcome.iterations} step${outcome.iterations === 1 ? '' : 's'})` });
          return {
            ...msg,
            payload: outcome.json !== undefined ? outcome.json : outcome.output,
            agent: { role: agent.role, model: provider.model, iterations: outcome.iterations, toolCalls: outcome.toolCalls, usage: outcome.usage, truncated: outcome.truncated },
          };
        } catch (error) {
          ctx.status({ fill: 'red', shape: 'dot', text: (error as Error).message.slice(0, 80) });
          throw error;
        }
      },
      async close() {
        await store?.release();
      },
    };
  },
});
