import { describe, expect, it } from 'vitest';
import type { Agent, AgentEnvironment, AgentProgress } from '../agents/agent.ts';
import { OutputSchema } from '../agents/structured-output.ts';
import { ScriptedProvider, type ScriptedReply } from '../providers/scripted.ts';
import type { ChatRequest } from '../providers/types.ts';
import { RequestsPerMinute } from '../agents/rate-limit.ts';
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

const contextOf = (r: ChatRequest) => [...lastUser(r).matchAll(/## Output of task "([^"]+)"/g)].map((m) => m[1]!);

describe('what each task is given, as in CrewAI', () => {
  it('gives a task every earlier task\'s output by default, none with context: [], and only those named otherwise', async () => {
    const seen: Record<string, string[]> = {};
    const worker = agent('w', 'Worker', (r) => {
      const task = /Current task: (\w+)/.exec(lastUser(r))![1]!;
      seen[task] = contextOf(r);
      return `${task} done`;
    });
    const tasks: CrewTask[] = [
      { key: 'one', description: 'one', agent: 'w' },
      { key: 'two', description: 'two', agent: 'w' },
      { key: 'three', description: 'three', agent: 'w' },
      { key: 'alone', description: 'alone', agent: 'w', context: [] },
      { key: 'pick', description: 'pick', agent: 'w', context: ['two'] },
    ];
    await runCrew({ agents: [worker], tasks, process: 'sequential', maxRevisions: 0 }, environment().env);
    expect(seen).toEqual({ one: [], two: ['one'], three: ['one', 'two'], alone: [], pick: ['two'] });
  });

  it('asks for Markdown, and tells an agent with injectDate today\'s date', async () => {
    const writer = agent('w', 'Writer', () => '# Done', { injectDate: true });
    await runCrew({ agents: [writer], tasks: [{ key: 't', description: 'Write', agent: 'w', markdown: true }], process: 'sequential', maxRevisions: 0 }, environment().env);
    const prompt = lastUser((writer.provider as ScriptedProvider).requests[0]!);
    expect(prompt).toContain(`Current date: ${new Date().toISOString().slice(0, 10)}`);
    expect(prompt).toContain('Format your final answer in Markdown');
  });

  it('has an agent with reasoning write its plan first and work from it', async () => {
    const planner = agent('p', 'Planner', (r) => (lastUser(r).includes('write a short step-by-step plan') ? '1. Look. 2. Answer.' : lastUser(r).includes('## Your plan\n1. Look. 2. Answer.') ? 'Answer from plan.' : 'no plan'), {
      reasoning: true,
    });
    const { env, events } = environment();
    const outcome = await runCrew({ agents: [planner], tasks: [{ key: 't', description: 'Do it', agent: 'p' }], process: 'sequential', maxRevisions: 0 }, env);
    expect(outcome.tasks[0]).toMatchObject({ output: 'Answer from plan.', plan: '1. Look. 2. Answer.' });
    expect(events).toContainEqual({ type: 'agent-plan', task: 't', agent: 'Planner', text: '1. Look. 2. Answer.' });
  });
});

describe('guardrails (CrewAI\'s text guardrails)', () => {
  const guarded = (verdicts: string[]) => {
    let checks = 0;
    let attempts = 0;
    return agent('w', 'Writer', (r) => {
      if (lastUser(r).startsWith('Current task: Check whether the answer below follows this rule.')) return verdicts[checks++] ?? '{"valid":true,"feedback":""}';
      attempts++;
      return lastUser(r).includes('## Why it was refused\n- At most five words: too long') ? 'Short now.' : 'A far too long answer that goes on.';
    });
  };

  it('sends the task back with the reason when the answer breaks a rule, and records the checks', async () => {
    const writer = guarded(['{"valid":false,"feedback":"too long"}', '{"valid":true,"feedback":"fine"}']);
    const { env, events } = environment();
    const outcome = await runCrew({ agents: [writer], tasks: [{ key: 't', description: 'Write', agent: 'w', guardrails: ['At most five words'] }], process: 'sequential', maxRevisions: 0 }, env);
    expect(outcome.tasks[0]).toMatchObject({ output: 'Short now.', guardrails: [{ rule: 'At most five words', passed: true, feedback: 'fine' }] });
    expect(events.filter((e) => e.type === 'guardrail').map((e) => (e as { passed: boolean }).passed)).toEqual([false, true]);
  });

  it('fails the crew with the rule and the last reason once its retries are spent', async () => {
    const writer = guarded(['{"valid":false,"feedback":"too long"}', '{"valid":false,"feedback":"still too long"}']);
    await expect(
      runCrew({ agents: [writer], tasks: [{ key: 't', description: 'Write', agent: 'w', guardrails: ['At most five words'], guardrailMaxRetries: 1 }], process: 'sequential', maxRevisions: 0 }, environment().env),
    ).rejects.toThrow('Task "t" failed its guardrail after 2 attempts: "At most five words": still too long');
  });
});

describe('limits and what a run records', () => {
  it('fails a task that runs past the agent\'s max execution time, saying so', async () => {
    const slow = agent('s', 'Slow', () => new Promise<string>(() => undefined) as never, { maxExecutionSeconds: 0.2 });
    // The scripted provider ignores the signal; a real provider stops on it. Either way the task fails on time.
    const slowProvider = new ScriptedProvider((r) => new Promise((_, reject) => r.signal?.addEventListener('abort', () => reject(r.signal!.reason))));
    await expect(
      runCrew({ agents: [{ ...slow, provider: slowProvider }], tasks: [{ key: 't', description: 'Wait', agent: 's' }], process: 'sequential', maxRevisions: 0 }, environment().env),
    ).rejects.toThrow('Agent "Slow" ran out of time on task "t": it may take at most 0.2 s (max execution time)');
  });

  it('holds an agent to its requests per minute: the call past the limit waits, and can be cancelled while it waits', async () => {
    const limit = new RequestsPerMinute(1);
    const controller = new AbortController();
    expect(await limit.acquire(controller.signal)).toBeLessThan(1000);
    const second = limit.acquire(controller.signal);
    const state = await Promise.race([second.then(() => 'went through'), new Promise((r) => setTimeout(() => r('waiting'), 300))]);
    expect(state).toBe('waiting');
    controller.abort(new Error('run cancelled'));
    await expect(second).rejects.toThrow('run cancelled');
  });

  it('notes tools offered and none used, answers cut at the token limit, and what the provider cut', async () => {
    const tool = { spec: { name: 'lookup', description: 'Look up', parameters: { type: 'object' } }, invoke: async () => 'x' };
    const worker = agent('w', 'Worker', () => ({ content: 'Partial answer', finishReason: 'length', notes: ['prompt cut from 9000 to 8000 tokens'] }), { tools: [tool], maxTokens: 40 });
    const { env, events } = environment();
    const outcome = await runCrew({ agents: [worker], tasks: [{ key: 't', description: 'Work', agent: 'w' }], process: 'sequential', maxRevisions: 0 }, env);
    expect(outcome.tasks[0]).toMatchObject({
      truncated: true,
      toolsUnused: true,
      notes: [
        'prompt cut from 9000 to 8000 tokens',
        'answer cut at the token limit (maxTokens 40): it may be incomplete; raise maxTokens for a complete answer',
        'tools offered, none used: lookup',
      ],
    });
    expect(events.filter((e) => e.type === 'note')).toHaveLength(3);
  });
});
