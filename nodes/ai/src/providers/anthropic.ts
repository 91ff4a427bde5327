/**
 * Anthropic Messages API: POST {baseUrl}/v1/messages, JSON or SSE (`stream: true`), tool_use / tool_result
 * content blocks. Anthropic has no JSON mode or embeddings endpoint: a response schema goes into the system
 * prompt (the caller validates and retries), and embed() says to pick another provider.
 */
import type { OutboundServices } from '@flowcrew/sdk';
import { ProviderError } from './errors.ts';
import { parseEventJson } from './http.ts';
import { HttpModelProvider, type HttpProviderConfig, type HttpTarget, type StreamReader } from './http-provider.ts';
import { toolCallRequest } from './model-json.ts';
import type { ChatMessage, ChatRequest, ChatResult, TokenUsage, ToolCallRequest } from './types.ts';

export interface AnthropicConfig extends HttpProviderConfig {
  apiKey: string;
  baseUrl?: string;
  /** The anthropic-version header. */
  version?: string;
}

type Block = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown } | { type: string; [key: string]: unknown };

/** Anthropic requires max_tokens; this is used when the node sets none. */
const DEFAULT_MAX_TOKENS = 1024;

const EMBEDDINGS_UNSUPPORTED =
  'Anthropic has no embeddings API, which knowledge, retrieval and agent memory need: give this node an openai-compatible ' +
  'or local-gguf AI model credential, or set its provider to local';

export class AnthropicProvider extends HttpModelProvider<AnthropicConfig> {
  readonly kind = 'anthropic';

  constructor(config: AnthropicConfig, outbound: OutboundServices) {
    super(config, 'Anthropic', config.baseUrl ?? 'https://api.anthropic.com', outbound);
  }

  protected chatTarget(request: ChatRequest, stream: boolean): HttpTarget {
    const system = request.messages.filter((m) => m.role === 'system').map((m) => m.content);
    if (request.responseSchema) {
      system.push(`Answer with only a JSON value (no prose, no code fences) that matches this JSON Schema:\n${JSON.stringify(request.responseSchema)}`);
    }
    const body: Record<string, unknown> = {
      model: this.config.model,
      max_tokens: request.maxTokens ?? DEFAULT_MAX_TOKENS,
      messages: toWireMessages(request.messages),
      ...(system.length ? { system: system.join('\n\n') } : {}),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.tools?.length ? { tools: request.tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.parameters })) } : {}),
      ...(stream ? { stream: true } : {}),
    };
    return {
      url: `${this.base}/v1/messages`,
      headers: { 'x-api-key': this.config.apiKey, 'anthropic-version': this.config.version ?? '2023-06-01' },
      body,
    };
  }

  protected readAnswer(answer: unknown): ChatResult {
    const json = answer as { model?: string; content?: Block[]; stop_reason?: string; usage?: { input_tokens?: number; output_tokens?: number } };
    if (!Array.isArray(json.content)) throw new ProviderError(`${this.label}: the answer has no content blocks`, { retryable: true });
    return resultOf(json.content, json.stop_reason, { promptTokens: json.usage?.input_tokens ?? 0, completionTokens: json.usage?.output_tokens ?? 0 }, json.model ?? this.model);
  }

  protected streamReader(request: ChatRequest): StreamReader {
    const blocks: Array<{ type: string; text: string; id?: string; name?: string; json: string }> = [];
    const usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
    let model = this.model;
    let stopReason: string | undefined;
    let stopped = false;
    return {
      onEvent: (event) => {
        const data = parseEventJson(this.label, event.data) as Record<string, any>;
        switch (data.type ?? event.event) {
          case 'message_start':
            model = data.message?.model ?? model;
            usage.promptTokens = data.message?.usage?.input_tokens ?? 0;
            usage.completionTokens = data.message?.usage?.output_tokens ?? 0;
            break;
          case 'content_block_start': {
            const block = data.content_block ?? {};
            blocks[data.index ?? blocks.length] = { type: block.type, text: block.text ?? '', id: block.id, name: block.name, json: '' };
            if (block.text) request.onText?.(block.text);
            break;
          }
          case 'content_block_delta': {
            const block = blocks[data.index];
            if (!block) throw new ProviderError(`${this.label}: stream delta for unknown content block ${data.index}`, { retryable: true });
            if (data.delta?.type === 'text_delta') {
              block.text += data.delta.text;
              request.onText?.(data.delta.text);
            } else if (data.delta?.type === 'input_json_delta') block.json += data.delta.partial_json ?? '';
            break;
          }
          case 'message_delta':
            stopReason = data.delta?.stop_reason ?? stopReason;
            if (typeof data.usage?.output_tokens === 'number') usage.completionTokens = data.usage.output_tokens;
            if (typeof data.usage?.input_tokens === 'number') usage.promptTokens = data.usage.input_tokens;
            break;
          case 'message_stop':
            stopped = true;
            break;
          case 'error': {
            const type: string = data.error?.type ?? 'error';
            throw new ProviderError(`${this.label}: stream error ${type}: ${data.error?.message ?? ''}`, { retryable: type === 'overloaded_error' || type === 'api_error' || type === 'rate_limit_error' });
          }
          default: // ping and future event types
        }
      },
      result: () => {
        if (!stopped) throw new ProviderError(`${this.label}: the stream ended before message_stop`, { retryable: true });
        const content: Block[] = blocks.filter(Boolean).map((b) => (b.type === 'tool_use' ? { type: 'tool_use', id: b.id ?? '', name: b.name ?? '', input: b.json || '{}' } : { type: b.type, text: b.text }));
        return resultOf(content, stopReason, usage, model);
      },
    };
  }

  async embed(): Promise<number[][]> {
    throw new Error(EMBEDDINGS_UNSUPPORTED);
  }
}

function resultOf(content: Block[], stopReason: string | undefined, usage: TokenUsage, model: string): ChatResult {
  let text = '';
  const toolCalls: ToolCallRequest[] = [];
  for (const block of content) {
    if (block.type === 'text') text += (block as { text: string }).text;
    else if (block.type === 'tool_use') {
      const use = block as { id: string; name: string; input: unknown };
      toolCalls.push(toolCallRequest(use.id, use.name, use.input));
    }
  }
  const finishReason = toolCalls.length || stopReason === 'tool_use' ? 'tool_calls' : stopReason === 'max_tokens' ? 'length' : stopReason === 'end_turn' || stopReason === 'stop_sequence' || !stopReason ? 'stop' : 'other';
  return { content: text, toolCalls, usage, model, finishReason };
}

/** Anthropic wants strictly alternating user/assistant turns, tool results inside the following user turn. */
function toWireMessages(messages: ChatMessage[]): Array<{ role: 'user' | 'assistant'; content: unknown[] }> {
  const wire: Array<{ role: 'user' | 'assistant'; content: unknown[] }> = [];
  const push = (role: 'user' | 'assistant', blocks: unknown[]) => {
    const last = wire[wire.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else wire.push({ role, content: blocks });
  };
  for (const m of messages) {
    if (m.role === 'system') continue;
    if (m.role === 'user') push('user', [{ type: 'text', text: m.content }]);
    else if (m.role === 'tool') push('user', [{ type: 'tool_result', tool_use_id: m.toolCallId, content: m.content, ...(m.isError ? { is_error: true } : {}) }]);
    else {
      const blocks: unknown[] = [];
      if (m.content) blocks.push({ type: 'text', text: m.content });
      for (const c of m.toolCalls ?? []) blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: c.arguments });
      push('assistant', blocks.length ? blocks : [{ type: 'text', text: '' }]);
    }
  }
  return wire;
}
