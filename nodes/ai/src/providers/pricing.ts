/**
 * Cost of a call from per-million-token prices set on the credential. There is deliberately no built-in
 * price list: it would be stale within months and wrong for self-hosted endpoints (which cost nothing per call).
 */
import type { TokenUsage } from './types.ts';

export interface Prices {
  inputCostPerMillion?: number;
  outputCostPerMillion?: number;
}

export function costOf(prices: Prices, usage: TokenUsage): number | undefined {
  if (prices.inputCostPerMillion === undefined && prices.outputCostPerMillion === undefined) return undefined;
  const cost = (usage.promptTokens * (prices.inputCostPerMillion ?? 0) + usage.completionTokens * (prices.outputCostPerMillion ?? 0)) / 1_000_000;
  return Math.round(cost * 1e9) / 1e9;
}

/** Rough count for servers that report no usage: about four characters per token in English text. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
