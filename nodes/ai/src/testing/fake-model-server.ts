/**
 * Test support: a local HTTP server that answers like a model API, from a script. Tests use it to exercise the
 * OpenAI-compatible and Anthropic providers over their real wire formats (JSON and Server-Sent Events),
 * including failures a real API produces: 429 with Retry-After, 5xx, garbled JSON, a server that never answers.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
}

export type FakeReply =
  | { status?: number; headers?: Record<string, string>; json: unknown }
  /** Each entry is one SSE event: a data string, or an object with an event name. */
  | { status?: number; sse: Array<string | { event?: string; data: string }>; /** Close without the final newline, mid-event. */ truncate?: boolean }
  | { status?: number; headers?: Record<string, string>; raw: string }
  /** Accept the request and never answer. */
  | { hang: true };

export interface FakeServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startFakeModelServer(answer: (request: RecordedRequest, index: number) => FakeReply | Promise<FakeReply>): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const open = new Set<ServerResponse>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // keep the raw text
    }
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
    requests.push(recorded);
    let reply: FakeReply;
    try {
      reply = await answer(recorded, requests.length - 1);
    } catch (error) {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `fake server: ${(error as Error).message}` } }));
      return;
    }
    if ('hang' in reply) {
      open.add(res);
      return;
    }
    if ('json' in reply) {
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers }).end(JSON.stringify(reply.json));
    } else if ('raw' in reply) {
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers }).end(reply.raw);
    } else {
      res.writeHead(reply.status ?? 200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const event of reply.sse) {
        const e = typeof event === 'string' ? { data: event } : event;
        res.write(`${e.event ? `event: ${e.event}\n` : ''}data: ${e.data}\n\n`);
      }
      if (reply.truncate) res.destroy();
      else res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** OpenAI chat.completion.chunk events for a streamed text answer, with usage in the last chunk. */
export function openAITextStream(text: string[], usage = { prompt_tokens: 11, completion_tokens: text.length }): string[] {
  return [
    ...text.map((t, i) => JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'fake-model', choices: [{ index: 0, delta: i === 0 ? { role: 'assistant', content: t } : { content: t }, finish_reason: null }] })),
    JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'fake-model', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
    JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'fake-model', choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } }),
    '[DONE]',
  ];
}

/** A non-streamed OpenAI chat.completion. */
export function openAIAnswer(content: string | null, toolCalls?: Array<{ id: string; name: string; arguments: string }>, usage = { prompt_tokens: 20, completion_tokens: 5 }): unknown {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    model: 'fake-model',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, ...(toolCalls ? { tool_calls: toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) } : {}) },
        finish_reason: toolCalls ? 'tool_calls' : 'stop',
      },
    ],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  };
}

/** Anthropic Messages stream events for a text answer. */
export function anthropicTextStream(text: string[], usage = { input_tokens: 12, output_tokens: text.length }): Array<{ event: string; data: string }> {
  const e = (event: string, data: unknown) => ({ event, data: JSON.stringify({ type: event, ...(data as object) }) });
  return [
    e('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'fake-claude', content: [], stop_reason: null, usage: { input_tokens: usage.input_tokens, output_tokens: 1 } } }),
    e('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    e('ping', {}),
    ...text.map((t) => e('content_block_delta', { index: 0, delta: { type: 'text_delta', text: t } })),
    e('content_block_stop', { index: 0 }),
    e('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: usage.output_tokens } }),
    e('message_stop', {}),
  ];
}

/** Stores the stand-in server as an OpenAI-compatible ai-model credential in a runtime under test; answers its id. */
export async function fakeModelCredential(
  runtime: { api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> },
  server: FakeServer,
): Promise<string> {
  const credential = await runtime.api('POST', '/api/v1/credentials', {
    name: 'fake model',
    type: 'ai-model',
    fields: { provider: 'openai-compatible', baseUrl: `${server.url}/v1`, apiKey: 'sk-test', model: 'fake-model', maxRetries: 0 },
  });
  if (credential.status !== 201) throw new Error(`the stand-in model credential was refused: ${credential.status} ${JSON.stringify(credential.body)}`);
  return credential.body.id as string;
}
