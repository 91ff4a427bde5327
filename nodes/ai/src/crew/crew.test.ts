import { describe, expect, it } from 'vitest';
import type { Agent, AgentEnvironment, AgentProgress } from '../agents/agent.ts';
import { OutputSchema } from '../agents/structured-output.ts';
import { ScriptedProvider, type ScriptedReply } from '../providers/scripted.ts';
import type { ChatRequest } from '../providers/types.ts';
import { runCrew, type CrewTask } from './crew.ts';

function agent(key: string, role: string, reply: (request: ChatRequest) => ScriptedReply, overrides: Partial<Agent> = {}): Agent {
  return { key, role, goal: `${role} goal`, backstory: '', provider: new ScriptedProvider((r) => reply(r)), tools: [], maxIterations: 4, allowDelegation: false, ...overrides };
}

function environment() {
  const events: AgentProgress[] = [];
  const env: AgentEnvironment = { signal: new AbortController().signal, callTool: async () => [], progress: (e) => events.push(e), recordUsage: () => undefined };
  return { env, events };
}

const lastUser = (r: ChatRequest) => r.messages.filter((m) => m.role === 'user').at(-1)!.content;

describe('a sequential crew', () => {
  it('runs the tasks in order, each with the outputs it depends on, and returns the last answer', async () => {
    const researcher = agent('research', 'Researcher', () => 'Fact: pgvector adds vector search to PostgreSQL.');
    const analyst = agent('analysis', 'Analyst', (r) => (lastUser(r).includes('Fact: pgvector') ? 'Finding: use pgvector.' : 'no context!'));
    const reviewer = agent('qa', 'Reviewer', (r) => (lastUser(r).includes('Finding: use pgvector.') && lastUser(r).includes('Fact: pgvector') ? '{"verdict":"approved"}' : '{"verdict":"missing context"}'));
    const tasks: CrewTask[] = [
      { key: 'research', description: 'Research pgvector', agent: 'research' },
      { key: 'analyse', description: 'Analyse it', agent: 'analysis' },
      { key: 'review', description: 'Review', agent: 'qa', context: ['research', 'analyse'], outputSchema: new OutputSchema({ type: 'object', properties: { verdict: { type: 'string' } } }) },
    ];
    const { env, events } = environment();
    const outcome = await runCrew({ agents: [researcher, analyst, reviewer], tasks, process: 'sequential', maxRevisions: 0 }, env);
    expect(outcome.tasks.map((t) => [t.task, t.agent, t.output])).toEqual([
      ['research', 'Researcher', 'Fact: pgvector adds vector search to PostgreSQL.'],
      ['analyse', 'Analyst', 'Finding: use pgvector.'],
      ['review', 'Reviewer', '{"verdict":"approved"}'],
    ]);
    expect(outcome.json).toEqual({ verdict: 'approved' });
    expect(outcome.usage.completionTokens).toBeGreaterThan(0);
    expect(events.filter((e) => e.type === 'task-start').map((e) => (e as { task: string }).task)).toEqual(['research', 'analyse', 'review']);
  });

  it('lets an agent that allows delegation hand work to a coworker', async () => {
    const writer = agent('writer', 'Writer', (r) => (lastUser(r).includes('Summarise') ? 'A short summary.' : 'unexpected'));
    const lead = agent(
      'lead',
      'Lead',
      (r) => {
        const tools = r.tools?.map((t) => t.name) ?? [];
        if (r.messages.at(-1)!.role === 'tool') return `Final: ${r.messages.at(-1)!.content}`;
        return tools.includes('delegate_work') ? { toolCalls: [{ name: 'delegate_work', arguments: { coworker: 'writer', task: 'Summarise the findings', context: 'findings...' } }] } : 'no delegation tools';
      },
      { allowDelegation: true },
    );
    const { env, events } = environment();
    const outcome = await runCrew({ agents: [lead, writer], tasks: [{ key: 'report', description: 'Write the report', agent: 'lead' }], process: 'sequential', maxRevisions: 0 }, env);
    expect(outcome.output).toBe('Final: A short summary.');
    expect(events).toContainEqual({ type: 'delegation', task: 'report', from: 'Lead', to: 'Writer', instructions: 'Summarise the findings' });
  });
});

