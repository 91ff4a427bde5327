/**
 * http request variants (fixtures/node-red-http-request.ts) on a real Node-RED 4 and, imported, on Flowcrew, both
 * calling one local echo server: the answers (status, parsed body, what the server received) must be identical.
 */
import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeRedUnderTest, httpExchange, nodeRedInstalled as available, requireNodeRedInCi } from '../testing/node-red.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { httpRequestExport } from './fixtures/node-red-http-request.ts';

requireNodeRedInCi();

let nodeRed: NodeRedUnderTest | undefined;
let flowcrew: TestServer | undefined;
let echo: http.Server | undefined;

const cases: Array<[string, string, unknown]> = [
  ['method from msg.method, mustache URL, JSON answer parsed', '/hrq/use', { id: 'a b/c', q: 'x&y', more: 1 }],
  ['GET with the payload as query string', '/hrq/query', { page: 2, tags: 'a b' }],
  ['URL and headers from the message, text answer', '/hrq/from-msg', { name: 'ada' }],
  ['headers configured on the node (content type and a custom one)', '/hrq/node-headers', 'plain body'],
  ['a text answer asked for as JSON stays text', '/hrq/text-as-obj', {}],
  ['a 404 answer is a message with its status', '/hrq/not-found', {}],
  ['a refused connection (senderr off) goes on as a message with the error text and code', '/hrq/refused', {}],
  ['a refused connection (senderr off) also reaches a catch node', '/hrq/caught', { order: 7 }],
];

describe.skipIf(!available)('Node-RED compatibility: http request variants, same answers', () => {
  beforeAll(async () => {
    echo = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        if (req.url === '/text') return res.writeHead(200, { 'content-type': 'text/plain' }).end('just text');
        if (req.url === '/missing') return res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such thing"}');
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.end(JSON.stringify({ method: req.method, url: req.url, type: req.headers['content-type'] ?? null, trace: req.headers['x-trace'] ?? null, api: req.headers['x-api'] ?? null, body }));
      });
    });
    await new Promise<void>((resolve) => echo!.listen(0, '127.0.0.1', resolve));
    // A port nothing listens on: a server is opened and closed to get one.
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const flows = httpRequestExport((echo.address() as net.AddressInfo).port, closedPort);
    nodeRed = await NodeRedUnderTest.prepare('flowcrew-nodered-hrq-');
    await nodeRed.start(flows);
    flowcrew = await startTestServer({}, { env: { FLOWCREW_OUTBOUND_ALLOW: '127.0.0.1' } });
    const imported = await flowcrew.api('POST', '/api/v1/flows/import?deploy=true', flows);
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body.unmapped).toEqual([]);
    const url = nodeRed.url;
    await nodeRed.until(() => fetch(`${url}/hrq/text-as-obj`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).then((r) => r.ok));
  }, 90_000);

  afterAll(async () => {
    await nodeRed?.stop();
    await flowcrew?.stop();
    echo?.close();
  });

  it.each(cases)('%s', async (_label, route, body) => {
    const contentType = typeof body === 'string' ? 'text/plain' : 'application/json';
    const expected = await httpExchange(`${nodeRed!.url}${route}`, { body, contentType });
    expect(expected.status).toBe(200);
    expect(await httpExchange(`${flowcrew!.url}/webhook${route}`, { body, contentType })).toEqual(expected);
  });
});
