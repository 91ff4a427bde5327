/** ai-crew: a set of agents and tasks, run sequentially or under a manager; defined inline or imported from CrewAI YAML. */
import { defineNode, type JsonSchema } from '@flowcrew/sdk';
import type { Agent } from '../agents/agent.ts';
import { OutputSchema } from '../agents/structured-output.ts';
import { AGENT_TEMPLATES } from '../agents/templates.ts';
import { MANAGER_MIN_TOKENS, runCrew, type CrewTask } from '../crew/crew.ts';
import { importCrewAI } from '../crew/crewai-import.ts';
import { inputsFromMessage, interpolate, requireInputs } from '../crew/interpolate.ts';
import { agentSpecSchema, crewProblems, taskSpecSchema, type AgentSpec, type TaskSpec } from '../crew/spec.ts';
import { agentEnvironment, MODEL_HELP, selectModelForNode } from './model-selection.ts';
import { StoreHandle } from './node-resources.ts';
import {
  agentForMessage,
  agentRunnerBasics,
  agentRunnerTailProps,
  mcpServersProp,
  prepareAgent,
  showingFailure,
  withTemplate,
  type AgentRunnerProps,
  type PreparedAgent,
} from './agent-runner.ts';

export interface CrewNodeProps extends AgentRunnerProps {
  process?: 'sequential' | 'hierarchical';
  source?: 'inline' | 'crewai';
  agents?: AgentSpec[];
  tasks?: TaskSpec[];
  crewai?: { agentsYaml?: string; tasksYaml?: string };
  manager?: { role?: string; goal?: string; backstory?: string; model?: string; maxIterations?: number; maxTokens?: number };
  maxRevisions?: number;
  temperature?: number;
  maxTokens?: number;
}

