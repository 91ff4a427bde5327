/**
 * The real-Node-RED comparison (node-red-compat.test.ts) for the network nodes and the remaining core types: the same
 * export (fixtures/node-red-compat-net.ts, each system on its own ports) runs on a real Node-RED 4 and, imported, on
 * Flowcrew; the same client talks to both over TCP, UDP, WebSocket and HTTP, and every answer must be identical.
 * Accepted differences are listed in node-red-differences.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { netExport, type NetPorts } from './fixtures/node-red-compat-net.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
const nodeRedMain = path.join(repoRoot, '.cache', 'node-red', 'node_modules', 'node-red', 'red.js');
const available = existsSync(nodeRedMain);
if (!available && process.env.CI) throw new Error(`Node-RED is not installed at ${nodeRedMain}: run scripts/services`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** What each system is reached at: HTTP base (webhooks), WebSocket base, its own TCP and UDP ports. */
interface Target {
  http: string;
  ws: string;
  tcp: number;
  udp: number;
}

let nodeRed: ChildProcess | undefined;
let flowcrew: TestServer | undefined;
let userDir = '';
let echo: net.Server | undefined;
let httpEcho: http.Server | undefined;
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

  userDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-nodered-net-'));
  // Node-RED writes there; Flowcrew writes the same path inside its files directory.
  const dir = path.join(userDir, 'files');
  const nrPorts: NetPorts = { tcp: await freePort(), udp: await freePort(), ...shared, dir };
  const fcPorts: NetPorts = { tcp: await freePort(), udp: await freePort(), ...shared, dir };

  const uiPort = await freePort();
  await writeFile(path.join(userDir, 'flows.json'), JSON.stringify(netExport(nrPorts)));
  await writeFile(path.join(userDir, 'settings.js'), `module.exports = { uiPort: ${uiPort}, uiHost: '127.0.0.1', flowFile: 'flows.json', logging: { console: { level: 'error' } } };`);
  nodeRed = spawn(process.execPath, [nodeRedMain, '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], { stdio: 'ignore' });
  targets.nodeRed = { http: `http://127.0.0.1:${uiPort}`, ws: `ws://127.0.0.1:${uiPort}`, tcp: nrPorts.tcp, udp: nrPorts.udp };

  // exec runs only what an administrator lists (read at deploy, from the environment).
  process.env.FLOWCREW_EXEC_COMMANDS = 'echo';
  flowcrew = await startTestServer({}, { env: { FLOWCREW_NET_BIND: '127.0.0.1', FLOWCREW_OUTBOUND_ALLOW: '127.0.0.1' } });
  const imported = await flowcrew.api('POST', '/api/v1/flows/import?deploy=true', netExport(fcPorts));
  expect(imported.status, JSON.stringify(imported.body)).toBe(201);
  expect(imported.body.unmapped).toEqual([]);
  targets.flowcrew = { http: `${flowcrew.url}/webhook`, ws: `${flowcrew.url.replace('http', 'ws')}/webhook`, tcp: fcPorts.tcp, udp: fcPorts.udp };

  const deadline = Date.now() + 60_000;
  for (;;) {
    const up = await fetch(`${targets.nodeRed.http}/compat-net/exec`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'up' }).then((r) => r.ok, () => false);
    if (up) break;
    if (Date.now() > deadline) throw new Error('Node-RED did not start within 60 s');
    await new Promise((r) => setTimeout(r, 250));
  }
}, 120_000);

afterAll(async () => {
  if (execBefore === undefined) delete process.env.FLOWCREW_EXEC_COMMANDS;
  else process.env.FLOWCREW_EXEC_COMMANDS = execBefore;
  nodeRed?.kill('SIGTERM');
  await flowcrew?.stop();
  echo?.close();
  httpEcho?.close();
  if (userDir) await rm(userDir, { recursive: true, force: true });
});

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

async function post(base: string, route: string, body: string, contentType = 'text/plain') {
  const res = await fetch(`${base}${route}`, { method: 'POST', headers: { 'content-type': contentType }, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* a text answer */
  }
  return { status: res.status, body: parsed };
}

type Exchange = (t: Target) => Promise<unknown>;
const cases: Array<[string, Exchange, unknown]> = [
  ['tcp in (lines) → change → tcp out (reply): each line answered on its connection', (t) => tcpLines(t.tcp, ['hello', 'wörld']), ['HELLO', 'WÖRLD']],
  ['tcp request: the answer up to the delimiter', (t) => post(t.http, '/compat-net/tcp-request', 'ping\n'), { status: 200, body: 'ok:ping;' }],
  ['udp in → udp out to msg.ip / msg.port', (t) => udpEcho(t.udp, 'hi there'), 'echo hi there'],
  ['websocket in (listener) → websocket out: the sending connection is answered', (t) => wsExchange(`${t.ws}/compat-net/ws`, 'hello'), 'you said hello'],
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
