/** ai-crew: a set of agents and tasks, run sequentially or under a manager; defined inline or imported from CrewAI YAML. */
import { defineNode, type InputContext, type JsonSchema, type NodeInit } from '@flowcrew/sdk';
import type { HumanReviewer } from '../crew/human-review.ts';
import type { Agent } from '../agents/agent.ts';
import { OutputSchema } from '../agents/structured-output.ts';
import { AGENT_TEMPLATES } from '../agents/templates.ts';
import { MANAGER_MIN_TOKENS, runCrew, type CrewTask } from '../crew/crew.ts';
import { flowBudgetSchema, runBudgetSchema, type BudgetLimits, type FlowBudgetLimits } from '../crew/budget.ts';
import { functionGuardrail } from '../crew/function-guardrail.ts';
import { CrewSteps } from '../crew/checkpoint.ts';
import { PLANNER_FIELDS } from '../crew/planning.ts';
import { crewKnowledgeSchema, type CrewKnowledgeConfig } from '../crew/crew-knowledge.ts';
import { crewMemoryScope, crewMemorySchema, memoryEnabled, type CrewMemoryConfig } from '../crew/crew-memory.ts';
import { crewKnowledgeFor, crewMemoryFor, needsStore } from './crew-memory-setup.ts';
import { inputsFromMessage, interpolate, requireInputs } from '../crew/interpolate.ts';
import { definedFields, resolveCrew } from '../crew/resolve.ts';
import { agentSpecSchema, taskSpecSchema, type AgentSpec, type TaskSpec } from '../crew/spec.ts';
import { agentEnvironment, MODEL_HELP, selectModel, selectModelForNode, type ModelSelection } from './model-selection.ts';
import { agentModel, checkPriced, modelWithFallback, runBudget, withBudget } from './crew-accounting.ts';
import { AgentToolbox, StoreHandle } from './node-resources.ts';
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
  manager?: { role?: string; goal?: string; backstory?: string; credential?: string; model?: string; fallbackModel?: string; maxIterations?: number; maxTokens?: number };
  budget?: BudgetLimits;
  flowBudget?: FlowBudgetLimits;
  memory?: CrewMemoryConfig;
  knowledge?: CrewKnowledgeConfig;
  maxRevisions?: number;
  /** CrewAI's planning / planning_llm: a planner writes each task's plan before the first task (crew/planning.ts). */
  planning?: boolean;
  planningModel?: string;
  /** Tasks with humanInput: who reviews, how long the crew waits, who is told (human-review.ts). */
  humanInput?: { users?: string[]; roles?: string[]; timeoutSeconds?: number; notifyFlow?: string };
  temperature?: number;
  maxTokens?: number;
}

/**
 * An agent (or the manager) with a credential of its own runs on it (the runtime resolved it, checked like the node's
 * own: NodeInit.moreCredentials); the others on the node's model.
 */
function ownSelection(credential: string | undefined, who: string, init: NodeInit<CrewNodeProps>, model: ModelSelection): ModelSelection {
  if (!credential) return model;
  const fields = init.moreCredentials?.[credential];
  if (!fields) throw new Error(`${who}: credential "${credential}" was not resolved by the runtime (it needs a runtime that binds credentials named in props)`);
  return selectModel({ provider: 'credential' }, fields, init.services.outbound);
}

/** Tasks with humanInput ask through ctx.waitForInput (absent in hosts that cannot wait: such a task then fails). */
function humanReviewer(ctx: InputContext, settings: CrewNodeProps['humanInput']): HumanReviewer | undefined {
  const wait = ctx.waitForInput?.bind(ctx);
  if (!wait) return undefined;
  const question = {
    assignees: { users: settings?.users ?? [], roles: settings?.roles ?? [] },
    ...(settings?.timeoutSeconds ? { timeoutMs: settings.timeoutSeconds * 1000 } : {}),
    ...(settings?.notifyFlow ? { notifyFlow: settings.notifyFlow } : {}),
  };
  return { ask: wait, question };
}