export const crewNode = defineNode<CrewNodeProps>({
  type: 'ai-crew',
  category: 'ai',
  label: 'AI crew',
  icon: 'groups',
  color: '#b8a4f0',
  ...agentRunnerBasics,
  props: {
    type: 'object',
    properties: {
      process: { enum: ['sequential', 'hierarchical'], default: 'sequential', description: 'sequential: tasks in order, each by its agent. hierarchical: a manager assigns, reviews and asks for revisions.' },
      source: { enum: ['inline', 'crewai'], default: 'inline', description: 'inline: the agents and tasks below. crewai: a CrewAI agents.yaml and tasks.yaml (inline agents with the same key add to them, e.g. tools).' },
      agents: { type: 'array', items: agentSpecSchema, default: [] },
      tasks: { type: 'array', items: taskSpecSchema, default: [] },
      crewai: {
        type: 'object',
        default: {},
        properties: { agentsYaml: { type: 'string', default: '', description: 'Contents of config/agents.yaml.' }, tasksYaml: { type: 'string', default: '', description: 'Contents of config/tasks.yaml.' } },
      },
      manager: {
        type: 'object',
        default: {},
        description: 'Hierarchical crews: the manager agent (defaults to the Crew Manager template).',
        properties: {
          role: { type: 'string' },
          goal: { type: 'string' },
          backstory: { type: 'string' },
          model: { type: 'string' },
          maxIterations: { type: 'integer', minimum: 1, default: 3 },
          maxTokens: { type: 'integer', minimum: 64, description: `Max tokens per manager answer; default: the crew's, at least ${MANAGER_MIN_TOKENS} (its assignments and reviews are JSON that must fit).` },
        },
      },
      maxRevisions: { type: 'integer', minimum: 0, maximum: 5, default: 1, description: 'Hierarchical: revisions the manager may ask for per task.' },
      mcpServers: mcpServersProp,
      temperature: { type: 'number', minimum: 0, maximum: 2, description: 'Default for agents that set none.' },
      maxTokens: { type: 'integer', minimum: 1, description: 'Default max tokens per model answer for agents that set none.' },
      ...agentRunnerTailProps,
    },
  },
  help: `Runs a crew of AI agents through a list of tasks and sends the final task's answer on.

**Agents**: key, role, goal, backstory (or a **template**: ${Object.keys(AGENT_TEMPLATES).filter((t) => t !== 'manager').join(', ')}), tools, MCP tools,
max iterations, memory, allow delegation (then it may hand work or questions to the other agents).
**Tasks**: key, description, expected output, agent, context (earlier tasks whose output it needs; default: the previous one), output schema.
{placeholders} in agents and tasks are filled from the fields of \`msg.payload\` (or \`{input}\` for a plain payload, \`{topic}\` from \`msg.topic\`).

**Process**: \`sequential\` runs the tasks in order. \`hierarchical\` adds a manager that writes a plan, assigns each task
to a team member with instructions, reviews the answer and asks for up to \`maxRevisions\` revisions.

**CrewAI**: set source to \`crewai\` and paste a CrewAI project's \`agents.yaml\` and \`tasks.yaml\`; what cannot be
imported from YAML (Python tool classes, pydantic outputs) is listed in the node's log at deploy.

**Output**: \`msg.payload\` = the last task's answer (parsed JSON with an output schema); \`msg.crew\` = every task's
agent, answer, iterations, tool calls, review, plus the plan and token usage. Progress (tokens, tool calls,
delegations, reviews) streams live to the editor.

${MODEL_HELP}`,
  create(init) {
    const props = init.props;
    const process = props.process ?? 'sequential';
    let agentSpecs = props.agents ?? [];
    let taskSpecs = props.tasks ?? [];
    if ((props.source ?? 'inline') === 'crewai') {
      const imported = importCrewAI(props.crewai?.agentsYaml ?? '', props.crewai?.tasksYaml ?? '');
      for (const warning of imported.warnings) init.log.warn(warning);
      // Inline agents with an imported key extend it (tools, model...); others join the crew.
      const extra = new Map(agentSpecs.map((a) => [a.key, a]));
      agentSpecs = [...imported.agents.map((a) => ({ ...a, ...definedFields(extra.get(a.key)) })), ...agentSpecs.filter((a) => !imported.agents.some((i) => i.key === a.key))];
      taskSpecs = [...imported.tasks, ...taskSpecs];
    }
    const problems = crewProblems(agentSpecs, taskSpecs, process);
    if (problems.length) throw new Error(`the crew is not valid: ${problems.join('; ')}`);

    const model = selectModelForNode(init);
    const store = agentSpecs.some((a) => a.memory) ? new StoreHandle(props.store ?? 'auto', init.services.dataDir) : undefined;
    const availableTools = init.services.listTools();
    const agents = agentSpecs.map((spec) =>
      prepareAgent(withTemplate(spec, `agent "${spec.key}"`), {
        key: spec.key,
        name: `agent "${spec.key}"`,
        provider: model.provider(spec.model || undefined, `the model of agent "${spec.key}"`),
        mcpServers: props.mcpServers ?? [],
        mcp: { servers: init.services.mcpServers, outbound: init.services.outbound },
        availableTools,
        store,
        memoryCollection: `memory:${init.flowId}:${init.id}:${spec.key}`,
      }),
    );
    const schemas = new Map(taskSpecs.filter((t) => t.outputSchema).map((t) => [t.key, new OutputSchema(t.outputSchema as JsonSchema)]));
    const managerFields = withTemplate({ template: 'manager', ...definedFields(props.manager) }, 'the manager');
    const manager: PreparedAgent = {
      key: 'manager',
      fields: {
        role: managerFields.role,
        goal: managerFields.goal,
        backstory: managerFields.backstory,
        maxIterations: props.manager?.maxIterations ?? 3,
        maxTokens: props.manager?.maxTokens ?? Math.max(props.maxTokens ?? 0, MANAGER_MIN_TOKENS),
      },
      provider: model.provider(props.manager?.model || undefined, 'manager.model'),
    };

    return {
      async onInput(msg, ctx) {
        const inputs = inputsFromMessage(msg);
        requireInputs(
          [...agents.flatMap((a) => [a.fields.role, a.fields.goal, a.fields.backstory]), ...taskSpecs.flatMap((t) => [t.description, t.expectedOutput ?? ''])],
          inputs,
        );
        const runAgents: Agent[] = [];
        for (const a of agents) runAgents.push(await agentForMessage(a, inputs, { temperature: props.temperature, maxTokens: props.maxTokens }));
        const tasks: CrewTask[] = taskSpecs.map((t) => ({
          key: t.key,
          description: interpolate(t.description, inputs),
          expectedOutput: t.expectedOutput ? interpolate(t.expectedOutput, inputs) : undefined,
          agent: t.agent,
          context: t.context,
          outputSchema: schemas.get(t.key),
        }));
        const runManager = process === 'hierarchical' ? await agentForMessage(manager, inputs, { temperature: props.temperature }) : undefined;
        const env = agentEnvironment(ctx, props.stream !== false);
        const progress = env.progress;
        env.progress = (event) => {
          if (event.type === 'task-start') ctx.status({ fill: 'blue', shape: 'dot', text: `${event.task}: ${event.agent}` });
          progress(event);
        };
        const outcome = await showingFailure(ctx, () => runCrew({ agents: runAgents, tasks, process, manager: runManager, maxRevisions: props.maxRevisions ?? 1 }, env));
        ctx.status({ fill: 'green', shape: 'dot', text: `done: ${outcome.tasks.length} tasks` });
        return {
          ...msg,
          payload: outcome.json !== undefined ? outcome.json : outcome.output,
          crew: {
            process,
            ...(outcome.plan === undefined ? {} : { plan: outcome.plan }),
            tasks: outcome.tasks.map((t) => ({
              task: t.task,
              agent: t.agent,
              output: t.output,
              ...(t.json === undefined ? {} : { json: t.json }),
              iterations: t.iterations,
              toolCalls: t.toolCalls,
              truncated: t.truncated,
              ...(t.review ? { review: t.review } : {}),
            })),
            usage: outcome.usage,
          },
        };
      },
      async close() {
        await store?.release();
      },
    };
  },
});

/** Fields that are set (so an empty string or missing field in an override does not erase an imported value). */
function definedFields<T extends object>(value: T | undefined): Partial<T> {
  if (!value) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== '')) as Partial<T>;
}
