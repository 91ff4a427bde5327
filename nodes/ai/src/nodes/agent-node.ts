/** ai-agent: one agent (role, goal, backstory, tools, memory) doing one task per message. */
import { NodeInputError, defineNode, type JsonSchema } from '@flowcrew/sdk';
import { runAgentTask } from '../agents/agent.ts';
import { OutputSchema } from '../agents/structured-output.ts';
import { ROLE_TEMPLATE_NAMES } from '../agents/templates.ts';
import { inputsFromMessage, interpolate, requireInputs } from '../crew/interpolate.ts';
import { agentFieldsSchema, type AgentFields } from '../crew/spec.ts';
import { agentEnvironment, MODEL_HELP, selectModelForNode } from './model-selection.ts';
import { flowBudgetSchema, runBudgetSchema, type BudgetLimits, type FlowBudgetLimits } from '../crew/budget.ts';
import { checkPriced, modelWithFallback, runBudget, withBudget } from './crew-accounting.ts';
import { StoreHandle } from './node-resources.ts';
import { agentForMessage, agentRunnerBasics, agentRunnerTailProps, mcpServersProp, prepareAgent, showingFailure, withTemplate, type AgentRunnerProps } from './agent-runner.ts';

export interface AgentNodeProps extends AgentRunnerProps, AgentFields {
  task?: { description?: string; expectedOutput?: string; outputSchema?: JsonSchema };
  fallbackModel?: string;
  budget?: BudgetLimits;
  flowBudget?: FlowBudgetLimits;
}

export const agentNode = defineNode<AgentNodeProps>({
  type: 'ai-agent',
  category: 'ai',
  label: 'AI agent',
  icon: 'smart_toy',
  color: '#c7b8f5',
  ...agentRunnerBasics,
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
      mcpServers: mcpServersProp,
      fallbackModel: { type: 'string', minLength: 1, description: 'When the model fails a call for good: another model on the same provider, or "local" for the local model.' },
      budget: runBudgetSchema,
      flowBudget: flowBudgetSchema,
      ...agentRunnerTailProps,
    },
  },
  help: `Runs one AI agent on each message and sends its answer on.

The agent has a **role**, a **goal** and a **backstory** (or a **template**: research, analysis, implementation, qa),
may use **tools** (node types usable as tools, such as HTTP request or ai-retrieve, and MCP servers), and works
until it has a final answer or reaches **max iterations**, which fails the invocation with a clear error.

**Task**: \`task.description\` with {placeholders} filled from \`msg.payload\` fields, or, when empty, \`msg.payload\` itself.
With \`task.outputSchema\` the answer must be JSON matching it: invalid answers are sent back to the model with the
validation errors, and \`msg.payload\` is the parsed value.

**Output**: \`msg.payload\` = the answer; \`msg.agent\` = role, iterations, tool calls, token usage and notes (tools offered and
none used, answer cut at the token limit, prompt cut to the context window).
Tokens stream live to the editor; token counts and cost are recorded with the run. Every tool call is its own
invocation in the run.

**Budgets and fallback**: \`budget\` (per run) and \`flowBudget\` (all AI nodes of the flow, per UTC day, month or in total)
in dollars or tokens stop the agent before a call once spent; \`fallbackModel\` answers when the model fails a call for
good (noted). See the crew node's help.

**Memory** on: the agent's results are kept in the vector store and the most relevant ones are recalled for each new task.

${MODEL_HELP}`,
  create(init) {
    const props = init.props;
    const fields = withTemplate(props, 'the agent');
    const model = selectModelForNode(init);
    const provider = modelWithFallback(model, model.provider(), props.fallbackModel, 'fallbackModel');
    checkPriced([{ name: 'the agent', provider }], [props.budget, props.flowBudget]);
    const store = props.memory ? new StoreHandle(props.store ?? 'auto', init.services) : undefined;
    const agent = prepareAgent(fields, {
      key: init.id,
      name: `agent "${fields.role}"`,
      provider,
      mcpServers: props.mcpServers ?? [],
      mcp: { servers: init.services.mcpServers, outbound: init.services.outbound, resources: init.services.resources },
      availableTools: init.services.listTools(),
      store,
      memoryCollection: `memory:${init.flowId}:${init.id}`,
    });
    const outputSchema = props.task?.outputSchema ? new OutputSchema(props.task.outputSchema) : undefined;

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
        const run = await agentForMessage(agent, inputs);
        ctx.status({ fill: 'blue', shape: 'dot', text: `${run.role}: working` });
        const outcome = await showingFailure(ctx, () =>
          runAgentTask(
            run,
            { key: 'task', description, expectedOutput: props.task?.expectedOutput ? interpolate(props.task.expectedOutput, inputs) : undefined, outputSchema },
            withBudget(agentEnvironment(ctx, props.stream !== false), runBudget(props.budget, props.flowBudget, ctx)),
          ),
        );
        ctx.status({ fill: 'green', shape: 'dot', text: `${run.role}: done (${outcome.iterations} step${outcome.iterations === 1 ? '' : 's'})` });
        return {
          ...msg,
          payload: outcome.json !== undefined ? outcome.json : outcome.output,
          agent: {
            role: run.role,
            model: provider.model,
            iterations: outcome.iterations,
            toolCalls: outcome.toolCalls,
            usage: outcome.usage,
            truncated: outcome.truncated,
            toolsUnused: outcome.toolsUnused,
            notes: outcome.notes,
            ...(outcome.plan === undefined ? {} : { plan: outcome.plan }),
          },
        };
      },
      async close() {
        await store?.release();
      },
    };
  },
});
