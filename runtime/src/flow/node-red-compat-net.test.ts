/**
 * The real-Node-RED comparison (node-red-compat.test.ts) for the network nodes and the remaining core types: the same
 * export (fixtures/node-red-compat-net.ts, each system on its own ports) runs on a real Node-RED 4 and, imported, on
 * Flowcrew; the same client talks to both over TCP, UDP, WebSocket and HTTP, and every answer must be identical.
 * Accepted differences are listed in node-red-differences.md.
 */
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeRedUnderTest, httpExchange, freePort, nodeRedInstalled as available, requireNodeRedInCi } from '../testing/node-red.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { netExport, type NetPorts } from './fixtures/node-red-compat-net.ts';

requireNodeRedInCi();

/** What each system is reached at: HTTP base (webhooks), WebSocket base, its own TCP and UDP ports. */
interface Target {
  http: string;
  ws: string;
  tcp: number;
  udp: number;
  /** The path its websocket client nodes connect to on the test's WebSocket server. */
  wsPath: string;
  /** What its tcp out (client) and udp out nodes sent, as the test's sinks received it. */
  sink: Sink;
}

/** A TCP and a UDP server keeping what they receive (one pair per system). */
interface Sink {
  tcp: number;
  udp: number;
  got: { tcp: string; udp: string[] };
  close(): void;
}

async function openSink(): Promise<Sink> {
  const got = { tcp: '', udp: [] as string[] };
  const tcp = net.createServer((socket) => socket.on('data', (d) => (got.tcp += d)));
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const udp = dgram.createSocket('udp4');
  udp.on('message', (m) => got.udp.push(m.toString()));
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  return { tcp: (tcp.address() as net.AddressInfo).port, udp: udp.address().port, got, close: () => (tcp.close(), udp.close()) };
}

let nodeRed: NodeRedUnderTest | undefined;
let flowcrew: TestServer | undefined;
let echo: net.Server | undefined;
let httpEcho: http.Server | undefined;
let wsServer: WebSocketServer | undefined;
const openSinks: Sink[] = [];
let talker: net.Server | undefined;
/** What the websocket client nodes sent back, by the path each system connected to. */
const wsReceived = new Map<string, string[]>();
const targets: { nodeRed?: Target; flowcrew?: Target } = {};
const execBefore = process.env.FLOWCREW_EXEC_COMMANDS;

