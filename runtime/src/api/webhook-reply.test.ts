/**
 * The webhook's reply writer (sendReply) against what Express's res.status / res.set / res.send / res.json wrote
 * before it: for each reply and request method, the same status, the same header lines in the same order and the
 * same body bytes, whether sendReply writes the reply itself or hands it to Express.
 */
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TriggerReply } from '@flowcrew/sdk';
import express, { type Request, type Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendReply } from './webhook-http.ts';

/** What the handler did before sendReply existed. */
function expressReply(res: Response, reply: TriggerReply): void {
  res.status(reply.status ?? 200);
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.set(name, String(value));
  const out = reply.body;
  if (out === undefined || out === null) res.end();
  else if (typeof out === 'string' || Buffer.isBuffer(out)) res.send(out);
  else res.json(out);
}

const replies: Array<[string, TriggerReply]> = [
  ['a JSON object', { status: 200, headers: {}, body: { orderId: 'B-1', total: 123.5, status: 'review', note: 'ünïcode ✓' } }],
  ['a JSON array, 201', { status: 201, body: [1, 'two', { three: 3 }] }],
  ['a boolean', { status: 200, body: false }],
  ['a number', { status: 200, body: 42 }],
  ['a string', { status: 200, headers: {}, body: 'done <b>ok</b> ✓' }],
  ['a long string', { status: 200, body: 'x'.repeat(5000) }],
  ['an empty string', { status: 200, body: '' }],
  ['a Buffer', { status: 200, body: Buffer.from('bytes') }],
  ['nothing', { status: 200, body: undefined }],
  ['null', { status: 202, body: null }],
  ['no status', { body: { a: 1 } }],
  ['204 with a body', { status: 204, body: { ignored: true } }],
  ['205 with a body', { status: 205, body: 'reset' }],
  ['304 with a body', { status: 304, body: { ignored: true } }],
  ['a Content-Type of its own', { status: 200, headers: { 'content-type': 'application/vnd.api+json' }, body: { a: 1 } }],
  ['a Content-Type without a slash', { status: 200, headers: { 'Content-Type': 'json' }, body: 'text' }],
  ['headers of its own', { status: 200, headers: { 'X-Order': 'B-1', 'Cache-Control': 'no-store' }, body: { a: 1 } }],
  ['an ETag of its own', { status: 200, headers: { ETag: '"v1"' }, body: { a: 1 } }],
  ['a Transfer-Encoding of its own', { status: 200, headers: { 'Transfer-Encoding': 'chunked' }, body: 'chunks' }],
  ['a typed array', { status: 200, body: new Uint8Array([1, 2, 3]) as unknown }],
  ['a 500 problem', { status: 500, body: { error: 'the run failed' } }],
];

interface Answer {
  status: number;
  headers: string[];
  body: string;
}

let server: Server;
let port = 0;

beforeAll(async () => {
  const app = express();
  app.set('etag', false);
  app.disable('x-powered-by');
  app.all('/:way/:index', (req: Request, res: Response) => {
    const reply = replies[Number(req.params.index)]![1];
    if (req.params.way === 'express') expressReply(res, reply);
    else sendReply(req, res, reply);
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function ask(method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { connection: 'close', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        // Date changes between the two requests; every other line must be the same, in the same order.
        const lines: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) if (res.rawHeaders[i]!.toLowerCase() !== 'date') lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
        resolve({ status: res.statusCode!, headers: lines, body: Buffer.concat(chunks).toString('latin1') });
      });
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

describe('webhook replies are written as Express wrote them', () => {
  for (const method of ['POST', 'GET', 'HEAD']) {
    it.each(replies.map(([name], index) => [name, index] as const))(`${method}: %s`, async (_name, index) => {
      const before = await ask(method, `/express/${index}`, method === 'POST' ? { 'content-type': 'application/json' } : {});
      const now = await ask(method, `/direct/${index}`, method === 'POST' ? { 'content-type': 'application/json' } : {});
      expect(now).toEqual(before);
    });
  }

  it('GET with If-None-Match matching the reply ETag is still a 304 (freshness goes through Express)', async () => {
    const index = replies.findIndex(([name]) => name === 'an ETag of its own');
    const before = await ask('GET', `/express/${index}`, { 'if-none-match': '"v1"' });
    const now = await ask('GET', `/direct/${index}`, { 'if-none-match': '"v1"' });
    expect(before.status).toBe(304);
    expect(now).toEqual(before);
  });

  it('the reply of the order flow is JSON with its length', async () => {
    const answer = await ask('POST', '/direct/0', { 'content-type': 'application/json' });
    expect(answer.status).toBe(200);
    expect(answer.headers).toEqual(['Content-Type: application/json; charset=utf-8', `Content-Length: ${Buffer.byteLength(JSON.stringify(replies[0]![1].body))}`, 'Connection: close']);
  });
});
