import { describe, expect, it } from 'vitest';
import { NodeInputError } from '../index.ts';
import { DEFAULT_LIMITS, EvaluationBudget, LimitExceededError, readLimits } from './limits.ts';

describe('readLimits', () => {
  it('takes defaults, overridden by environment variables', () => {
    expect(readLimits({})).toEqual(DEFAULT_LIMITS);
    const limits = readLimits({ FLOWCREW_EXPRESSION_TIMEOUT_MS: '250', FLOWCREW_MAX_DEPTH: '64', FLOWCREW_REGEX_TIMEOUT_MS: ' ' });
    expect(limits.expressionTimeoutMs).toBe(250);
    expect(limits.maxDepth).toBe(64);
    expect(limits.regexTimeoutMs).toBe(DEFAULT_LIMITS.regexTimeoutMs);
  });

  it('refuses a value that is not a positive whole number, naming the variable', () => {
    expect(() => readLimits({ FLOWCREW_CSV_MAX_COLUMNS: 'lots' })).toThrow('FLOWCREW_CSV_MAX_COLUMNS must be a positive whole number (got "lots")');
    expect(() => readLimits({ FLOWCREW_MAX_ITEMS: '0' })).toThrow(/FLOWCREW_MAX_ITEMS/);
  });
});

describe('LimitExceededError', () => {
  it('is a NodeInputError (not retried) naming the variable that sets the limit', () => {
    const error = new LimitExceededError('Too big', { name: 'maxItems', value: 3, variable: 'FLOWCREW_MAX_ITEMS' });
    expect(error).toBeInstanceOf(NodeInputError);
    expect(error.retryable).toBe(false);
    expect(error.message).toBe('Too big (FLOWCREW_MAX_ITEMS)');
    expect(error.details).toEqual({ limit: 'maxItems', value: 3 });
  });
});

describe('EvaluationBudget', () => {
  it('yields to other work every few ms, does not count the time spent waiting, and stops at the limit', async () => {
    const budget = new EvaluationBudget('The loop', 'expressionTimeoutMs', { ...DEFAULT_LIMITS, expressionTimeoutMs: 100 });
    let timerRuns = 0;
    const timer = setInterval(() => {
      timerRuns++;
      const until = performance.now() + 2; // other work that takes time while the evaluation waits
      while (performance.now() < until);
    }, 1);
    const started = performance.now();
    let error: unknown;
    try {
      for (;;) await budget.check();
    } catch (e) {
      error = e;
    } finally {
      clearInterval(timer);
    }
    expect((error as Error).message).toBe('The loop exceeded its time limit of 100 ms (FLOWCREW_EXPRESSION_TIMEOUT_MS)');
    expect(budget.failure).toBe(error);
    // It let the timer in, and the timer's 2 ms each were not counted against the 100 ms (how many times it got in
    // depends on how busy the machine is: a loaded machine makes each slice longer, so there are fewer of them).
    expect(timerRuns).toBeGreaterThan(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(100 + 2 * timerRuns);
  });
});
