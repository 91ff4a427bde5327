/**
 * Crew planning (CrewAI's planning=True): the planner is asked once, before the first task, with every task, its
 * agent and tools; each task works to its plan; the plans are one durable step, taken (not asked again) on resume.
 */
import { describe, expect, it } from 'vitest';
import type { Agent, AgentEnvironment } from '../agents/agent.ts';
import { ScriptedProvider, type ScriptedReply } from '../providers/scripted.ts';
import type { ChatRequest } from '../providers/types.ts';
import type { CrewResume } from './checkpoint.ts';
import { runCrew, type CrewTask } from './crew.ts';
import { PLANNER_FIELDS, PLAN_MAX_CHARS } from './planning.ts';

const lastUser = (r: ChatRequest) => r.messages.filter((m) => m.role === 'user').at(-1)!.content;

function agent(key: string, role: string, reply: (request: ChatRequest) => ScriptedReply): Agent & { provider: ScriptedProvider } {
  return { key, role, goal: `${role} goal`, backstory: '', provider: new ScriptedProvider((r) => reply(r)), tools: [], maxIterations: 3, allowDelegation: false };
}

const env: AgentEnvironment = { signal: new AbortController().signal, callTool: async () => [], progress: () => undefined, recordUsage: () => undefined };

/** Steps kept in memory, as CrewSteps keeps them in the run's invocations. */
function journal(): CrewResume & { saved: Array<{ key: string; value: unknown }> } {
  const saved: Array<{ key: string; value: unknown }> = [];
  const find = (key: string) => saved.find((s) => s.key === key)?.value;
  return {
    saved,
    task: (key) => find(`task:${key}`) as never,
    takenNote: () => 'taken',
    saveTask: async (input, outcome) => void saved.push({ key: `task:${input.task}`, value: outcome }),
    plan: () => find('plan') as string | undefined,
    savePlan: async (plan) => void saved.push({ key: 'plan', value: plan }),
    planning: () => find('planning') as Record<string, string> | undefined,
    savePlanning: async (plans) => void saved.push({ key: 'planning', value: plans }),
    draft: () => undefined,
    saveDraft: async () => undefined,
    show: async () => undefined,
  };
}

const tasks: CrewTask[] = [
  { key: 'research', description: 'Research pgvector', expectedOutput: 'Three facts', agent: 'researcher' },
  { key: 'write', description: 'Write a paragraph', agent: 'writer' },
];

describe('crew planning', () => {
  it('plans every task once, before the first; each task gets its plan; the plans are one step, taken on resume', async () => {
    const planner = agent('planner', PLANNER_FIELDS.role, (r) => {
      const prompt = lastUser(r);
      expect(prompt).toContain('Task 1 (key "research"): Research pgvector');
      expect(prompt).toContain('Expected output: Three facts');
      expect(prompt).toContain('Agent: Writer. Goal: Writer goal');
      return JSON.stringify({ research: 'Read the README, then list three facts.', write: 'Use the facts; one paragraph.' });
    });
    const researcher = agent('researcher', 'Researcher', (r) => (lastUser(r).includes('Plan for this task:\nRead the README') ? 'Facts.' : 'no plan'));
    const writer = agent('writer', 'Writer', (r) => (lastUser(r).includes('Plan for this task:\nUse the facts; one paragraph.') ? 'Paragraph.' : 'no plan'));
    const steps = journal();
    const crew = { agents: [researcher, writer], tasks, process: 'sequential' as const, maxRevisions: 0, planner, resume: steps };

    const outcome = await runCrew(crew, env);
    expect(outcome.tasks.map((t) => t.output)).toEqual(['Facts.', 'Paragraph.']);
    expect(outcome.planning).toEqual({ research: 'Read the README, then list three facts.', write: 'Use the facts; one paragraph.' });
    expect(planner.provider.requests).toHaveLength(1);
    // The planner answers in the shape of its schema: a bounded plan for each task key, nothing else.
    expect(planner.provider.requests[0]!.responseSchema).toMatchObject({
      required: ['research', 'write'],
      additionalProperties: false,
      properties: { research: { maxLength: PLAN_MAX_CHARS } },
    });
    expect(steps.saved.map((s) => s.key)).toEqual(['planning', 'task:research', 'task:write']);

    // Resumed (a crash after the first task): the plans and the first task are taken; the planner is not asked again.
    const resumed = journal();
    resumed.saved.push(...steps.saved.slice(0, 2));
    await runCrew({ ...crew, resume: resumed }, env);
    expect(planner.provider.requests).toHaveLength(1);
    expect(researcher.provider.requests).toHaveLength(1);
    expect(writer.provider.requests).toHaveLength(2);
    expect(lastUser(writer.provider.requests[1]!)).toContain('Plan for this task:\nUse the facts; one paragraph.');
  });

  it('a planner answer missing a task is refused (the crew fails with the reason), not half applied', async () => {
    const planner = agent('planner', PLANNER_FIELDS.role, () => JSON.stringify({ research: 'Only this one.' }));
    const researcher = agent('researcher', 'Researcher', () => 'Facts.');
    const writer = agent('writer', 'Writer', () => 'Paragraph.');
    await expect(runCrew({ agents: [researcher, writer], tasks, process: 'sequential', maxRevisions: 0, planner }, env)).rejects.toThrow(/write/);
    expect(researcher.provider.requests).toHaveLength(0);
  });
});
