import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestNode, setTestServiceDefaults } from '@flowcrew/sdk/testing';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import { httpRequestNode, type HttpRequestProps } from './http-request.ts';
import { RESPONSE_HEADERS_MARK } from './http-util.ts';

let server: Server;
let base: string;
/** A second server on another loopback address: "another host" for redirects and credential binding. */
let other: Server;
let otherBase: string;
const otherHits: Array<{ url: string; authorization?: string }> = [];
const hits: string[] = [];
/** Requests the echo server got since `before`, but for /slow: a request of an earlier timeout or cancel test may land late. */
const hitsSince = (before: number) => hits.slice(before).filter((hit) => hit !== '/slow');

// The test servers listen on loopback, which the outbound guard refuses by default: allow-list them explicitly.
const loopbackAllowed = createOutboundGuard({ allow: ['127.0.0.1', '127.0.0.2'] });
setTestServiceDefaults({ outbound: loopbackAllowed });

/** A small real server: each path shows one behaviour. */
function route(req: IncomingMessage, res: ServerResponse, body: string) {
  const url = new URL(req.url!, 'http://x');
  switch (url.pathname) {
    case '/echo':
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
    case '/text':
      return res.end('héllo');
    case '/json':
      res.setHeader('content-type', 'application/json');
      return res.end('{"items":[1,2]}');
    case '/bytes':
      return res.end(Buffer.from([0, 1, 2, 255]));
    case '/empty':
      res.statusCode = 204;
      return res.end();
    case '/missing':
      res.statusCode = 404;
      return res.end('not here');
    case '/cookie':
      res.setHeader('set-cookie', ['session=abc%20def; Path=/; HttpOnly', 'theme=dark']);
      return res.end('ok');
    case '/redirect':
      res.statusCode = 302;
      res.setHeader('location', '/text');
      return res.end();
    case '/see-other':
      res.statusCode = 303;
      res.setHeader('location', '/echo');
      return res.end();
    case '/slow':
      setTimeout(() => res.end('late'), 2000);
      return;
    case '/to-other':
      res.statusCode = 302;
      res.setHeader('location', `${otherBase}/seen`);
      return res.end();
    case '/to-loopback':
      res.statusCode = 307;
      res.setHeader('location', url.searchParams.get('to')!);
      return res.end();
    default:
      res.statusCode = 500;
      return res.end('unknown path');
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url!);
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      route(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  other = createServer((req, res) => {
    otherHits.push({ url: req.url!, authorization: req.headers.authorization });
    res.end('other');
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.2', resolve));
  otherBase = `http://127.0.0.2:${(other.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  other.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await new Promise((resolve) => other.close(resolve));
  await loopbackAllowed.close();
});

async function request(props: Partial<HttpRequestProps>, msg: Record<string, unknown> = {}, credentials?: Record<string, unknown>) {
  const node = await createTestNode(httpRequestNode, props, { credentials });
  const sent = await node.input(msg);
  expect(sent).toHaveLength(1);
  return { msg: sent[0]!.msg, node };
}

describe('http-request node', () => {
  it('GETs text and reports status, lower-case headers and the response URL', async () => {
    const { msg } = await request({ url: `${base}/text` }, { topic: 'kept' });
    expect(msg.payload).toBe('héllo');
    expect(msg.statusCode).toBe(200);
    expect(msg.topic).toBe('kept');
    expect(msg.responseUrl).toBe(`${base}/text`);
    expect((msg.headers as Record<string, string>)['content-length']).toBe('6');
    expect(msg.redirectList).toEqual([]);
  });

  it('parses JSON with ret "obj", and leaves non-JSON as text with a warning', async () => {
    expect((await request({ url: `${base}/json`, ret: 'obj' })).msg.payload).toEqual({ items: [1, 2] });
    expect((await request({ url: `${base}/empty`, ret: 'obj' })).msg.payload).toEqual({});
    const { msg, node } = await request({ url: `${base}/text`, ret: 'obj' });
    expect(msg.payload).toBe('héllo');
    expect(node.logs.some((l) => l.level === 'warn' && /JSON/.test(l.message))).toBe(true);
  });

  it('returns binary bodies as base64 with ret "bin"', async () => {
    const { msg } = await request({ url: `${base}/bytes`, ret: 'bin' });
    expect(Buffer.from(msg.payload as string, 'base64')).toEqual(Buffer.from([0, 1, 2, 255]));
  });

  it('treats a 404 as a normal response', async () => {
    const { msg } = await request({ url: `${base}/missing` });
    expect([msg.statusCode, msg.payload]).toEqual([404, 'not here']);
  });

  it('sends an object payload as JSON, and a string as is without a content type', async () => {
    const json = await request({ method: 'POST', url: `${base}/echo`, ret: 'obj' }, { payload: { a: 1 } });
    expect(json.msg.payload).toMatchObject({ method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    const text = await request({ method: 'PUT', url: `${base}/echo`, ret: 'obj' }, { payload: 'raw text' });
    const echoed = text.msg.payload as { body: string; headers: Record<string, string> };
    expect(echoed.body).toBe('raw text');
    expect(echoed.headers['content-type']).toBeUndefined();
  });

  it('form-encodes an object when the content type says so', async () => {
    const { msg } = await request(
      { method: 'POST', url: `${base}/echo`, ret: 'obj', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } },
      { payload: { name: 'a b', tags: ['x', 'y'] } },
    );
    expect((msg.payload as { body: string }).body).toBe('name=a%20b&tags=x&tags=y'); // querystring.stringify, as Node-RED
  });

  it('fills {{mustache}} tags in the url from the message, HTML-escaped like Node-RED', async () => {
    const { msg } = await request({ url: `${base}/echo?id={{payload.id}}&q={{topic}}&raw={{{topic}}}`, ret: 'obj' }, { payload: { id: 7 }, topic: 'a&b' });
    expect((msg.payload as { url: string }).url).toBe('/echo?id=7&q=a&amp;b&raw=a&b');
  });

  it('uses msg.url when the node has none, adding http:// when missing', async () => {
    const { msg } = await request({}, { url: `${base.replace('http://', '')}/text` });
    expect(msg.payload).toBe('héllo');
  });

  it('takes the method from msg.method with method "use"', async () => {
    const { msg } = await request({ method: 'use', url: `${base}/echo`, ret: 'obj' }, { method: 'delete' });
    expect((msg.payload as { method: string }).method).toBe('DELETE');
  });

  it('appends an object payload as query parameters for GET with paytoqs "query"', async () => {
    const { msg } = await request({ url: `${base}/echo?x=1`, ret: 'obj', paytoqs: 'query' }, { payload: { page: 2, q: 'a b' } });
    expect((msg.payload as { url: string }).url).toBe('/echo?x=1&page=2&q=a%20b');
  });

  it('refuses a GET body, which fetch cannot send', async () => {
    const node = await createTestNode(httpRequestNode, { url: `${base}/echo`, paytoqs: 'body' });
    await expect(node.input({ payload: { a: 1 } })).rejects.toThrow(/GET is not supported/);
  });

  it('merges headers: node rows override msg.headers; a previous response\'s headers are dropped', async () => {
    const { msg } = await request(
      {
        url: `${base}/echo`,
        ret: 'obj',
        headers: [
          { keyType: 'other', keyValue: 'X-Token', valueType: 'other', valueValue: 'node' },
          { keyType: 'other', keyValue: 'X-From-Msg', valueType: 'msg', valueValue: 'topic' },
          { keyType: 'Accept', valueType: 'application/json' },
        ],
      },
      { topic: 'T', headers: { 'x-token': 'msg', 'x-other': 'kept' } },
    );
    expect((msg.payload as { headers: Record<string, string> }).headers).toMatchObject({ 'x-token': 'node', 'x-from-msg': 'T', 'x-other': 'kept', accept: 'application/json' });

    const first = await request({ url: `${base}/json` });
    expect((first.msg.headers as Record<string, string>)[RESPONSE_HEADERS_MARK]).toBeDefined();
    const second = await request({ url: `${base}/echo`, ret: 'obj' }, { headers: first.msg.headers });
    expect((second.msg.payload as { headers: Record<string, string> }).headers['content-type']).toBeUndefined();
  });

  it('sends basic auth from the credentials or from user:password in the url', async () => {
    const viaCredentials = await request({ url: `${base}/echo`, ret: 'obj' }, {}, { user: 'ada', password: 's3cret', allowedHosts: ['127.0.0.1'] });
    expect((viaCredentials.msg.payload as { headers: Record<string, string> }).headers.authorization).toBe(`Basic ${Buffer.from('ada:s3cret').toString('base64')}`);
    const viaUrl = await request({ url: `${base.replace('http://', 'http://bob:pw@')}/echo`, ret: 'obj' });
    expect((viaUrl.msg.payload as { headers: Record<string, string> }).headers.authorization).toBe(`Basic ${Buffer.from('bob:pw').toString('base64')}`);
    const bearer = await request({ url: `${base}/echo`, ret: 'obj', authType: 'bearer' }, {}, { password: 'tok', allowedHosts: ['127.0.0.1'] });
    expect((bearer.msg.payload as { headers: Record<string, string> }).headers.authorization).toBe('Bearer tok');
  });

  it('follows redirects and lists them; 303 turns into a GET', async () => {
    const { msg } = await request({ url: `${base}/redirect` });
    expect([msg.payload, msg.responseUrl, msg.redirectList]).toEqual(['héllo', `${base}/text`, [{ location: '/text' }]]);
    const seeOther = await request({ method: 'POST', url: `${base}/see-other`, ret: 'obj' }, { payload: 'x' });
    expect((seeOther.msg.payload as { method: string }).method).toBe('GET');
    const notFollowed = await request({ url: `${base}/redirect` }, { followRedirects: false });
    expect(notFollowed.msg.statusCode).toBe(302);
  });

  it('parses Set-Cookie into msg.responseCookies', async () => {
    const { msg } = await request({ url: `${base}/cookie` });
    expect(msg.responseCookies).toEqual({ session: { value: 'abc def', Path: '/' }, theme: { value: 'dark' } });
    expect((msg.headers as Record<string, unknown>)['set-cookie']).toEqual(['session=abc%20def; Path=/; HttpOnly', 'theme=dark']);
  });

  it('fails on a network error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const node = await createTestNode(httpRequestNode, { url: `http://127.0.0.1:${port}/` });
    await expect(node.input({})).rejects.toThrow(/ECONNREFUSED.*GET http:\/\/127\.0\.0\.1/);
  });

  it('with senderr off (Node-RED), a network error goes to catch nodes and on as a message with the error text', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const url = `http://127.0.0.1:${port}/orders`;
    const node = await createTestNode(httpRequestNode, { url, senderr: false });
    const out = await node.input({ payload: { id: 1 }, topic: 'order' });
    expect(out).toEqual([{ port: 0, msg: { payload: `RequestError: connect ECONNREFUSED 127.0.0.1:${port} : ${url}`, statusCode: 'ECONNREFUSED', topic: 'order' } }]);
    expect(node.errors.map((e) => [e.error.message, e.msg])).toEqual([[`RequestError: connect ECONNREFUSED 127.0.0.1:${port}`, { payload: { id: 1 }, topic: 'order' }]]);
    expect(node.statuses.at(-1)).toEqual({ fill: 'red', shape: 'ring', text: 'ECONNREFUSED' });
  });

  it('with senderr off, a timeout goes on as ETIMEDOUT; an address the outbound guard refuses still fails', async () => {
    const slow = await createTestNode(httpRequestNode, { url: `${base}/slow`, senderr: false });
    expect(await slow.input({ requestTimeout: 100 })).toEqual([{ port: 0, msg: { payload: `TimeoutError: Timeout awaiting 'request' for 100ms : ${base}/slow`, statusCode: 'ETIMEDOUT', requestTimeout: 100 } }]);
    expect(slow.errors.map((e) => e.error.message)).toEqual(['no response from server']);
    setTestServiceDefaults({ outbound: createOutboundGuard({ allow: [] }) });
    try {
      const refused = await createTestNode(httpRequestNode, { url: `${base}/echo`, senderr: false });
      await expect(refused.input({})).rejects.toThrow(/refused: a loopback address/);
      expect(refused.errors).toEqual([]);
    } finally {
      setTestServiceDefaults({ outbound: loopbackAllowed });
    }
  });

  it('fails when the server does not answer in time (msg.requestTimeout overrides the node)', async () => {
    const node = await createTestNode(httpRequestNode, { url: `${base}/slow`, timeout: 60_000 });
    await expect(node.input({ requestTimeout: 100 })).rejects.toThrow(/No response from server within 100 ms/);
  });

  it('stops when the run is cancelled', async () => {
    const node = await createTestNode(httpRequestNode, { url: `${base}/slow` });
    const controller = new AbortController();
    const pending = node.input({}, { signal: controller.signal });
    controller.abort(new Error('run cancelled'));
    await expect(pending).rejects.toThrow('run cancelled');
  });

  it('rejects a missing url and non-http schemes', async () => {
    await expect((await createTestNode(httpRequestNode, {})).input({})).rejects.toThrow('No url specified');
    await expect((await createTestNode(httpRequestNode, { url: 'ftp://example.com/x' })).input({})).rejects.toThrow(/Invalid transport/);
  });

  it('refuses digest authentication at deploy, which it does not support', async () => {
    await expect(createTestNode(httpRequestNode, { url: base, authType: 'digest' })).rejects.toThrow(/digest authentication is not supported/);
  });

  describe('outbound guard', () => {
    const guarded = createOutboundGuard();
    afterAll(() => guarded.close());
    const port = () => new URL(base).port;

    it.each([
      ['http://127.0.0.1:PORT/echo'],
      ['http://localhost:PORT/echo'],
      ['http://2130706433:PORT/echo'],
      ['http://127.1:PORT/echo'],
      ['http://0x7f.1:PORT/echo'],
      ['127.0.0.1:PORT/echo'],
      ['http://[::ffff:127.0.0.1]:PORT/echo'],
      ['http://0.0.0.0:PORT/echo'],
      ['http://169.254.169.254/latest/meta-data/'],
      ['http://10.0.0.1:PORT/echo'],
    ])('refuses %s by default, sending nothing and not retrying', async (template) => {
      const before = hits.length;
      const node = await createTestNode(httpRequestNode, { method: 'POST' }, { services: { outbound: guarded } });
      const failure = await node.input({ url: template.replace('PORT', port()), payload: { flow: 'evil' } }).then(
        () => null,
        (error: unknown) => error as Error & { retryable?: boolean },
      );
      expect(failure?.message).toMatch(/refused: .*(loopback|unspecified|IPv4-mapped|cloud metadata|private).*FLOWCREW_OUTBOUND_ALLOW.*: POST http:/);
      expect(failure?.retryable).toBe(false);
      expect(hitsSince(before)).toEqual([]);
    });

    it('checks every redirect: an allowed host redirecting to a refused one fails at the hop', async () => {
      const onlyOther = createOutboundGuard({ allow: ['127.0.0.2'] });
      const redirecting = createServer((_req, res) => res.writeHead(302, { location: `${base}/echo` }).end());
      await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.2', resolve));
      try {
        const before = hits.length;
        const node = await createTestNode(httpRequestNode, { url: `http://127.0.0.2:${(redirecting.address() as AddressInfo).port}/` }, { services: { outbound: onlyOther } });
        await expect(node.input({})).rejects.toThrow(/127\.0\.0\.1:\d+ refused: a loopback address.*reached by a redirect/);
        expect(hitsSince(before)).toEqual([]);
      } finally {
        redirecting.close();
        await onlyOther.close();
      }
    });
  });

  describe('credential binding to hosts', () => {
    it('refuses a credential without allowedHosts at deploy', async () => {
      await expect(createTestNode(httpRequestNode, { url: `${base}/echo` }, { credentials: { user: 'ada', password: 'long-secret' } })).rejects.toThrow(/lists no allowedHosts/);
    });

    it('never sends the credential to a host it does not list', async () => {
      const before = hits.length;
      const node = await createTestNode(httpRequestNode, { url: `${base}/echo` }, { credentials: { user: 'ada', password: 'long-secret', allowedHosts: ['api.example.com'] } });
      await expect(node.input({})).rejects.toThrow(/the http-auth credential may not be sent to 127\.0\.0\.1:\d+ \(its allowedHosts: api\.example\.com\)/);
      expect(hitsSince(before)).toEqual([]);
    });

    it('matches hosts with ports and wildcards, and drops the credential on a redirect to another origin', async () => {
      const { msg } = await request({ url: `${base}/to-other` }, {}, { user: 'ada', password: 'long-secret', allowedHosts: [`127.0.0.1:${new URL(base).port}`] });
      expect(msg.payload).toBe('other');
      expect(otherHits.at(-1)).toEqual({ url: '/seen', authorization: undefined });
    });
  });

  describe('idempotency key', () => {
    it("sends the invocation's idempotency key as Idempotency-Key by default", async () => {
      const { msg } = await request({ method: 'POST', url: `${base}/echo`, ret: 'obj' }, { payload: 'x' });
      expect((msg.payload as { headers: Record<string, string> }).headers['idempotency-key']).toBe('run-1:n1:inv-1:1');
    });

    it('uses another header name, none when empty, and a header the flow sets wins', async () => {
      const renamed = await request({ url: `${base}/echo`, ret: 'obj', idempotencyHeader: 'X-Request-Id' });
      const headers = (renamed.msg.payload as { headers: Record<string, string> }).headers;
      expect([headers['x-request-id'], headers['idempotency-key']]).toEqual(['run-1:n1:inv-1:1', undefined]);
      const off = await request({ url: `${base}/echo`, ret: 'obj', idempotencyHeader: '' });
      expect((off.msg.payload as { headers: Record<string, string> }).headers['idempotency-key']).toBeUndefined();
      const own = await request({ url: `${base}/echo`, ret: 'obj', headers: { 'idempotency-key': 'order-42' } });
      expect((own.msg.payload as { headers: Record<string, string> }).headers['idempotency-key']).toBe('order-42');
    });

    it('keeps the key of the attempt, so a retried attempt is told apart', async () => {
      const node = await createTestNode(httpRequestNode, { url: `${base}/echo`, ret: 'obj' });
      const [sent] = await node.input({}, { attempt: 2 });
      expect((sent!.msg.payload as { headers: Record<string, string> }).headers['idempotency-key']).toBe('run-1:n1:inv-1:2');
    });
  });
});
