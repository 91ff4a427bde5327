/**
 * CrewAI's crew planning (`Crew(planning=True, planning_llm=...)`): before the first task, a planner agent writes a
 * step-by-step plan for every task from the tasks, their agents and the agents' tools, and each task's description
 * gets its plan appended, so the working agents follow it. Flowcrew keeps the plans as one durable step of the
 * crew ('planning'): a crew resumed after a crash, or re-run from a later task, works to the plans it started with.
 * The plans are one structured answer (a field per task key, bounded in length), so a model that cannot follow
 * the format fails the crew with the reason instead of planning some tasks at random.
 */
import type { JsonSchema } from '@flowcrew/sdk';
import { runAgentTask, type Agent, type AgentEnvironment } from '../agents/agent.ts';
import { OutputSchema } from '../agents/structured-output.ts';
import type { StepMark } from './checkpoint.ts';
import type { Crew, CrewTask } from './crew.ts';

/** CrewAI's planner agent (crewai/utilities/planning_handler.py), as the planner's default fields. */
export const PLANNER_FIELDS = {
  role: 'Task Execution Planner',
  goal: 'Your goal is to create an extremely detailed, step-by-step plan based on the tasks and tools available to each agent so that they can perform the tasks in an exemplary manner',
  backstory: 'Planner agent for crew planning',
};

/** A plan per task stays short enough for a small model's context, and its JSON closes within the token budget. */
export const PLAN_MAX_CHARS = 500;

/** Tokens the planner may spend on its answer: a full plan per task at about two characters per token, plus the JSON. */
export function plannerTokens(tasks: number): number {
  return 128 + tasks * Math.ceil(PLAN_MAX_CHARS / 2);
}

function plansSchema(tasks: CrewTask[]): JsonSchema {
  return {
    type: 'object',
    properties: Object.fromEntries(tasks.map((t) => [t.key, { type: 'string', minLength: 1, maxLength: PLAN_MAX_CHARS }])),
    required: tasks.map((t) => t.key),
    additionalProperties: false,
  };
}

function summary(crew: Crew): string {
  const agents = new Map(crew.agents.map((a) => [a.key, a]));
  return crew.tasks
    .map((t, i) => {
      const agent = t.agent ? agents.get(t.agent) : undefined;
      const tools = (t.tools ?? agent?.tools ?? []).map((tool) => tool.spec.name);
      return (
        `Task ${i + 1} (key "${t.key}"): ${t.description}` +
        (t.expectedOutput ? `\n  Expected output: ${t.expectedOutput}` : '') +
        (agent ? `\n  Agent: ${agent.role}. Goal: ${agent.goal}` : crew.process === 'hierarchical' ? '\n  Agent: chosen by the manager' : '') +
        `\n  Tools: ${tools.length ? tools.join(', ') : 'none'}`
      );
    })
    .join('\n');
}

/**
 * The crew's tasks with their plans appended (taken from the 'planning' step when an earlier attempt or the run a
 * re-run started from made them), and the plans by task key.
 */
export async function withPlans(crew: Crew, planner: Agent, env: AgentEnvironment): Promise<{ tasks: CrewTask[]; plans: Record<string, string> }> {
  let plans = crew.resume?.planning();
  if (plans === undefined) {
    const started = crew.clock!();
    const answer = await runAgentTask(
      { ...planner, tools: [], reasoning: false, memory: undefined, maxTokens: Math.max(planner.maxTokens ?? 0, plannerTokens(crew.tasks.length)) },
      {
        key: 'planning',
        description:
          `Based on these tasks summary:\n${summary(crew)}\n\n` +
          'Create the most descriptive plan based on the tasks descriptions, tools available, and agents\' goals for them to execute their goals with perfection. ' +
          `Answer with one plan per task key, at most ${PLAN_MAX_CHARS} characters each.`,
        outputSchema: new OutputSchema(plansSchema(crew.tasks)),
      },
      env,
    );
    plans = answer.json as Record<string, string>;
    await crew.resume?.savePlanning(plans, started() satisfies StepMark);
  }
  env.progress({ type: 'crew-plan', text: crew.tasks.map((t) => `${t.key}: ${plans![t.key] ?? ''}`).join('\n') });
  const tasks = crew.tasks.map((t) => (plans![t.key] ? { ...t, description: `${t.description}\n\nPlan for this task:\n${plans![t.key]}` } : t));
  return { tasks, plans };
}