describe('a hierarchical crew', () => {
  it('has the manager plan, assign each task, review, and ask for a revision', async () => {
    let reviews = 0;
    const manager = agent('manager', 'Crew Manager', (r) => {
      const prompt = lastUser(r);
      if (prompt.includes('Plan how your team')) return '1. researcher researches. 2. analyst analyses.';
      if (prompt.includes('Assign the task "facts"')) return '{"agent":"researcher","instructions":"List three facts."}';
      if (prompt.includes('Assign the task "advice"')) return '{"agent":"analyst","instructions":"Give one recommendation."}';
      if (prompt.includes('Review')) {
        reviews++;
        // The first answer to "facts" is rejected once; everything else is approved.
        return reviews === 1 ? '{"approved":false,"feedback":"Add sources."}' : '{"approved":true,"feedback":"Good."}';
      }
      return 'unexpected manager prompt';
    });
    const researcher = agent('researcher', 'Researcher', (r) => (lastUser(r).includes('Add sources.') ? 'Three facts, with sources.' : 'Three facts.'));
    const analyst = agent('analyst', 'Analyst', (r) => (lastUser(r).includes('Three facts, with sources.') && lastUser(r).includes('Give one recommendation.') ? 'Recommendation: adopt.' : 'missing context'));
    const { env, events } = environment();
    const outcome = await runCrew(
      {
        agents: [researcher, analyst],
        tasks: [
          { key: 'facts', description: 'Find facts about pgvector' },
          { key: 'advice', description: 'Advise on adoption' },
        ],
        process: 'hierarchical',
        manager,
        maxRevisions: 1,
      },
      env,
    );
    expect(outcome.plan).toBe('1. researcher researches. 2. analyst analyses.');
    expect(outcome.tasks.map((t) => ({ task: t.task, agent: t.agent, output: t.output, review: t.review, instructions: t.instructions }))).toEqual([
      { task: 'facts', agent: 'Researcher', output: 'Three facts, with sources.', review: { approved: true, feedback: 'Good.' }, instructions: 'List three facts.' },
      { task: 'advice', agent: 'Analyst', output: 'Recommendation: adopt.', review: { approved: true, feedback: 'Good.' }, instructions: 'Give one recommendation.' },
    ]);
    expect(outcome.output).toBe('Recommendation: adopt.');
    expect(events.filter((e) => e.type === 'review').map((e) => (e as { approved: boolean }).approved)).toEqual([false, true, true]);
    expect(events.filter((e) => e.type === 'delegation').map((e) => (e as { to: string }).to)).toEqual(['Researcher', 'Analyst']);
  });

  it('keeps the last answer with the manager\'s verdict when revisions run out', async () => {
    const manager = agent('manager', 'Crew Manager', (r) => {
      const prompt = lastUser(r);
      if (prompt.includes('Plan')) return 'plan';
      if (prompt.includes('Assign')) return '{"agent":"w","instructions":"do it"}';
      return '{"approved":false,"feedback":"Still too short."}';
    });
    const worker = agent('w', 'Worker', () => 'short');
    const { env } = environment();
    const outcome = await runCrew({ agents: [worker], tasks: [{ key: 't', description: 'Write' }], process: 'hierarchical', manager, maxRevisions: 1 }, env);
    expect(outcome.tasks[0]).toMatchObject({ output: 'short', review: { approved: false, feedback: 'Still too short.' } });
  });

  it('fails clearly when the manager assigns a task to someone not in the crew', async () => {
    const manager = agent('manager', 'Crew Manager', (r) => (lastUser(r).includes('Plan') ? 'plan' : '{"agent":"ghost","instructions":"x"}'));
    const { env } = environment();
    await expect(runCrew({ agents: [agent('w', 'Worker', () => 'ok')], tasks: [{ key: 't', description: 'Write' }], process: 'hierarchical', manager, maxRevisions: 0 }, env)).rejects.toThrow(
      /Agent "Crew Manager" gave no usable answer to task "t:assign" after 3 attempts: its answer does not match the schema: at \/agent: must be equal to one of the allowed values \(\["w"\]\)/,
    );
  });
});