beforeAll(async () => {
  if (!available) return;
  // Shared servers the flows call: a line server answering "ok:<line>;", and an HTTP server echoing what it got.
  echo = net.createServer((socket) => {
    let text = '';
    socket.on('data', (d) => {
      text += d;
      const lines = text.split('\n');
      text = lines.pop()!;
      for (const line of lines) socket.write(`ok:${line};`);
    });
  });
  await new Promise<void>((resolve) => echo!.listen(0, '127.0.0.1', resolve));
  httpEcho = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ method: req.method, url: req.url, type: req.headers['content-type'], body }));
    });
  });
  await new Promise<void>((resolve) => httpEcho!.listen(0, '127.0.0.1', resolve));
  const shared = { echo: (echo.address() as net.AddressInfo).port, http: (httpEcho.address() as net.AddressInfo).port };
  // A WebSocket server the client nodes connect to: it says "ping" to each connection and keeps what comes back.
  wsServer = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wsServer!.once('listening', resolve));
  wsServer.on('connection', (socket, req) => {
    // Again until answered: a client may connect before the node that reads from it has started.
    const again = setInterval(() => socket.send('ping'), 250);
    socket.on('message', (d) => {
      clearInterval(again);
      wsReceived.set(req.url!, [...(wsReceived.get(req.url!) ?? []), d.toString()]);
    });
    socket.on('close', () => clearInterval(again));
    socket.send('ping');
  });
  const wsBase = `ws://127.0.0.1:${(wsServer.address() as net.AddressInfo).port}`;

  nodeRed = await NodeRedUnderTest.prepare('flowcrew-nodered-net-');
  // Node-RED writes there; Flowcrew writes the same path inside its files directory.
  const dir = path.join(nodeRed.userDir, 'files');
  // A TCP server saying two lines to each connection (the tcp in client nodes of both systems connect to it).
  talker = net.createServer((socket) => socket.write('alpha\nbeta\n'));
  await new Promise<void>((resolve) => talker!.listen(0, '127.0.0.1', resolve));
  const talkerPort = (talker.address() as net.AddressInfo).port;
  const sinks = { nodeRed: await openSink(), flowcrew: await openSink() };
  openSinks.push(sinks.nodeRed, sinks.flowcrew);
  const nrPorts: NetPorts = { tcp: await freePort(), udp: await freePort(), ...shared, dir, wsServer: `${wsBase}/node-red`, sink: sinks.nodeRed, talker: talkerPort };
  const fcPorts: NetPorts = { tcp: await freePort(), udp: await freePort(), ...shared, dir, wsServer: `${wsBase}/flowcrew`, sink: sinks.flowcrew, talker: talkerPort };
  await nodeRed.start(netExport(nrPorts));
  targets.nodeRed = { http: nodeRed.url, ws: nodeRed.url.replace('http', 'ws'), tcp: nrPorts.tcp, udp: nrPorts.udp, wsPath: '/node-red', sink: sinks.nodeRed };

  // exec runs only what an administrator lists (read at deploy, from the environment).
  process.env.FLOWCREW_EXEC_COMMANDS = 'echo';
  flowcrew = await startTestServer({}, { env: { FLOWCREW_NET_BIND: '127.0.0.1', FLOWCREW_OUTBOUND_ALLOW: '127.0.0.1' } });
  const imported = await flowcrew.api('POST', '/api/v1/flows/import?deploy=true', netExport(fcPorts));
  expect(imported.status, JSON.stringify(imported.body)).toBe(201);
  expect(imported.body.unmapped).toEqual([]);
  targets.flowcrew = { http: `${flowcrew.url}/webhook`, ws: `${flowcrew.url.replace('http', 'ws')}/webhook`, tcp: fcPorts.tcp, udp: fcPorts.udp, wsPath: '/flowcrew', sink: sinks.flowcrew };

  const exec = targets.nodeRed.http;
  await nodeRed.until(() => fetch(`${exec}/compat-net/exec`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'up' }).then((r) => r.ok));
}, 120_000);

afterAll(async () => {
  if (execBefore === undefined) delete process.env.FLOWCREW_EXEC_COMMANDS;
  else process.env.FLOWCREW_EXEC_COMMANDS = execBefore;
  await flowcrew?.stop();
  await nodeRed?.stop();
  echo?.close();
  httpEcho?.close();
  for (const socket of wsServer?.clients ?? []) socket.terminate();
  wsServer?.close();
  for (const sink of openSinks) sink.close();
  talker?.close();
});

/** The lines a system's tcp in (client) read, once it has two (it connects at deploy). */
async function tcpClientLines(t: Target): Promise<unknown> {
  let got: { status: number; body: unknown } = { status: 0, body: null };
  for (let i = 0; i < 200; i++) {
    got = await httpExchange(`${t.http}/compat-net/tcp-client`, { method: 'GET' });
    if (Array.isArray(got.body) && got.body.length >= 2) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return got;
}

/** Post to the send route; the answer and what the sinks received once both got something. */
async function sent(t: Target, body: string): Promise<unknown> {
  const answer = await post(t.http, '/compat-net/send', body);
  for (let i = 0; i < 200 && !(t.sink.got.tcp.includes(body) && t.sink.got.udp.includes(body)); i++) await new Promise((r) => setTimeout(r, 50));
  return { answer, tcp: t.sink.got.tcp, udp: t.sink.got.udp };
}

/** What a system's websocket client nodes sent back to the server's "ping" (waits for it: they connect at deploy). */
async function wsClientAnswer(path: string): Promise<string[]> {
  for (let i = 0; i < 200 && !wsReceived.has(path); i++) await new Promise((r) => setTimeout(r, 50));
  return wsReceived.get(path)?.slice(0, 1) ?? [];
}

/**
 * Send lines over one TCP connection (the second packet splits a line), collect the answer lines, sorted: each line
 * is its own message, and Node-RED itself answers them in either order.
 */
function tcpLines(port: number, lines: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`no answer to ${lines.length} lines, got ${JSON.stringify(got)}`))), 10_000);
    socket.on('data', (d) => {
      got += d;
      if (got.split('\n').length > lines.length) {
        clearTimeout(timer);
        socket.end();
        resolve(got.split('\n').filter(Boolean).sort());
      }
    });
    socket.on('error', reject);
    const text = lines.map((l) => `${l}\n`).join('');
    socket.write(text.slice(0, 3));
    setTimeout(() => socket.write(text.slice(3)), 20);
  });
}

