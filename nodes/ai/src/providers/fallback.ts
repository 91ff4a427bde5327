/**
 * An agent's fallback model: when its model fails a call for good (an error after the provider's own retries, a
 * refused request, a prompt that does not fit its window), the same request goes to the fallback, and the answer
 * says so in its notes. A cancelled run, or an answer the agent later rejects, is not a model failure.
 * Embeddings stay with the primary model: vectors from two models are not comparable.
 */
import { ProviderError, errorMessage } from './errors.ts';
import type { ChatRequest, ChatResult, ModelProvider, TokenUsage } from './types.ts';

export class FallbackProvider implements ModelProvider {
  readonly kind: string;
  readonly model: string;
  readonly embeddingModel?: string;

  constructor(
    private readonly primary: ModelProvider,
    readonly fallback: ModelProvider,
  ) {
    this.kind = primary.kind;
    this.model = primary.model;
    this.embeddingModel = primary.embeddingModel;
  }

  async chat(request: ChatRequest): Promise<ChatResult> {
    try {
      return priced(await this.primary.chat(request), this.primary);
    } catch (error) {
      if (request.signal?.aborted || !(error instanceof ProviderError)) throw error;
      const reason = errorMessage(error);
      // Text the primary streamed before failing is not part of the answer: a live view drops it, as on a retry.
      request.onRetry?.({ attempt: 1, delayMs: 0, reason: `falling back to ${describe(this.fallback)}: ${reason}` });
      const result = priced(await this.fallback.chat(request), this.fallback);
      const note = `${describe(this.primary)} failed (${reason.slice(0, 300)}); answered by the fallback model ${describe(this.fallback)}`;
      return { ...result, notes: [...(result.notes ?? []), note] };
    }
  }

  embed(texts: string[], signal?: AbortSignal, onUsage?: (usage: TokenUsage) => void): Promise<number[][]> {
    return this.primary.embed(texts, signal, onUsage);
  }

  cost(usage: TokenUsage): number | undefined {
    return this.primary.cost?.(usage);
  }
}

function priced(result: ChatResult, provider: ModelProvider): ChatResult {
  if (result.costUsd !== undefined) return result;
  const costUsd = provider.cost?.(result.usage);
  return costUsd === undefined ? result : { ...result, costUsd };
}

function describe(provider: ModelProvider): string {
  return `${provider.kind} model ${provider.model}`;
}
