/**
 * The one interface every model provider implements (OpenAI-compatible, Anthropic, local GGUF, scripted),
 * so agents and crews never know which wire format or runtime sits behind a model.
 */
import type { JsonSchema } from '@flowcrew/sdk';

export interface ToolCallRequest {
  /** Provider-issued id, echoed back with the result (synthesised when the provider has none). */
  id: string;
  name: string;
  arguments: Record<string, unknown>;
  /** Set when the model's arguments were not a JSON object: the raw text, so the agent can tell the model. */
  invalidArguments?: string;
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCallRequest[] }
  | { role: 'tool'; toolCallId: string; name: string; content: string; isError?: boolean };

export interface ToolSpec {
  /** Letters, digits, _ and -, at most 64 characters: the common denominator of the providers. */
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: JsonSchema;
}

export interface ChatRequest {
  messages: ChatMessage[];
  tools?: ToolSpec[];
  /** Ask for a JSON answer matching this schema (natively where the provider can; validated by the caller). */
  responseSchema?: JsonSchema;
  temperature?: number;
  maxTokens?: number;
  signal?: AbortSignal;
  /** Streaming: called with each piece of answer text as it is generated. */
  onText?: (delta: string) => void;
  /** Called before a retry, so a live view can drop text streamed by the failed attempt. */
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
  /**
   * When the prompt plus the answer budget (maxTokens) does not fit the model's context window, checked before the
   * call by providers that know the window (the local model): 'fail' (default) refuses the call saying by how much;
   * 'truncate' cuts the middle of the longest messages to fit and says so in ChatResult.notes. Never silent.
   */
  contextOverflow?: ContextOverflowPolicy;
}

export type ContextOverflowPolicy = 'fail' | 'truncate';

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface ChatResult {
  content: string;
  toolCalls: ToolCallRequest[];
  usage: TokenUsage;
  /** Model name as the provider reported it. */
  model: string;
  finishReason: 'stop' | 'length' | 'tool_calls' | 'other';
  /** What the provider changed to make the call possible (e.g. the prompt cut to the context window), for the run record. */
  notes?: string[];
  /** Cost of this call in USD when the provider knows it better than `cost(usage)` (a fallback's model answered). */
  costUsd?: number;
}

export interface ModelProvider {
  /** 'openai-compatible' | 'anthropic' | 'local-gguf' | 'scripted', for messages and usage records. */
  readonly kind: string;
  /** Default model name (or file name for a local model). */
  readonly model: string;
  /** Model used by embed(), when it differs from `model`. */
  readonly embeddingModel?: string;
  chat(request: ChatRequest): Promise<ChatResult>;
  /**
   * One vector per text. Throws a clear error when the provider has no embeddings. `onUsage` is told the tokens the
   * texts took (as the provider counts them), for usage records and budgets (agents/metered-embeddings.ts).
   */
  embed(texts: string[], signal?: AbortSignal, onUsage?: (usage: TokenUsage) => void): Promise<number[][]>;
  /** Cost of a call in USD, when prices are known (configured on the credential). */
  cost?(usage: TokenUsage): number | undefined;
}
