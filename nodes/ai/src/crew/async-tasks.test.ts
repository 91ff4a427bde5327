/**
 * CrewAI's async_execution: async tasks run side by side, the next task that is not async waits for them and gets
 * their answers; each async task's context is the last non-async answer; each counts its own tokens and is its own
 * step; a failing async task fails the crew only after its neighbours finished (and were stored). Then the rules
 * CrewAI checks on a crew's async tasks, at validation.
 */
import { describe, expect, it } from 'vitest';
import type { Agent, AgentEnvironment } from '../agents/agent.ts';
import { ScriptedProvider, type ScriptedReply } from '../providers/scripted.ts';
import type { ChatRequest } from '../providers/types.ts';
import type { CrewResume, StepMark } from './checkpoint.ts';
import { runCrew, type CrewTask } from './crew.ts';
import { resolveCrew } from './resolve.ts';

const lastUser = (r: ChatRequest) => r.messages.filter((m) => m.role === 'user').at(-1)!.content;

function agent(key: string, reply: (request: ChatRequest) => ScriptedReply | Promise<ScriptedReply>): Agent & { provider: ScriptedProvider } {
  return { key, role: key, goal: `${key} goal`, backstory: '', provider: new ScriptedProvider((r) => reply(r)), tools: [], maxIterations: 3, allowDelegation: false };
}

const env: AgentEnvironment = { signal: new AbortController().signal, callTool: async () => [], progress: () => undefined, recordUsage: () => undefined };

function steps(): CrewResume & { saved: Array<{ key: string; mark: StepMark }> } {
  const saved: Array<{ key: string; mark: StepMark }> = [];
  return {
    saved,
    task: () => undefined,
    takenNote: () => '',
    saveTask: async (input, _outcome, mark) => void saved.push({ key: input.task, mark }),
    plan: () => undefined,
    savePlan: async () => undefined,
    planning: () => undefined,
    savePlanning: async () => undefined,
    draft: () => undefined,
    saveDraft: async () => undefined,
    show: async () => undefined,
  };
}

/** Resolves when `signal()` is called; fails (instead of hanging) if it never is. */
function gate(what: string) {
  let open!: () => void;
  const opened = new Promise<void>((resolve, reject) => {
    open = resolve;
    setTimeout(() => reject(new Error(`${what} never happened: the async tasks did not run side by side`)), 20_000).unref();
  });
  return { open, opened };
}

const tasks: CrewTask[] = [
  { key: 'brief', description: 'Write the brief', agent: 'lead' },
  { key: 'a', description: 'Research market A', agent: 'alpha', asyncExecution: true },
  { key: 'b', description: 'Research market B', agent: 'beta', asyncExecution: true },
  { key: 'report', description: 'Compare the markets', agent: 'lead' },
];

