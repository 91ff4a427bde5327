/**
 * Run a crew: agents working through tasks, either in order (sequential: each task by its own agent, with the
 * outputs of the tasks it depends on as context) or under a manager (hierarchical: the manager plans, assigns
 * each task to a team member with instructions, reviews the result and asks for a revision when it falls short).
 * The manager's choices are structured answers checked against schemas, so a model that cannot follow the
 * format fails the run with the reason instead of steering the crew at random.
 */
import type { JsonSchema } from '@flowcrew/sdk';
import { runAgentTask, type Agent, type AgentEnvironment, type TaskOutcome } from '../agents/agent.ts';
import { OutputSchema } from '../agents/structured-output.ts';
import type { TokenUsage } from '../providers/types.ts';
import type { AgentTool } from '../tools/types.ts';
import type { CrewResume, StepMark } from './checkpoint.ts';
import { withHumanReview, type HumanReview, type HumanReviewer } from './human-review.ts';
import { withPlans } from './planning.ts';
import { withGuardrails } from './guardrails.ts';
import { ConcurrentTasks, usageScope } from './async-tasks.ts';
import { MAX_NOTE_CHARS } from './limits.ts';

export interface CrewTask {
  key: string;
  description: string;
  expectedOutput?: string;
  agent?: string;
  /** Absent: every earlier task's output (as in CrewAI); []: none. */
  context?: string[];
  outputSchema?: OutputSchema;
  markdown?: boolean;
  /** Rules the answer must pass, each checked by the working agent's model (CrewAI's text guardrails). */
  guardrails?: string[];
  /** A check in code (CrewAI's function guardrail), run before the text rules; it may also replace the answer. */
  guardrailFunction?: GuardrailFunction;
  /** Redos after a failed guardrail before the crew fails (default 3, CrewAI's). */
  guardrailMaxRetries?: number;
  /** In place of the agent's own tools for this task. */
  tools?: AgentTool[];
  /** CrewAI's human_input: a person reviews the answer (human-review.ts). */
  humanInput?: boolean;
  /** CrewAI's async_execution: the crew goes on while it runs (async-tasks.ts). */
  asyncExecution?: boolean;
}

export interface GuardrailVerdict {
  valid: boolean;
  feedback: string;
  /** A passing function guardrail's replacement answer (CrewAI's `(True, value)`). */
  replacement?: { output: string; json?: unknown };
}

export interface GuardrailFunction {
  /** How the check is named in the run record, e.g. 'function'. */
  label: string;
  check(answer: { output: string; json?: unknown }, env: AgentEnvironment): Promise<GuardrailVerdict>;
}

export interface Crew {
  agents: Agent[];
  tasks: CrewTask[];
  process: 'sequential' | 'hierarchical';
  /** Hierarchical crews only. */
  manager?: Agent;
  /** Hierarchical: how many revisions the manager may ask for per task. */
  maxRevisions: number;
  /** Finished steps of an earlier attempt of this invocation (after a crash) or of a re-run's earlier run: taken, not run again. */
  resume?: CrewResume;
  /** Set by runCrew: starts timing a step; calling the result gives its start and the tokens spent since. */
  clock?: () => () => StepMark;
  /** Asks people about tasks with humanInput (ctx.waitForInput); absent: such a task fails. */
  human?: HumanReviewer;
  /** CrewAI's planning=True: this agent plans every task before the first one starts (planning.ts). */
  planner?: Agent;
}

export interface CrewTaskOutcome extends TaskOutcome {
  /** Hierarchical: the manager's last verdict on this task. */
  review?: { approved: boolean; feedback: string };
  instructions?: string;
  /** The guardrail checks of the accepted answer. */
  guardrails?: Array<{ rule: string; passed: boolean; feedback: string }>;
  /** humanInput tasks: each round of a person's review. */
  humanReviews?: HumanReview[];
}

export interface CrewOutcome {
  output: string;
  json?: unknown;
  tasks: CrewTaskOutcome[];
  plan?: string;
  /** The planner's plan per task key (planning). */
  planning?: Record<string, string>;
  usage: TokenUsage;
}