function udpEcho(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = dgram.createSocket('udp4');
    const timer = setTimeout(() => (client.close(), reject(new Error('no UDP answer'))), 10_000);
    client.bind(0, '127.0.0.1', () => {
      client.once('message', (m) => {
        clearTimeout(timer);
        client.close();
        resolve(m.toString());
      });
      client.send(text, port, '127.0.0.1');
    });
  });
}

function wsExchange(url: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => (ws.terminate(), reject(new Error('no WebSocket answer'))), 10_000);
    ws.once('open', () => ws.send(text));
    ws.once('message', (d) => {
      clearTimeout(timer);
      ws.close();
      resolve(d.toString());
    });
    ws.once('error', reject);
  });
}

const post = (base: string, route: string, body: string, contentType = 'text/plain') => httpExchange(`${base}${route}`, { body, contentType });

type Exchange = (t: Target) => Promise<unknown>;
const cases: Array<[string, Exchange, unknown]> = [
  ['tcp in (lines) → change → tcp out (reply): each line answered on its connection', (t) => tcpLines(t.tcp, ['hello', 'wörld']), ['HELLO', 'WÖRLD']],
  ['tcp request: the answer up to the delimiter', (t) => post(t.http, '/compat-net/tcp-request', 'ping\n'), { status: 200, body: 'ok:ping;' }],
  ['udp in → udp out to msg.ip / msg.port', (t) => udpEcho(t.udp, 'hi there'), 'echo hi there'],
  ['websocket in (listener) → websocket out: the sending connection is answered', (t) => wsExchange(`${t.ws}/compat-net/ws`, 'hello'), 'you said hello'],
  ['tcp in (client): the lines a server says, one message each', (t) => tcpClientLines(t), { status: 200, body: [{ payload: 'alpha', topic: 'talk' }, { payload: 'beta', topic: 'talk' }] }],
  ['tcp out (client: connect, send, close) and udp out (a fixed address)', (t) => sent(t, 'to the sinks'), { answer: { status: 200, body: 'to the sinks' }, tcp: 'to the sinks', udp: ['to the sinks'] }],
  ['websocket in (client) → websocket out (the same client): the server\'s message answered on the client connection (msg._session removed)', (t) => wsClientAnswer(t.wsPath), ['pong ping']],
  [
    'http request: a JSON answer parsed, status and content type',
    (t) => post(t.http, '/compat-net/http-request', JSON.stringify({ order: 7 }), 'application/json'),
    { status: 200, body: { status: 200, answer: { method: 'POST', url: '/echo?from=flow', type: 'application/json', body: '{"order":7}' }, type: 'application/json' } },
  ],
  ['exec: stdout and return code, payload and extra argument appended', (t) => post(t.http, '/compat-net/exec', 'hello'), { status: 200, body: { stdout: 'hello from exec\n', rc: { code: 0 } } }],
  ['file (overwrite, append, newline) → file in (utf8)', (t) => post(t.http, '/compat-net/file', 'line'), { status: 200, body: 'line\nline\n' }],
  ['catch: the error a function throws, with its source', (t) => post(t.http, '/compat-net/catch', JSON.stringify({ what: 'luck' }), 'application/json'), { status: 500, body: { message: 'Error: no luck', source: 'function/boom', what: 'luck' } }],
];

describe.skipIf(!available)('Node-RED compatibility: network nodes and the remaining core types', () => {
  it.each(cases)('%s', async (_label, exchange, nodeRedAnswer) => {
    const expected = await exchange(targets.nodeRed!);
    // What Node-RED answers (so two identical failures cannot pass).
    expect(expected).toEqual(nodeRedAnswer);
    const actual = await exchange(targets.flowcrew!);
    expect(actual).toEqual(expected);
  });
});