export const crewNode = defineNode<CrewNodeProps>({
  type: 'ai-crew',
  category: 'ai',
  label: 'AI crew',
  icon: 'groups',
  color: '#b8a4f0',
  ...agentRunnerBasics,
  // Each agent, and the manager, may name an AI model credential of its own (checked and resolved by the runtime like the node's).
  credentials: { ...agentRunnerBasics.credentials, inProps: ['/agents/*/credential', '/manager/credential'] },
  props: {
    type: 'object',
    properties: {
      process: { enum: ['sequential', 'hierarchical'], default: 'sequential', description: 'sequential: tasks in order, each by its agent. hierarchical: a manager assigns, reviews and asks for revisions.' },
      source: {
        enum: ['inline', 'crewai'],
        default: 'inline',
        description: 'inline: the agents and tasks below. crewai: a CrewAI agents.yaml and tasks.yaml; agents and tasks below with the same key add to them (assign a task\'s agent, tools, output schema), others join.',
      },
      agents: { type: 'array', items: agentSpecSchema, default: [] },
      tasks: { type: 'array', items: taskSpecSchema, default: [], description: 'The tasks, in order. With a CrewAI source: {key, agent, ...} assigns an imported task.' },
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
          // Empty: the Crew Manager template's text, shown greyed in the editor.
          role: { type: 'string', 'x-placeholder': AGENT_TEMPLATES.manager.role },
          goal: { type: 'string', 'x-placeholder': AGENT_TEMPLATES.manager.goal },
          backstory: { type: 'string', 'x-placeholder': AGENT_TEMPLATES.manager.backstory },
          credential: { type: 'string', minLength: 1, description: "Id of an AI model credential of the manager's own (another provider or account than the node's, e.g. a larger model to plan and review); model then picks within it." },
          model: { type: 'string' },
          fallbackModel: { type: 'string', minLength: 1, description: 'When its model fails a call for good: another model on the same provider, or "local".' },
          maxIterations: { type: 'integer', minimum: 1, default: 3 },
          maxTokens: { type: 'integer', minimum: 64, description: `Max tokens per manager answer; default: the crew's, at least ${MANAGER_MIN_TOKENS} (its assignments and reviews are JSON that must fit).` },
        },
      },
      maxRevisions: { type: 'integer', minimum: 0, maximum: 5, default: 1, description: 'Hierarchical: revisions the manager may ask for per task.' },
      planning: { type: 'boolean', default: false, description: "CrewAI's planning: before the first task, a planner writes a step-by-step plan for each task, appended to its description." },
      planningModel: { type: 'string', minLength: 1, description: "CrewAI's planning_llm: the planner's model on the node's AI model credential (default: the node's model)." },
      humanInput: {
        type: 'object',
        default: {},
        description: 'Tasks with human input (CrewAI human_input): the run waits for a person to accept each answer or give feedback.',
        properties: {
          users: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'User names who may review (none and no roles: anyone who may start runs).' },
          roles: { type: 'array', items: { enum: ['owner', 'editor', 'operator', 'viewer'] }, description: 'Project roles who may review.' },
          timeoutSeconds: { type: 'integer', minimum: 0, default: 0, description: 'After this, the answer is accepted as it is (0: wait for ever).' },
          notifyFlow: { type: 'string', description: 'Id of a deployed flow started with the question and its signed link (mail, chat).' },
        },
      },
      budget: runBudgetSchema,
      flowBudget: flowBudgetSchema,
      memory: crewMemorySchema,
      knowledge: crewKnowledgeSchema,
      mcpServers: mcpServersProp,
      temperature: { type: 'number', minimum: 0, maximum: 2, description: 'Default for agents that set none.' },
      maxTokens: { type: 'integer', minimum: 1, description: 'Default max tokens per model answer for agents that set none.' },
      ...agentRunnerTailProps,
    },
  },
  help: `Runs a crew of AI agents through a list of tasks and sends the final task's answer on.

**Agents**: key, role, goal, backstory (or a **template**: ${Object.keys(AGENT_TEMPLATES).filter((t) => t !== 'manager').join(', ')}), tools, MCP tools,
max iterations, memory, allow delegation (then it may hand work or questions to the other agents), max requests per minute,
max execution time, reasoning (plan first), inject date, context overflow (fail or truncate), a **credential** of its own (an AI
model credential of another provider or account than the node's; \`model\`/\`llm\` then pick within it).
**Tasks**: key, description, expected output, agent, context, output schema, markdown, guardrails, async execution (the crew
goes on; the next task that is not async waits for it), tools (in place of the
agent's own), **human input** (CrewAI's \`human_input\`: the run waits for a person to accept the answer or give feedback, which
sends the task back to its agent; answered in the editor's Waiting panel, by API or a signed link; who and how long: \`humanInput\`). **Context**: not set, a task gets every earlier task's answer (as in CrewAI); \`[]\`: none; or the keys it needs.
{placeholders} (\`{topic}\`, \`{company-name}\`) in agents and tasks are filled from the fields of \`msg.payload\` (or \`{input}\` for
a plain payload, \`{topic}\` from \`msg.topic\`); a missing one fails the run naming it.

**Process**: \`sequential\` runs the tasks in order, each by its agent. \`hierarchical\` adds a manager that writes a plan, assigns
each task to a team member with instructions, reviews the answer and asks for up to \`maxRevisions\` revisions. The manager
may run on an AI model credential of its own (\`manager.credential\`, checked as an agent's). **Planning** (CrewAI's
\`planning=True\`, either process): before the first task a planner (\`planningModel\`, default the node's model) writes a plan
for each task, appended to its description, kept as a step and in \`msg.crew.planning\`.

**Steps**: the plan, each task, each draft a person reviewed, each delegation and each manager assignment and review is
stored as soon as it is done, as a step of the crew's invocation (shown task by task in the run, with its input, answer,
agent and tokens). A crash or a retry resumes at the first unfinished task; a run can be started again from a chosen task
(\`POST /api/v1/runs/{id}/invocations/{invocationId}/rerun\` with \`{"fromStep": "task:<key>"}\`): the tasks before it are
reused, the rest recomputed.

**CrewAI**: set source to \`crewai\` and paste a CrewAI project's \`agents.yaml\` and \`tasks.yaml\`. What CrewAI's \`crew.py\` does is
set here: an agent or task below with the key of an imported one adds to it (a task's **agent**, context, tools, output
schema; an agent's tools, model...), others join the crew; \`process\` and \`manager\` are the crew's. Merge keys, anchors and
YAML 1.1 values are read as CrewAI reads them; entries named \`_...\` only hold shared fields. Every CrewAI field is applied or
reported with the reason (validate and import responses, the node's log at deploy). A task with no agent in a sequential
crew is refused at validation, with where to assign one.

**Budgets**: \`budget\` (per run) and \`flowBudget\` (every run of the flow in a UTC day, month, or in all) in US dollars
(\`maxCostUsd\`, from the prices on the AI model credential) and/or tokens (\`maxTokens\`); the crew stops before the next model
call once one is spent, saying which and by how much. An agent's **fallbackModel** (another model of the node's provider, or
\`local\`) answers when its model fails a call for good, noted in the task. A task's **guardrailFunction** is JavaScript run in
the function sandbox on each answer (\`output\`, \`json\`, \`task\`): return \`true\`, \`false\`, \`[valid, feedbackOrReplacement]\`
or \`{valid, feedback}\`; a refused answer is redone with the feedback, as with text guardrails.

**Output**: \`msg.payload\` = the last task's answer (parsed JSON with an output schema); \`msg.crew\` = every task's
agent, answer, iterations, tool calls, notes (tools offered and none used, answer cut at the token limit, prompt cut to
the context window), review and guardrail checks, plus the plan and token usage. Progress (tokens, tool calls,
delegations, reviews) streams live to the editor.

${MODEL_HELP}`,
  validate: (props) => resolveCrew(props).issues,
  create(init) {
    const props = init.props;
    const process = props.process ?? 'sequential';
    const crew = resolveCrew(props);
    const errors = crew.issues.filter((i) => i.severity !== 'warning');
    if (errors.length) throw new Error(`the crew is not valid: ${errors.map((e) => e.message).join('; ')}`);
    for (const warning of crew.issues) if (warning.severity === 'warning') init.log.warn(warning.message);

    const model = selectModelForNode(init);
    const store = needsStore(props, crew.agents.some((a) => a.memory)) ? new StoreHandle(props.store ?? 'auto', init.services) : undefined;
    const knowledge = crewKnowledgeFor(props.knowledge, init, model.provider(), store);
    if (memoryEnabled(props.memory)) crewMemoryScope(props.memory, init); // a project memory in a host without projects: refused now
    const availableTools = init.services.listTools();
    for (const source of props.knowledge?.sources ?? []) {
      if ('node' in source && !availableTools.some((t) => t.type === source.node.type)) {
        throw new Error(`knowledge source node "${source.node.type}" is not a node type usable as a tool: use one of ${availableTools.map((t) => t.type).join(', ')}`);
      }
    }
    const mcp = { servers: init.services.mcpServers, outbound: init.services.outbound, resources: init.services.resources };
    const agents = crew.agents.map((spec) => {
      const own = ownSelection(spec.credential, `agent "${spec.key}"`, init, model);
      return prepareAgent(withTemplate(spec, `agent "${spec.key}"`), {
        key: spec.key,
        name: `agent "${spec.key}"`,
        provider: modelWithFallback(own, own.provider(agentModel(spec, own, init.log) || undefined, `the model of agent "${spec.key}"`), spec.fallbackModel, `the fallback model of agent "${spec.key}"`),
        mcpServers: crew.mcpServers,
        mcp,
        availableTools,
        store,
        memoryCollection: `memory:${init.flowId}:${init.id}:${spec.key}`,
      });
    });
    const schemas = new Map(crew.tasks.filter((t) => t.outputSchema).map((t) => [t.key, new OutputSchema(t.outputSchema as JsonSchema)]));
    const taskTools = new Map(
      crew.tasks
        .filter((t) => t.tools || t.mcp)
        .map((t) => [t.key, new AgentToolbox(`task "${t.key}"`, t.tools ?? [], t.mcp ?? [], crew.mcpServers, availableTools, mcp)]),
    );
    const managerModel = ownSelection(props.manager?.credential, 'the manager', init, model);
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
      provider: modelWithFallback(managerModel, managerModel.provider(props.manager?.model || undefined, 'manager.model'), props.manager?.fallbackModel, 'manager.fallbackModel'),
    };
    const planner: PreparedAgent | undefined = props.planning
      ? { key: 'planner', fields: { ...PLANNER_FIELDS, maxIterations: 3, maxTokens: props.maxTokens }, provider: model.provider(props.planningModel || undefined, 'planningModel') }
      : undefined;
    checkPriced(
      [
        ...agents.map((a) => ({ name: `agent "${a.key}"`, provider: a.provider })),
        ...(process === 'hierarchical' ? [{ name: 'the manager', provider: manager.provider }] : []),
        ...(planner ? [{ name: 'the planner', provider: planner.provider }] : []),
      ],
      [props.budget, props.flowBudget],
    );
    const guardrailFunctions = new Map(crew.tasks.filter((t) => t.guardrailFunction).map((t) => [t.key, t.guardrailFunction!]));

    return {
      async onInput(msg, ctx) {
        const inputs = inputsFromMessage(msg);
        requireInputs(
          [...agents.flatMap((a) => [a.fields.role, a.fields.goal, a.fields.backstory]), ...crew.tasks.flatMap((t) => [t.description, t.expectedOutput ?? '', ...(t.guardrails ?? [])])],
          inputs,
        );
        const budget = runBudget(props.budget, props.flowBudget, ctx);
        const env = withBudget(agentEnvironment(ctx, props.stream !== false), budget);
        // A connector source runs as a tool call of this run, kept under the crew's invocation (no step of that key).
        const synced = await knowledge?.refresh(ctx.signal, env, (source) =>
          ctx.callTool({ type: source.type, props: source.props ?? {}, input: { payload: msg.payload }, label: `knowledge: ${source.name || source.type}`, step: 'knowledge', ...(source.credentials ? { credentials: source.credentials } : {}) }),
        );
        const memory = crewMemoryFor(props.memory, init, model.provider(), store, env);
        const runAgents: Agent[] = [];
        for (const a of agents) {
          const agent = await agentForMessage(a, inputs, { temperature: props.temperature, maxTokens: props.maxTokens });
          // Crew memory, when on, is every agent's (as in CrewAI); knowledge grounds every agent's tasks.
          runAgents.push({ ...agent, ...(memory ? { memory } : {}), ...(knowledge ? { knowledge } : {}) });
        }
        const tasks: CrewTask[] = [];
        for (const t of crew.tasks) {
          tasks.push({
            key: t.key,
            description: interpolate(t.description, inputs),
            expectedOutput: t.expectedOutput ? interpolate(t.expectedOutput, inputs) : undefined,
            agent: t.agent,
            context: t.context,
            outputSchema: schemas.get(t.key),
            markdown: t.markdown,
            guardrails: t.guardrails?.map((g) => interpolate(g, inputs)),
            guardrailFunction: guardrailFunctions.has(t.key)
              ? functionGuardrail(guardrailFunctions.get(t.key)!, { key: t.key, description: interpolate(t.description, inputs), expectedOutput: t.expectedOutput && interpolate(t.expectedOutput, inputs) })
              : undefined,
            guardrailMaxRetries: t.guardrailMaxRetries,
            tools: await taskTools.get(t.key)?.tools(),
            humanInput: t.humanInput,
            asyncExecution: t.asyncExecution,
          });
        }
        const runManager = process === 'hierarchical' ? await agentForMessage(manager, inputs, { temperature: props.temperature }) : undefined;
        const runPlanner = planner ? await agentForMessage(planner, inputs, { temperature: props.temperature }) : undefined;
        const progress = env.progress;
        env.progress = (event) => {
          if (event.type === 'task-start') ctx.status({ fill: 'blue', shape: 'dot', text: `${event.task}: ${event.agent}` });
          progress(event);
        };
        // Finished steps of this invocation: an earlier attempt's (a crash, a retry, a human review) or a re-run's copies.
        const checkpoint = await CrewSteps.open(ctx.steps, { context: ctx.context.node, idempotencyKey: ctx.idempotencyKey, log: ctx.log });
        const outcome = await showingFailure(ctx, () =>
          runCrew({ agents: runAgents, tasks, process, manager: runManager, maxRevisions: props.maxRevisions ?? 1, resume: checkpoint, human: humanReviewer(ctx, props.humanInput), planner: runPlanner }, env),
        );
        checkpoint.settled();
        ctx.status({ fill: 'green', shape: 'dot', text: `done: ${outcome.tasks.length} tasks` });
        const names = new Map(crew.tasks.map((t) => [t.key, t.name]));
        return {
          ...msg,
          payload: outcome.json !== undefined ? outcome.json : outcome.output,
          crew: {
            process,
            ...(outcome.plan === undefined ? {} : { plan: outcome.plan }),
            ...(outcome.planning ? { planning: outcome.planning } : {}),
            tasks: outcome.tasks.map((t) => ({
              task: t.task,
              ...(names.get(t.task) ? { name: names.get(t.task) } : {}),
              agent: t.agent,
              output: t.output,
              ...(t.json === undefined ? {} : { json: t.json }),
              iterations: t.iterations,
              toolCalls: t.toolCalls,
              truncated: t.truncated,
              toolsUnused: t.toolsUnused,
              notes: t.notes,
              ...(t.plan === undefined ? {} : { plan: t.plan }),
              ...(t.review ? { review: t.review } : {}),
              ...(t.guardrails ? { guardrails: t.guardrails } : {}),
              ...(t.humanReviews ? { humanReviews: t.humanReviews } : {}),
            })),
            usage: outcome.usage,
            ...(budget ? { spend: budget.spend } : {}),
            ...(synced ? { knowledge: synced } : {}),
            ...(checkpoint.resumed.length ? { resumed: checkpoint.resumed } : {}),
          },
        };
      },
      async close() {
        await store?.release();
      },
    };
  },
});