export { DEFAULT_GUARDRAIL_RETRIES, MANAGER_MIN_TOKENS } from './limits.ts';

export async function runCrew(crew: Crew, env: AgentEnvironment): Promise<CrewOutcome> {
  const scope = usageScope(crew, env);
  const { usage, env: counted } = scope;
  crew = scope.crew;
  const clock = crew.clock!;
  const agents = new Map(crew.agents.map((a) => [a.key, a]));
  const done = new Map<string, CrewTaskOutcome>();
  const outcome: CrewOutcome = { output: '', tasks: [], usage };
  if (crew.planner) {
    const planned = await withPlans(crew, crew.planner, counted);
    crew = { ...crew, tasks: planned.tasks };
    outcome.planning = planned.plans;
  }

  if (crew.process === 'hierarchical') {
    const manager = crew.manager;
    if (!manager) throw new Error('a hierarchical crew needs a manager agent');
    let plan = crew.resume?.plan();
    if (plan === undefined) {
      const planned = clock();
      plan = (await runAgentTask(manager, { key: 'plan', description: planPrompt(crew), expectedOutput: 'A short plan: for each task, who should do it and what matters most.' }, counted)).output;
      await crew.resume?.savePlan(plan, planned());
    }
    outcome.plan = plan;
    env.progress({ type: 'crew-plan', text: plan });
  }
  const concurrent = new ConcurrentTasks();
  let lastSync: string | undefined;
  for (const [index, task] of crew.tasks.entries()) {
    const agent = agents.get(task.agent ?? '');
    if (crew.process !== 'hierarchical' && !agent) throw new Error(`task "${task.key}" has no agent in the crew`);
    // A task that is not async waits for the async tasks before it (their answers are its context).
    if (!task.asyncExecution) await concurrent.drain();
    const context = contextFor(task, index, crew.tasks, done, lastSync);
    // Each task counts its own tokens (async tasks run side by side), and its tool calls are filed under its step.
    const own = usageScope(crew, forStep(counted, `task:${task.key}`));
    const work =
      crew.process === 'hierarchical'
        ? (more: Array<{ label: string; text: string }>) => runManagedTask(own.crew, crew.manager!, task, [...context, ...more], outcome.plan!, own.env)
        : (more: Array<{ label: string; text: string }>) =>
            withGuardrails(agent!, task, [...context, ...more], own.env, (extra) =>
              runAgentTask(agent!, { ...task, context: [...context, ...more, ...extra], extraTools: delegationTools(agent!, own.crew, task, own.env) }, own.env),
            );
    const run = () => settle(own.crew, task, context, env, done, outcome, () => withHumanReview(task, crew.human, crew.resume, own.crew.clock!, env, () => work([]), work));
    if (task.asyncExecution) concurrent.start(run);
    else {
      await run();
      lastSync = task.key;
    }
  }
  await concurrent.drain();
  // Async tasks finish in any order: the outcome lists them in the crew's order, the last task's answer is the crew's.
  const order = new Map(crew.tasks.map((t, i) => [t.key, i]));
  outcome.tasks.sort((x, y) => order.get(x.task)! - order.get(y.task)!);
  const last = outcome.tasks[outcome.tasks.length - 1];
  outcome.output = last?.output ?? '';
  if (last?.json !== undefined) outcome.json = last.json;
  return outcome;
}

/** An environment whose tool calls are made for one step (ToolCall.step): stored under it whatever finishes first. */
function forStep(env: AgentEnvironment, step: string): AgentEnvironment {
  return { ...env, callTool: (call) => env.callTool({ ...call, step }) };
}

/**
 * One task to its end: taken as it was when an earlier attempt of this invocation (before a crash) or the run a
 * re-run started from finished it, else run and stored as the crew's step at once.
 */
