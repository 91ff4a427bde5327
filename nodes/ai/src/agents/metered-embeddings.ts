/**
 * Embeddings count like chat calls: a provider seen through `meteredEmbeddings` checks the budget before each embed
 * call and records the tokens the provider counted (and their cost, at the credential's input price) on the
 * invocation's usage and against the budgets. Crew memory embeds through it (recall and remember, entities).
 */
import type { ModelProvider } from '../providers/types.ts';
import type { AgentEnvironment } from './agent.ts';

export function meteredEmbeddings(provider: ModelProvider, env: Pick<AgentEnvironment, 'recordUsage' | 'beforeCall'>, what: string): ModelProvider {
  return {
    kind: provider.kind,
    model: provider.model,
    embeddingModel: provider.embeddingModel,
    chat: (request) => provider.chat(request),
    cost: provider.cost ? (usage) => provider.cost!(usage) : undefined,
    async embed(texts, signal, onUsage) {
      env.beforeCall?.(`${what} (embedding ${texts.length} text${texts.length === 1 ? '' : 's'})`);
      return provider.embed(texts, signal, (usage) => {
        onUsage?.(usage);
        const costUsd = provider.cost?.(usage);
        env.recordUsage({ model: provider.embeddingModel ?? provider.model, promptTokens: usage.promptTokens, completionTokens: 0, ...(costUsd === undefined ? {} : { costUsd }) });
      });
    },
  };
}
