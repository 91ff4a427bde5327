/**
 * OpenAI-compatible Chat Completions: OpenAI, Azure OpenAI, Ollama, vLLM, LM Studio, llama.cpp server.
 * Wire format: POST {baseUrl}/chat/completions (JSON, or SSE with `stream: true`), POST {baseUrl}/embeddings.
 * Azure: baseUrl is the deployment URL (https://<resource>.openai.azure.com/openai/deployments/<name>) and
 * `apiVersion` is set; the key then goes in the `api-key` header instead of a bearer token.
 */
import { ProviderError } from './errors.ts';
import type { OutboundServices } from '@flowcrew/sdk';
import { parseEventJson, postJson } from './http.ts';
import { HttpModelProvider, type HttpProviderConfig, type HttpTarget, type StreamReader } from './http-provider.ts';
import { toolCallRequest } from './model-json.ts';
import { estimateTokens } from './pricing.ts';
import type { ChatMessage, ChatRequest, ChatResult, TokenUsage, ToolCallRequest } from './types.ts';

export interface OpenAICompatibleConfig extends HttpProviderConfig {
  baseUrl: string;
  apiKey?: string;
  embeddingModel?: string;
  /** Azure OpenAI: the api-version query parameter. */
  apiVersion?: string;
  /** Extra headers (e.g. OpenAI-Organization, a gateway's routing header). */
  headers?: Record<string, string>;
  /** How to ask for JSON: json_schema (OpenAI, vLLM, Ollama, llama.cpp), json_object (older servers) or none. */
  jsonMode?: 'json_schema' | 'json_object' | 'none';
}

interface WireToolCall {
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: unknown };
}

type WireUsage = { prompt_tokens?: number; completion_tokens?: number };

export class OpenAICompatibleProvider extends HttpModelProvider<OpenAICompatibleConfig> {
  readonly kind = 'openai-compatible';
  readonly embeddingModel: string;

  constructor(config: OpenAICompatibleConfig, outbound: OutboundServices) {
    super(config, 'OpenAI-compatible', config.baseUrl, outbound);
    this.embeddingModel = config.embeddingModel ?? config.model;
  }

  private url(path: string): string {
    return `${this.base}${path}${this.config.apiVersion ? `?api-version=${encodeURIComponent(this.config.apiVersion)}` : ''}`;
  }

  private headers(): Record<string, string> {
    const auth: Record<string, string> = {};
    if (this.config.apiKey) {
      if (this.config.apiVersion) auth['api-key'] = this.config.apiKey;
      else auth.authorization = `Bearer ${this.config.apiKey}`;
    }
    return { ...auth, ...this.config.headers };
  }

  protected chatTarget(request: ChatRequest, stream: boolean): HttpTarget {
    const body: Record<string, unknown> = {
      model: this.config.model,
      messages: request.messages.map(toWireMessage),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
    };
    if (request.tools?.length) {
      body.tools = request.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
    }
    const jsonMode = this.config.jsonMode ?? 'json_schema';
    if (request.responseSchema && jsonMode === 'json_schema') {
      body.response_format = { type: 'json_schema', json_schema: { name: 'answer', schema: request.responseSchema, strict: false } };
    } else if (request.responseSchema && jsonMode === 'json_object') {
      body.response_format = { type: 'json_object' };
    }
    if (stream) Object.assign(body, { stream: true, stream_options: { include_usage: true } });
    return { url: this.url('/chat/completions'), headers: this.headers(), body };
  }

  protected readAnswer(answer: unknown, request: ChatRequest): ChatResult {
    const json = answer as {
      model?: string;
      choices?: Array<{ message?: { content?: string | null; tool_calls?: WireToolCall[] }; finish_reason?: string }>;
      usage?: WireUsage;
    };
    const choice = json.choices?.[0];
    if (!choice?.message) throw new ProviderError(`${this.label}: the answer has no choices[0].message`, { retryable: true });
    const content = choice.message.content ?? '';
    const toolCalls = (choice.message.tool_calls ?? []).map((c, i) => toToolCall(c.id, c.function?.name, c.function?.arguments, i));
    return {
      content,
      toolCalls,
      usage: usageOf(json.usage, request, content),
      model: json.model ?? this.model,
      finishReason: finishReason(choice.finish_reason, toolCalls),
    };
  }

