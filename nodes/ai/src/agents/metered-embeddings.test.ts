/** Embeddings count in usage and budgets: scripted provider (words = tokens) and the real local model's tokenizer. */
import { describe, expect, it } from 'vitest';
import type { ModelUsage } from '@flowcrew/sdk';
import { RunBudget } from '../crew/budget.ts';
import { createProvider } from '../providers/config.ts';
import { ScriptedProvider } from '../providers/scripted.ts';
import { localModelPath, skipLocalModelTests } from '../testing/local-model.ts';
import { meteredEmbeddings } from './metered-embeddings.ts';

const outbound = {} as never;

describe('metered embeddings', () => {
  it('records the tokens of each embed call on the usage and the budget, and stops once the budget is spent', async () => {
    const recorded: ModelUsage[] = [];
    const budget = new RunBudget({ maxTokens: 6 });
    const provider = meteredEmbeddings(new ScriptedProvider([]), { recordUsage: (u) => (budget.record(u), recorded.push(u)), beforeCall: (next) => budget.check(next) }, 'crew memory');
    expect(await provider.embed(['pgvector adds vectors', 'to PostgreSQL'])).toHaveLength(2);
    expect(recorded).toEqual([{ model: 'scripted', promptTokens: 5, completionTokens: 0 }]);
    await provider.embed(['one more']);
    expect(budget.spend).toMatchObject({ tokens: 7, calls: 2 });
    await expect(provider.embed(['too late'])).rejects.toThrow(/^Stopped before crew memory \(embedding 1 text\): this run's budget is spent/);
  });

  it.skipIf(skipLocalModelTests)('counts the local model’s tokens with its tokenizer, the same on every call', async () => {
    const recorded: ModelUsage[] = [];
    const local = createProvider({ provider: 'local-gguf', modelPath: localModelPath! }, outbound);
    const provider = meteredEmbeddings(local, { recordUsage: (u) => recorded.push(u) }, 'memory');
    const text = 'Crew memory keeps what earlier tasks found, so later ones can recall it.';
    await provider.embed([text]);
    await provider.embed([text]);
    expect(recorded).toHaveLength(2);
    expect(recorded[0]!.promptTokens).toBeGreaterThan(10);
    expect(recorded[1]).toEqual(recorded[0]);
    expect(recorded[0]!.costUsd).toBe(0); // the local model costs nothing, and says so
  }, 120_000);
});
