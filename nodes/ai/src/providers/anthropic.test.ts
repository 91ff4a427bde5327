import { describe, expect, it } from 'vitest';
import { anthropicTextStream, type FakeReply } from '../testing/fake-model-server.ts';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import { fakeModelServers, loopbackOutbound } from '../testing/test-setup.ts';
import { AnthropicProvider } from './anthropic.ts';

const servers = fakeModelServers();
const outbound = loopbackOutbound();

async function provider(answer: (req: any, i: number) => FakeReply, extra: Record<string, unknown> = {}) {
  const server = await servers.start(answer);
  return new AnthropicProvider({ apiKey: 'sk-ant-test', baseUrl: server.url, model: 'fake-claude', retryBaseDelayMs: 5, ...extra }, outbound);
}

const message = (content: unknown[], stop = 'end_turn') => ({
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'fake-claude',
  content,
  stop_reason: stop,
  usage: { input_tokens: 30, output_tokens: 7 },
});

describe('Anthropic provider', () => {
  it('sends the system prompt apart, with the version header and max_tokens, and reads text and usage', async () => {
    const p = await provider(() => ({ json: message([{ type: 'text', text: 'Bonjour' }]) }));
    const result = await p.chat({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello in French' }] });
    expect(result).toMatchObject({ content: 'Bonjour', usage: { promptTokens: 30, completionTokens: 7 }, finishReason: 'stop', model: 'fake-claude' });
    const req = servers.current.requests[0]!;
    expect(req.path).toBe('/v1/messages');
    expect(req.headers['x-api-key']).toBe('sk-ant-test');
    expect(req.headers['anthropic-version']).toBe('2023-06-01');
    expect(req.body).toMatchObject({ model: 'fake-claude', system: 'Be brief.', max_tokens: 1024, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello in French' }] }] });
  });

  it('reads tool_use blocks and sends tool results back inside the next user turn', async () => {
    const p = await provider((_req, i) =>
      i === 0
        ? { json: message([{ type: 'text', text: 'Let me check.' }, { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Oslo' } }], 'tool_use') }
        : { json: message([{ type: 'text', text: 'It is cold.' }]) },
    );
    const tools = [{ name: 'weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];
    const first = await p.chat({ messages: [{ role: 'user', content: 'Weather in Oslo?' }], tools });
    expect(first.finishReason).toBe('tool_calls');
    expect(first.toolCalls).toEqual([{ id: 'toolu_1', name: 'weather', arguments: { city: 'Oslo' } }]);
    await p.chat({
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        { role: 'assistant', content: first.content, toolCalls: first.toolCalls },
        { role: 'tool', toolCallId: 'toolu_1', name: 'weather', content: '-5C' },
      ],
      tools,
    });
    const body = servers.current.requests[1]!.body;
    expect(body.tools).toEqual([{ name: 'weather', description: 'Weather for a city', input_schema: tools[0]!.parameters }]);
    expect(body.messages.slice(1)).toEqual([
      { role: 'assistant', content: [{ type: 'text', text: 'Let me check.' }, { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Oslo' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '-5C' }] },
    ]);
  });

  it('streams text deltas and counts tokens from message_start and message_delta', async () => {
    const p = await provider(() => ({ sse: anthropicTextStream(['Hi', ' there'], { input_tokens: 15, output_tokens: 4 }) }));
    const tokens: string[] = [];
    const result = await p.chat({ messages: [{ role: 'user', content: 'Hi' }], onText: (t) => tokens.push(t) });
    expect(tokens).toEqual(['Hi', ' there']);
    expect(result).toMatchObject({ content: 'Hi there', usage: { promptTokens: 15, completionTokens: 4 }, finishReason: 'stop' });
  });

  it('assembles a streamed tool call from input_json_delta pieces', async () => {
    const e = (event: string, data: object) => ({ event, data: JSON.stringify({ type: event, ...data }) });
    const p = await provider(() => ({
      sse: [
        e('message_start', { message: { model: 'fake-claude', usage: { input_tokens: 5, output_tokens: 1 } } }),
        e('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'toolu_9', name: 'search', input: {} } }),
        e('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '{"query": "pgv' } }),
        e('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: 'ector"}' } }),
        e('content_block_stop', { index: 0 }),
        e('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 12 } }),
        e('message_stop', {}),
      ],
    }));
    const result = await p.chat({ messages: [{ role: 'user', content: 'find it' }], onText: () => undefined });
    expect(result.toolCalls).toEqual([{ id: 'toolu_9', name: 'search', arguments: { query: 'pgvector' } }]);
    expect(result.usage).toEqual({ promptTokens: 5, completionTokens: 12 });
  });

  it('retries an overloaded (529) answer and an overloaded stream error, then succeeds', async () => {
    const p = await provider((_req, i) =>
      i === 0
        ? { status: 529, json: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } }
        : i === 1
          ? { sse: [{ event: 'error', data: JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }) }] }
          : { sse: anthropicTextStream(['ok']) },
    );
    const result = await p.chat({ messages: [{ role: 'user', content: 'x' }], onText: () => undefined });
    expect(result.content).toBe('ok');
    expect(servers.current.requests).toHaveLength(3);
  });

  it('puts a response schema into the system prompt', async () => {
    const p = await provider(() => ({ json: message([{ type: 'text', text: '{"a":1}' }]) }));
    await p.chat({ messages: [{ role: 'user', content: 'x' }], responseSchema: { type: 'object', properties: { a: { type: 'integer' } } } });
    expect(servers.current.requests[0]!.body.system).toContain('"properties":{"a":{"type":"integer"}}');
  });

  it('says plainly that it has no embeddings', async () => {
    const p = await provider(() => ({ json: {} }));
    await expect(p.embed()).rejects.toThrow('Anthropic has no embeddings API, which knowledge, retrieval and agent memory need: give this node an openai-compatible or local-gguf AI model credential');
  });

  it('sends x-api-key only where the outbound guard allows: not to an unlisted loopback baseUrl', async () => {
    const guarded = createOutboundGuard();
    try {
      const server = await servers.start(() => ({ json: message([{ type: 'text', text: 'hi' }]) }));
      const p = new AnthropicProvider({ apiKey: 'sk-ant-must-not-leave', baseUrl: server.url, model: 'fake-claude', maxRetries: 2, retryBaseDelayMs: 5 }, guarded);
      await expect(p.chat({ messages: [{ role: 'user', content: 'x' }] })).rejects.toThrow(/Anthropic provider \(http:\/\/127\.0\.0\.1:\d+\): outbound request to 127\.0\.0\.1:\d+ refused: a loopback address/);
      expect(server.requests).toEqual([]);
    } finally {
      await guarded.close();
    }
  });
});