  protected streamReader(request: ChatRequest): StreamReader {
    let content = '';
    let model = this.model;
    let finish: string | undefined;
    let usage: WireUsage | undefined;
    let done = false;
    const calls = new Map<number, { id?: string; name: string; args: string }>();
    return {
      onEvent: (event) => {
        if (event.data === '[DONE]') {
          done = true;
          return;
        }
        const chunk = parseEventJson(this.label, event.data) as {
          model?: string;
          error?: { message?: string };
          usage?: WireUsage;
          choices?: Array<{ delta?: { content?: string | null; tool_calls?: Array<WireToolCall & { index?: number }> }; finish_reason?: string | null }>;
        };
        if (chunk.error) throw new ProviderError(`${this.label}: stream error: ${chunk.error.message ?? JSON.stringify(chunk.error)}`, { retryable: true });
        if (chunk.model) model = chunk.model;
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices?.[0];
        if (!choice) return;
        const delta = choice.delta;
        if (delta?.content) {
          content += delta.content;
          request.onText?.(delta.content);
        }
        for (const part of delta?.tool_calls ?? []) {
          const index = part.index ?? calls.size;
          const entry = calls.get(index) ?? { name: '', args: '' };
          if (part.id) entry.id = part.id;
          if (part.function?.name) entry.name += part.function.name;
          if (typeof part.function?.arguments === 'string') entry.args += part.function.arguments;
          calls.set(index, entry);
        }
        if (choice.finish_reason) finish = choice.finish_reason;
      },
      result: () => {
        if (!done && !finish) throw new ProviderError(`${this.label}: the stream ended before the answer was complete`, { retryable: true });
        const toolCalls = [...calls.entries()].sort(([a], [b]) => a - b).map(([, c], i) => toToolCall(c.id, c.name, c.args, i));
        return { content, toolCalls, usage: usageOf(usage, request, content), model, finishReason: finishReason(finish, toolCalls) };
      },
    };
  }

  async embed(texts: string[], signal?: AbortSignal, onUsage?: (usage: TokenUsage) => void): Promise<number[][]> {
    if (texts.length === 0) return [];
    const target: HttpTarget = { url: this.url('/embeddings'), headers: this.headers(), body: { model: this.embeddingModel, input: texts } };
    return this.post(target, signal, undefined, async (call) => {
      const json = (await postJson(call)) as { data?: Array<{ index?: number; embedding?: unknown }>; usage?: { prompt_tokens?: number } };
      // The server's count (OpenAI, vLLM, Ollama report it); a server that reports none is not guessed at.
      if (typeof json.usage?.prompt_tokens === 'number') onUsage?.({ promptTokens: json.usage.prompt_tokens, completionTokens: 0 });
      const data = json.data;
      if (!Array.isArray(data) || data.length !== texts.length) {
        throw new ProviderError(`${this.label}: embeddings answer has ${Array.isArray(data) ? data.length : 'no'} vectors for ${texts.length} texts`, { retryable: false });
      }
      return [...data]
        .sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
        .map((d) => {
          if (!Array.isArray(d.embedding) || !d.embedding.every((x) => typeof x === 'number')) {
            throw new ProviderError(`${this.label}: an embedding is not an array of numbers (base64 encoding is not supported)`, { retryable: false });
          }
          return d.embedding as number[];
        });
    });
  }
}

function toWireMessage(message: ChatMessage): Record<string, unknown> {
  switch (message.role) {
    case 'assistant':
      return message.toolCalls?.length
        ? {
            role: 'assistant',
            content: message.content || null,
            tool_calls: message.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.arguments) } })),
          }
        : { role: 'assistant', content: message.content };
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    default:
      return { role: message.role, content: message.content };
  }
}

function toToolCall(id: string | undefined, name: string | undefined, rawArguments: unknown, index: number): ToolCallRequest {
  return toolCallRequest(id || `call_${index}`, name ?? '', rawArguments);
}

function finishReason(reason: string | null | undefined, toolCalls: ToolCallRequest[]): ChatResult['finishReason'] {
  if (toolCalls.length > 0 || reason === 'tool_calls' || reason === 'function_call') return 'tool_calls';
  if (reason === 'length') return 'length';
  return reason === 'stop' || reason === undefined || reason === null ? 'stop' : 'other';
}

function usageOf(usage: WireUsage | undefined, request: ChatRequest, content: string): TokenUsage {
  if (usage && typeof usage.prompt_tokens === 'number') return { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens ?? 0 };
  // Some servers omit usage (notably when streaming): estimate rather than record zero.
  const prompt = request.messages.map((m) => m.content).join('\n');
  return { promptTokens: estimateTokens(prompt), completionTokens: estimateTokens(content) };
}