async function settle(
  crew: Crew,
  task: CrewTask,
  context: Array<{ label: string; text: string }>,
  env: AgentEnvironment,
  done: Map<string, CrewTaskOutcome>,
  outcome: CrewOutcome,
  run: () => Promise<CrewTaskOutcome>,
): Promise<void> {
  const taken = crew.resume?.task(task.key);
  let result: CrewTaskOutcome;
  if (taken) {
    const note = crew.resume!.takenNote(task.key);
    env.progress({ type: 'note', task: task.key, agent: taken.agent, text: note });
    result = { ...taken, notes: [...taken.notes, note] };
  } else {
    const timed = crew.clock!();
    result = await run();
    const input = { task: task.key, description: task.description, ...(task.expectedOutput ? { expectedOutput: task.expectedOutput } : {}), context: context.map((c) => c.label) };
    await crew.resume?.saveTask(input, result, timed());
  }
  done.set(task.key, result);
  outcome.tasks.push(result);
}

/**
 * The outputs a task builds on: the tasks it names ([] = none), else every task before it, as CrewAI does; an async
 * task naming none gets the last non-async task's (the ones beside it are still running).
 */
function contextFor(task: CrewTask, index: number, tasks: CrewTask[], done: Map<string, TaskOutcome>, lastSync: string | undefined): Array<{ label: string; text: string }> {
  const keys = task.context ?? (task.asyncExecution ? (lastSync ? [lastSync] : []) : tasks.slice(0, index).map((t) => t.key));
  return keys.flatMap((key) => {
    const previous = done.get(key);
    return previous ? [{ label: `Output of task "${key}" (${previous.agent})`, text: previous.output }] : [];
  });
}

function team(crew: Crew): string {
  return crew.agents.map((a) => `- ${a.key}: ${a.role}. Goal: ${a.goal}`).join('\n');
}

function planPrompt(crew: Crew): string {
  const tasks = crew.tasks.map((t, i) => `${i + 1}. ${t.key}: ${t.description}${t.expectedOutput ? ` (expected: ${t.expectedOutput})` : ''}`).join('\n');
  return `Plan how your team will complete these tasks, in this order:\n${tasks}\n\nYour team:\n${team(crew)}`;
}

async function runManagedTask(
  crew: Crew,
  manager: Agent,
  task: CrewTask,
  context: Array<{ label: string; text: string }>,
  plan: string,
  env: AgentEnvironment,
): Promise<CrewTaskOutcome> {
  const keys = crew.agents.map((a) => a.key);
  const assigning = crew.clock!();
  const assignment = await runAgentTask(
    manager,
    {
      key: `${task.key}:assign`,
      description:
        `Assign the task "${task.key}" to the best-suited member of your team and write their instructions.\n` +
        `Task: ${task.description}${task.expectedOutput ? `\nExpected output: ${task.expectedOutput}` : ''}` +
        `${task.agent ? `\nSuggested member: ${task.agent}` : ''}\n\nYour team:\n${team(crew)}`,
      context: [{ label: 'Your plan', text: plan }],
      outputSchema: new OutputSchema(assignmentSchema(keys)),
    },
    env,
  );
  const { agent: chosen, instructions } = assignment.json as { agent: string; instructions: string };
  const worker = crew.agents.find((a) => a.key === chosen)!;
  env.progress({ type: 'delegation', task: task.key, from: manager.role, to: worker.role, instructions });
  await crew.resume?.show({ kind: 'assignment', task: task.key, label: `${task.key}: ${manager.role} assigns ${worker.role}`, output: { agent: chosen, instructions }, leavesToolCalls: true }, assigning());

  const briefed = [...context, { label: `Instructions from ${manager.role}`, text: instructions }];
  const work = (more: Array<{ label: string; text: string }>) =>
    withGuardrails(worker, task, [...briefed, ...more], env, (extra) =>
      runAgentTask(worker, { ...task, context: [...briefed, ...more, ...extra], extraTools: delegationTools(worker, crew, task, env) }, env),
    );
  let result: CrewTaskOutcome = await work([]);
  for (let revision = 0; ; revision++) {
    const reviewing = crew.clock!();
    const review = await runAgentTask(
      manager,
      {
        key: `${task.key}:review`,
        description:
          `Review ${worker.role}'s work on the task "${task.key}". Approve it if it meets the expected output; otherwise say precisely what to fix.\n` +
          `Task: ${task.description}${task.expectedOutput ? `\nExpected output: ${task.expectedOutput}` : ''}`,
        context: [{ label: `${worker.role}'s answer`, text: result.output }],
        outputSchema: new OutputSchema(REVIEW_SCHEMA),
      },
      env,
    );
    const verdict = review.json as { approved: boolean; feedback: string };
    env.progress({ type: 'review', task: task.key, agent: worker.role, approved: verdict.approved, feedback: verdict.feedback });
    await crew.resume?.show({ kind: 'review', task: task.key, label: `${task.key}: ${manager.role} reviews ${worker.role}'s answer`, input: { answer: result.output }, output: verdict, leavesToolCalls: true }, reviewing());
    result = { ...result, review: verdict, instructions };
    // Out of revisions, the last answer stands and the verdict is reported with it: not hidden, not fatal.
    if (verdict.approved || revision >= crew.maxRevisions) return result;
    const revised = await work([
      { label: 'Your previous answer', text: result.output },
      { label: `Feedback from ${manager.role}`, text: verdict.feedback },
    ]);
    result = { ...revised, review: verdict, instructions };
  }
}