describe('async tasks', () => {
  it('run side by side; the next task waits for both and gets their answers; each step counts its own tokens', async () => {
    const bAsked = gate('task b starting while task a was still running');
    const lead = agent('lead', (r) => (lastUser(r).includes('Compare') ? `report from: ${['The brief.', 'A is big.', 'B is small'].filter((s) => lastUser(r).includes(s)).join(' | ')}` : 'The brief.'));
    const alpha = agent('alpha', async (r) => {
      await bAsked.opened; // a answers only once b has started: they overlap
      return lastUser(r).includes('The brief.') ? 'A is big.' : 'no brief';
    });
    const beta = agent('beta', (r) => {
      bAsked.open();
      return lastUser(r).includes('The brief.') ? 'B is small, very small indeed.' : 'no brief';
    });
    const journal = steps();
    const outcome = await runCrew({ agents: [lead, alpha, beta], tasks, process: 'sequential', maxRevisions: 0, resume: journal }, env);

    expect(outcome.tasks.map((t) => [t.task, t.output])).toEqual([
      ['brief', 'The brief.'],
      ['a', 'A is big.'],
      ['b', 'B is small, very small indeed.'],
      ['report', 'report from: The brief. | A is big. | B is small'],
    ]);
    expect(outcome.output).toBe('report from: The brief. | A is big. | B is small');
    // b finished first (a waited for it), then a, then the report: each stored when done.
    expect(journal.saved.map((s) => s.key)).toEqual(['brief', 'b', 'a', 'report']);
    // The scripted provider counts a word as a token: each step has its own answer's words, not its neighbour's.
    const completion = Object.fromEntries(journal.saved.map((s) => [s.key, s.mark.usage.completionTokens]));
    expect(completion).toMatchObject({ a: 3, b: 6 });
    expect(outcome.usage.completionTokens).toBe(Object.values(completion).reduce((x, y) => x + y, 0));
  });

  it('a failing async task fails the crew after its neighbour finished and was stored; the next task never starts', async () => {
    const lead = agent('lead', () => 'The brief.');
    const alpha = agent('alpha', () => {
      throw new Error('market A is unreachable');
    });
    const beta = agent('beta', () => 'B is small.');
    const journal = steps();
    await expect(runCrew({ agents: [lead, alpha, beta], tasks, process: 'sequential', maxRevisions: 0, resume: journal }, env)).rejects.toThrow(/market A is unreachable/);
    expect(journal.saved.map((s) => s.key)).toEqual(['brief', 'b']);
    expect(lead.provider.requests).toHaveLength(1);
  });

  it('in a hierarchical crew too: the manager assigns the async tasks side by side, the next task gets both answers', async () => {
    const bAssigned = gate('task b being assigned while task a was still running');
    const manager = agent('manager', async (r) => {
      const prompt = lastUser(r);
      if (prompt.includes('Plan how your team')) return 'Split the markets.';
      if (prompt.includes('Assign the task "b"')) bAssigned.open();
      if (prompt.includes('Assign the task "a"')) await bAssigned.opened;
      if (prompt.includes('Assign the task')) return '{"agent":"lead","instructions":"Do it."}';
      return '{"approved":true,"feedback":"Fine."}';
    });
    const lead = agent('lead', (r) => {
      const prompt = lastUser(r);
      if (prompt.includes('Compare')) return `report from: ${['A is big.', 'B is small.'].filter((s) => prompt.includes(s)).join(' | ')}`;
      return prompt.includes('market A') ? 'A is big.' : prompt.includes('market B') ? 'B is small.' : 'The brief.';
    });
    const outcome = await runCrew({ agents: [lead], tasks: tasks.map((t) => ({ ...t, agent: undefined })), process: 'hierarchical', manager, maxRevisions: 0 }, env);
    expect(outcome.tasks.map((t) => [t.task, t.output])).toEqual([
      ['brief', 'The brief.'],
      ['a', 'A is big.'],
      ['b', 'B is small.'],
      ['report', 'report from: A is big. | B is small.'],
    ]);
  });

  it("CrewAI's rules at validation: at most one async task at the end, no context from an async task running beside it", () => {
    const crew = (list: Array<Record<string, unknown>>) =>
      resolveCrew({ agents: [{ key: 'x', role: 'X', goal: 'G' }], tasks: list.map((t) => ({ agent: 'x', description: 'Do it', ...t })) as never }).issues;
    expect(crew([{ key: 'one' }, { key: 'two', asyncExecution: true }])).toEqual([]);
    expect(crew([{ key: 'one', asyncExecution: true }, { key: 'two', asyncExecution: true }])).toEqual([
      { pointer: '/tasks/1/asyncExecution', message: 'the crew ends with 2 async tasks ("one", "two"); as in CrewAI it may end with at most one, so its answer is the crew\'s' },
    ]);
    expect(crew([{ key: 'one', asyncExecution: true }, { key: 'two', asyncExecution: true, context: ['one'] }, { key: 'three' }])).toEqual([
      { pointer: '/tasks/1/asyncExecution', message: 'async task "two" takes context from "one", an async task still running beside it: make one of them not async, or drop it from the context' },
    ]);
  });
});
