import { describe, expect, it } from 'vitest';
import { openAIAnswer, openAITextStream, type FakeReply } from '../testing/fake-model-server.ts';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import { fakeModelServers, loopbackOutbound } from '../testing/test-setup.ts';
import { OpenAICompatibleProvider, type OpenAICompatibleConfig } from './openai-compatible.ts';

const servers = fakeModelServers();
const outbound = loopbackOutbound();

async function provider(answer: (req: any, i: number) => FakeReply, extra: Partial<OpenAICompatibleConfig> = {}) {
  const server = await servers.start(answer);
  return new OpenAICompatibleProvider({ baseUrl: `${server.url}/v1`, apiKey: 'sk-test', model: 'fake-model', retryBaseDelayMs: 5, ...extra }, outbound);
}

const ask = [{ role: 'user' as const, content: 'Say hello' }];

describe('OpenAI-compatible provider', () => {
  it('sends a chat completion and reads the answer, usage and bearer key', async () => {
    const p = await provider(() => ({ json: openAIAnswer('Hello!') }));
    const result = await p.chat({ messages: ask, temperature: 0.2, maxTokens: 50 });
    expect(result).toMatchObject({ content: 'Hello!', toolCalls: [], usage: { promptTokens: 20, completionTokens: 5 }, finishReason: 'stop', model: 'fake-model' });
    const req = servers.current.requests[0]!;
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe('Bearer sk-test');
    expect(req.body).toMatchObject({ model: 'fake-model', messages: [{ role: 'user', content: 'Say hello' }], temperature: 0.2, max_tokens: 50 });
    expect(req.body.stream).toBeUndefined();
  });

  it('streams tokens as they arrive and takes usage from the final chunk', async () => {
    const p = await provider(() => ({ sse: openAITextStream(['Hel', 'lo', ' world'], { prompt_tokens: 9, completion_tokens: 3 }) }));
    const tokens: string[] = [];
    const result = await p.chat({ messages: ask, onText: (t) => tokens.push(t) });
    expect(tokens).toEqual(['Hel', 'lo', ' world']);
    expect(result.content).toBe('Hello world');
    expect(result.usage).toEqual({ promptTokens: 9, completionTokens: 3 });
    expect(servers.current.requests[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('accepts a plain JSON answer from a server that ignores stream: true', async () => {
    const p = await provider(() => ({ json: openAIAnswer('Not streamed.') }));
    const tokens: string[] = [];
    const result = await p.chat({ messages: ask, onText: (t) => tokens.push(t) });
    expect(result.content).toBe('Not streamed.');
    expect(tokens).toEqual(['Not streamed.']);
  });

  it('assembles streamed tool calls whose arguments arrive in pieces', async () => {
    const chunk = (delta: unknown, finish: string | null = null) => JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] });
    const p = await provider(() => ({
      sse: [
        chunk({ role: 'assistant', tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'lookup', arguments: '' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
        chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'clock', arguments: '{}' } }] }),
        chunk({}, 'tool_calls'),
        '[DONE]',
      ],
    }));
    const result = await p.chat({
      messages: ask,
      tools: [{ name: 'lookup', description: 'Look up a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
      onText: () => undefined,
    });
    expect(result.finishReason).toBe('tool_calls');
    expect(result.toolCalls).toEqual([
      { id: 'call_a', name: 'lookup', arguments: { city: 'Paris' } },
      { id: 'call_b', name: 'clock', arguments: {} },
    ]);
    expect(servers.current.requests[0]!.body.tools[0]).toEqual({ type: 'function', function: { name: 'lookup', description: 'Look up a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } });
  });

  it('sends tool results back in the wire format and asks for JSON with the schema', async () => {
    const p = await provider(() => ({ json: openAIAnswer('{"ok":true}') }));
    await p.chat({
      messages: [
        ...ask,
        { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'lookup', arguments: { q: 'x' } }] },
        { role: 'tool', toolCallId: 'call_1', name: 'lookup', content: 'result' },
      ],
      responseSchema: { type: 'object', properties: { ok: { type: 'boolean' } } },
    });
    const body = servers.current.requests[0]!.body;
    expect(body.messages[1]).toEqual({ role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }] });
    expect(body.messages[2]).toEqual({ role: 'tool', tool_call_id: 'call_1', content: 'result' });
    expect(body.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object', properties: { ok: { type: 'boolean' } } }, strict: false } });
  });

  it('marks arguments that are not JSON instead of throwing', async () => {
    const p = await provider(() => ({ json: openAIAnswer(null, [{ id: 'c1', name: 'lookup', arguments: '{city: Paris' }]) }));
    const result = await p.chat({ messages: ask });
    expect(result.toolCalls[0]).toMatchObject({ name: 'lookup', arguments: {}, invalidArguments: '{city: Paris' });
  });

  it('retries a 429 after the Retry-After the server asks for, then succeeds', async () => {
    const p = await provider((_req, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '0' }, json: { error: { message: 'Rate limit reached' } } } : { json: openAIAnswer('ok') }));
    const retries: string[] = [];
    const result = await p.chat({ messages: ask, onRetry: (r) => retries.push(r.reason) });
    expect(result.content).toBe('ok');
    expect(retries).toEqual([expect.stringContaining('HTTP 429 Too Many Requests: Rate limit reached')]);
  });

  it('gives up on repeated 5xx with the reason and the number of attempts', async () => {
    const p = await provider(() => ({ status: 503, json: { error: { message: 'overloaded' } } }), { maxRetries: 2 });
    await expect(p.chat({ messages: ask })).rejects.toThrow(/HTTP 503 Service Unavailable: overloaded \(gave up after 3 attempts\)\. Try again later, or raise maxRetries in the node's AI model credential\./);
    expect(servers.current.requests).toHaveLength(3);
  });

  it('does not retry an authentication error', async () => {
    const p = await provider(() => ({ status: 401, json: { error: { message: 'Incorrect API key provided' } } }));
    await expect(p.chat({ messages: ask })).rejects.toThrow("HTTP 401 Unauthorized: Incorrect API key provided. Check the apiKey of the node's AI model credential.");
    expect(servers.current.requests).toHaveLength(1);
  });

  it('retries a garbled JSON body, then fails saying the JSON was invalid', async () => {
    const p = await provider(() => ({ raw: '{"choices": [' }), { maxRetries: 1 });
    await expect(p.chat({ messages: ask })).rejects.toThrow(/returned invalid JSON: "\{\\"choices\\": \[" \(gave up after 2 attempts\)/);
    expect(servers.current.requests).toHaveLength(2);
  });

  it('fails a server that never answers after the timeout instead of hanging', async () => {
    const p = await provider(() => ({ hang: true }), { timeoutMs: 200, maxRetries: 1 });
    await expect(p.chat({ messages: ask })).rejects.toThrow(/no response for 200 ms \(gave up after 2 attempts\)\. If the model is just slow, raise timeoutMs in the node's AI model credential\./);
  });

  it('says where to look when the server cannot be reached', async () => {
    const server = await servers.start(() => ({ json: {} }));
    await server.close(); // nothing listens on its port any more
    const p = new OpenAICompatibleProvider({ baseUrl: `${server.url}/v1`, model: 'fake-model', maxRetries: 0 }, outbound);
    await expect(p.chat({ messages: ask })).rejects.toThrow(
      `cannot reach ${server.url}/v1/chat/completions: ECONNREFUSED (gave up after 1 attempt). Check baseUrl in the node's AI model credential and that the server is running.`,
    );
  });

  it('never sends the Bearer key to a loopback server that is not allow-listed, nor retries the refusal', async () => {
    const guarded = createOutboundGuard();
    try {
      const server = await servers.start(() => ({ json: openAIAnswer('Hello!') }));
      for (const baseUrl of [`${server.url}/v1`, server.url.replace('127.0.0.1', 'localhost'), server.url.replace('127.0.0.1', '2130706433'), server.url.replace('127.0.0.1', '[::ffff:127.0.0.1]')]) {
        const p = new OpenAICompatibleProvider({ baseUrl, apiKey: 'sk-must-not-leave', model: 'fake-model', maxRetries: 3, retryBaseDelayMs: 5 }, guarded);
        await expect(p.chat({ messages: ask })).rejects.toThrow(/refused: .*(loopback|IPv4-mapped).*an administrator can allow an internal model server with FLOWCREW_OUTBOUND_ALLOW/);
        await expect(p.embed(['x'])).rejects.toThrow(/refused/);
      }
      expect(server.requests).toEqual([]);
    } finally {
      await guarded.close();
    }
  });

  it('fails a stream that stops before it is complete', async () => {
    const p = await provider(() => ({ sse: openAITextStream(['partial']).slice(0, 1) }), { maxRetries: 0 });
    await expect(p.chat({ messages: ask, onText: () => undefined })).rejects.toThrow('the stream ended before the answer was complete');
  });

  it('stops when the run is cancelled, without retrying', async () => {
    const p = await provider(() => ({ hang: true }), { timeoutMs: 60_000 });
    const controller = new AbortController();
    const pending = p.chat({ messages: ask, signal: controller.signal });
    // Cancelled once the model server has the request (a fixed delay raced the request on a loaded machine).
    while (servers.current.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort(new Error('run cancelled'));
    await expect(pending).rejects.toThrow('run cancelled');
    expect(servers.current.requests).toHaveLength(1);
  });

  it('uses the api-key header and api-version for Azure OpenAI', async () => {
    const p = await provider(() => ({ json: openAIAnswer('hi') }), { apiVersion: '2024-10-21' });
    await p.chat({ messages: ask });
    const req = servers.current.requests[0]!;
    expect(req.path).toBe('/v1/chat/completions?api-version=2024-10-21');
    expect(req.headers['api-key']).toBe('sk-test');
    expect(req.headers.authorization).toBeUndefined();
  });

  it('computes embeddings in input order and the cost from credential prices', async () => {
    const p = await provider(() => ({ json: { data: [{ index: 1, embedding: [0, 1] }, { index: 0, embedding: [1, 0] }] } }), { embeddingModel: 'embed-small', inputCostPerMillion: 2, outputCostPerMillion: 8 });
    expect(await p.embed(['a', 'b'])).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(servers.current.requests[0]!.body).toEqual({ model: 'embed-small', input: ['a', 'b'] });
    expect(p.cost({ promptTokens: 1000, completionTokens: 500 })).toBeCloseTo(0.006);
  });
});
