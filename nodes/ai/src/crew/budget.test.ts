import { describe, expect, it } from 'vitest';
import type { ContextStore } from '@flowcrew/sdk';
import type { AgentEnvironment } from '../agents/agent.ts';
import { ScriptedProvider } from '../providers/scripted.ts';
import { BudgetExceededError, FLOW_SPEND_KEY, FlowSpend, RunBudget } from './budget.ts';
import { runCrew } from './crew.ts';
import { verdictOf } from './function-guardrail.ts';

function memoryContext(): ContextStore & { values: Map<string, unknown> } {
  const values = new Map<string, unknown>();
  return { values, get: (k) => structuredClone(values.get(k)), set: (k, v) => void values.set(k, v), keys: () => [...values.keys()] };
}

describe('budgets', () => {
  it('let calls through until the run has spent its tokens, then refuse the next one with the figures', () => {
    const budget = new RunBudget({ maxTokens: 100 });
    budget.check('call 1');
    budget.record({ promptTokens: 60, completionTokens: 50 });
    expect(() => budget.check('call 2')).toThrow("Stopped before call 2: this run's budget is spent (110 tokens used of 100, in 1 model calls)");
    expect(() => budget.check('call 2')).toThrow(BudgetExceededError);
  });

  it("keep the flow's spend per period in flow context and start again when the period turns", () => {
    const context = memoryContext();
    let now = new Date('2026-12-03T23:59:00Z');
    const flow = new FlowSpend(context, { maxCostUsd: 0.01, period: 'day' }, () => now);
    new RunBudget(undefined, flow).record({ promptTokens: 1, completionTokens: 1, costUsd: 0.006 });
    const second = new RunBudget(undefined, flow);
    second.record({ promptTokens: 1, completionTokens: 1, costUsd: 0.006 });
    expect(context.values.get(FLOW_SPEND_KEY)).toEqual({ period: '2026-12-03', costUsd: 0.012, tokens: 4, calls: 2 });
    expect(() => second.check('the next call')).toThrow("the flow's budget is spent this UTC day ($0.0120 spent of $0.0100, in 2 model calls)");
    now = new Date('2026-12-04T00:00:01Z');
    expect(() => second.check('the next call')).not.toThrow();
    expect(flow.read()).toEqual({ costUsd: 0, tokens: 0, calls: 0 });
  });

  it('stop a crew between tasks: the second agent never calls its model', async () => {
    const second = new ScriptedProvider(['never']);
    const budget = new RunBudget({ maxTokens: 5 });
    const env: AgentEnvironment = {
      signal: new AbortController().signal,
      callTool: async () => [],
      progress: () => undefined,
      beforeCall: (next) => budget.check(next),
      recordUsage: (u) => budget.record(u),
    };
    const agents = [
      { key: 'a', role: 'A', goal: 'g', backstory: '', provider: new ScriptedProvider(['six words in this answer here']), tools: [], maxIterations: 2, allowDelegation: false },
      { key: 'b', role: 'B', goal: 'g', backstory: '', provider: second, tools: [], maxIterations: 2, allowDelegation: false },
    ];
    const tasks = [
      { key: 't1', description: 'one', agent: 'a' },
      { key: 't2', description: 'two', agent: 'b' },
    ];
    await expect(runCrew({ agents, tasks, process: 'sequential', maxRevisions: 0 }, env)).rejects.toThrow(/Stopped before a model call of agent "B" on task "t2": this run's budget is spent/);
    expect(second.requests).toHaveLength(0);
  });
});

describe("a guardrail function's result, read as CrewAI reads it", () => {
  const where = 'the guardrail function of task "t"';
  it.each([
    [true, { valid: true, feedback: '' }],
    [false, { valid: false, feedback: `${where} returned false` }],
    [[false, 'too long'], { valid: false, feedback: 'too long' }],
    [[true, 'Shorter.'], { valid: true, feedback: '', replacement: { output: 'Shorter.' } }],
    [[true, { n: 1 }], { valid: true, feedback: '', replacement: { output: '{"n":1}', json: { n: 1 } } }],
    [[true, null], { valid: true, feedback: '' }],
    [{ valid: false, feedback: 'no source' }, { valid: false, feedback: 'no source' }],
  ])('%j', (value, verdict) => expect(verdictOf(value, where)).toEqual(verdict));

  it('refuses anything else, saying what to return', () => {
    expect(() => verdictOf('ok', where)).toThrow(`${where} returned "ok": return true, false, [valid, feedbackOrReplacement] or {valid, feedback}`);
  });
});