function assignmentSchema(keys: string[]): JsonSchema {
  return {
    type: 'object',
    properties: { agent: { enum: keys }, instructions: { type: 'string', minLength: 1, maxLength: MAX_NOTE_CHARS } },
    required: ['agent', 'instructions'],
    additionalProperties: false,
  };
}

const REVIEW_SCHEMA: JsonSchema = {
  type: 'object',
  properties: { approved: { type: 'boolean' }, feedback: { type: 'string', maxLength: MAX_NOTE_CHARS } },
  required: ['approved', 'feedback'],
  additionalProperties: false,
};

/**
 * CrewAI's delegation tools for an agent that allows delegation: hand a piece of work, or a question, to a
 * coworker. The coworker works without delegation tools of its own, so delegation cannot recurse.
 */
function delegationTools(agent: Agent, crew: Crew, task: CrewTask, env: AgentEnvironment): AgentTool[] {
  const coworkers = crew.agents.filter((a) => a.key !== agent.key);
  if (!agent.allowDelegation || coworkers.length === 0) return [];
  const coworker = { enum: coworkers.map((a) => a.key), description: coworkers.map((a) => `${a.key}: ${a.role}`).join('; ') };
  const ask = (kind: 'work' | 'question') => async (args: Record<string, unknown>) => {
    const target = coworkers.find((a) => a.key === args.coworker);
    if (!target) throw new Error(`no coworker "${String(args.coworker)}"; choose one of ${coworkers.map((a) => a.key).join(', ')}`);
    const request = String(kind === 'work' ? (args.task ?? '') : (args.question ?? '')).trim();
    if (!request) throw new Error(kind === 'work' ? 'say what the task is' : 'say what the question is');
    env.progress({ type: 'delegation', task: task.key, from: agent.role, to: target.role, instructions: request });
    const asking = crew.clock?.();
    const answer = await runAgentTask(
      { ...target, allowDelegation: false },
      { key: `${task.key}:${kind === 'work' ? 'delegated' : 'question'}`, description: request, context: args.context ? [{ label: `Context from ${agent.role}`, text: String(args.context) }] : [] },
      env,
    );
    if (asking) {
      const step = { kind: 'delegation', task: task.key, label: `${task.key}: ${agent.role} ${kind === 'work' ? 'delegates to' : 'asks'} ${target.role}`, input: { [kind === 'work' ? 'task' : 'question']: request, ...(args.context ? { context: String(args.context) } : {}) }, output: answer.output };
      await crew.resume?.show(step, asking());
    }
    return answer.output;
  };
  return [
    {
      spec: {
        name: 'delegate_work',
        description: 'Hand a specific piece of work to a coworker; they reply with the result. Give them all the context they need.',
        parameters: { type: 'object', properties: { coworker, task: { type: 'string' }, context: { type: 'string' } }, required: ['coworker', 'task'] },
      },
      invoke: ask('work'),
    },
    {
      spec: {
        name: 'ask_question',
        description: 'Ask a coworker a question; they reply with the answer. Give them all the context they need.',
        parameters: { type: 'object', properties: { coworker, question: { type: 'string' }, context: { type: 'string' } }, required: ['coworker', 'question'] },
      },
      invoke: ask('question'),
    },
  ];
}
