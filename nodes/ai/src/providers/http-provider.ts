/**
 * What the HTTP providers (OpenAI-compatible, Anthropic) share around their wire formats: the credential's transport
 * settings (idle timeout, retries) and prices, and the shape of a chat call: one POST, plain JSON or Server-Sent
 * Events when the caller streams, retried as a whole, with a server that ignores `stream: true` read as a plain answer.
 * Each provider only says where to send what, and how to read an answer or a stream.
 */
import type { EventSourceMessage } from 'eventsource-parser';
import type { OutboundServices } from '@flowcrew/sdk';
import { postEventStream, postJson, type HttpCall } from './http.ts';
import { costOf, type Prices } from './pricing.ts';
import { DEFAULT_RETRY, withRetries } from './retry.ts';
import type { ChatRequest, ChatResult, ModelProvider, TokenUsage } from './types.ts';

/** Credential fields every HTTP provider takes. */
export interface HttpProviderConfig extends Prices {
  model: string;
  /** Max wait without receiving any bytes, ms. */
  timeoutMs?: number;
  /** Retries after the first attempt. */
  maxRetries?: number;
  /** First backoff delay, ms (doubles per retry); not a credential field. */
  retryBaseDelayMs?: number;
}

const DEFAULT_TIMEOUT_MS = 120_000;

/** Where one call goes and what it sends. */
export interface HttpTarget {
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

/** Reads the events of one streamed attempt, then gives the answer they add up to. */
export interface StreamReader {
  onEvent(event: EventSourceMessage): void;
  /** Throws (retryable) when the stream ended before the answer was complete. */
  result(): ChatResult;
}

export abstract class HttpModelProvider<C extends HttpProviderConfig> implements ModelProvider {
  abstract readonly kind: string;
  readonly model: string;
  /** Who we are talking to, for error messages: 'Anthropic provider (https://api.anthropic.com)'. */
  protected readonly label: string;
  /** The base URL, without trailing slashes. */
  protected readonly base: string;

  protected constructor(
    protected readonly config: C,
    name: string,
    baseUrl: string,
    /** The runtime's outbound guard (RuntimeServices.outbound): the only way this provider reaches its server. */
    protected readonly outbound: OutboundServices,
  ) {
    this.model = config.model;
    this.base = baseUrl.replace(/\/+$/, '');
    this.label = `${name} provider (${this.base})`;
  }

  /** The chat call: where to send it, and a body that asks for a stream when `stream` is set. */
  protected abstract chatTarget(request: ChatRequest, stream: boolean): HttpTarget;
  /** A whole (non-streamed) answer. */
  protected abstract readAnswer(answer: unknown, request: ChatRequest): ChatResult;
  /** A fresh reader for one streamed attempt. */
  protected abstract streamReader(request: ChatRequest): StreamReader;

  abstract embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;

  cost(usage: TokenUsage): number | undefined {
    return costOf(this.config, usage);
  }

  async chat(request: ChatRequest): Promise<ChatResult> {
    const stream = Boolean(request.onText);
    return this.post(this.chatTarget(request, stream), request.signal, request.onRetry, async (call) =>
      stream ? this.streamChat(call, request) : this.readAnswer(await postJson(call), request),
    );
  }

  /** Make `attempt` with the call to `target`, retried (with backoff) as the credential allows. */
  protected post<T>(target: HttpTarget, signal: AbortSignal | undefined, onRetry: ChatRequest['onRetry'], attempt: (call: HttpCall) => Promise<T>): Promise<T> {
    const call: HttpCall = { label: this.label, ...target, timeoutMs: this.config.timeoutMs ?? DEFAULT_TIMEOUT_MS, signal, outbound: this.outbound };
    const retry = {
      ...DEFAULT_RETRY,
      maxRetries: this.config.maxRetries ?? DEFAULT_RETRY.maxRetries,
      baseDelayMs: this.config.retryBaseDelayMs ?? DEFAULT_RETRY.baseDelayMs,
    };
    return withRetries(this.label, { ...retry, signal, onRetry }, () => attempt(call));
  }

  private async streamChat(call: HttpCall, request: ChatRequest): Promise<ChatResult> {
    const reader = this.streamReader(request);
    const unstreamed = await postEventStream(call, (event) => reader.onEvent(event));
    if (unstreamed.json === undefined) return reader.result();
    // The server ignored stream: true; pass the whole answer on as one piece.
    const result = this.readAnswer(unstreamed.json, request);
    if (result.content) request.onText?.(result.content);
    return result;
  }
}
