/**
 * Node-RED's TCP, UDP and WebSocket nodes, imported from an export as Node-RED writes it and run on real sockets: a line
 * protocol server answering on the connection each line came from (tcp in → change → tcp out reply), a tcp request
 * to a server with a delimiter, and a UDP echo (udp in → udp out to msg.ip/msg.port).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';

const freePort = (): Promise<number> => new Promise((resolve, reject) => {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1', () => { const { port } = srv.address() as net.AddressInfo; srv.close(() => resolve(port)); });
  srv.on('error', reject);
});

let flowcrew: TestServer;
let tcpPort = 0;
let udpPort = 0;
let echo: net.Server;
let echoPort = 0;

beforeAll(async () => {
  tcpPort = await freePort();
  udpPort = await freePort();
  // A server that answers "ok:<line>;" to each line: the tcp request node reads up to the ';'.
  echo = net.createServer((socket) => { let text = ''; socket.on('data', (d) => { text += d; const lines = text.split('\n'); text = lines.pop()!; for (const l of lines) socket.write(`ok:${l};`); }); });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as net.AddressInfo).port;
  flowcrew = await startTestServer({}, { env: { FLOWCREW_NET_BIND: '127.0.0.1', FLOWCREW_OUTBOUND_ALLOW: '127.0.0.1' } });
  const exported = [
    { id: 'tab1', type: 'tab', label: 'Sockets', disabled: false, info: '' },
    { id: 'tin', type: 'tcp in', z: 'tab1', name: 'lines', server: 'server', host: '', port: String(tcpPort), datamode: 'stream', datatype: 'utf8', newline: '\\n', topic: '', trim: false, base64: false, tls: '', x: 100, y: 80, wires: [['up']] },
    { id: 'up', type: 'change', z: 'tab1', name: '', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '$uppercase(payload) & "\\n"', tot: 'jsonata' }], action: '', property: '', from: '', to: '', reg: false, x: 300, y: 80, wires: [['tout']] },
    { id: 'tout', type: 'tcp out', z: 'tab1', name: '', host: '', port: '', beserver: 'reply', base64: false, end: false, tls: '', x: 500, y: 80, wires: [] },
    { id: 'hin', type: 'http in', z: 'tab1', name: '', url: '/ask-tcp', method: 'post', upload: false, swaggerDoc: '', x: 100, y: 160, wires: [['treq']] },
    { id: 'treq', type: 'tcp request', z: 'tab1', name: '', server: '127.0.0.1', port: String(echoPort), out: 'char', ret: 'string', splitc: ';', newline: '', trim: false, tls: '', x: 300, y: 160, wires: [['hres']] },
    { id: 'hres', type: 'http response', z: 'tab1', name: '', statusCode: '', headers: {}, x: 500, y: 160, wires: [] },
    { id: 'uin', type: 'udp in', z: 'tab1', name: '', iface: '', port: String(udpPort), ipv: 'udp4', multicast: 'false', group: '', datatype: 'utf8', x: 100, y: 240, wires: [['uecho']] },
    { id: 'uecho', type: 'change', z: 'tab1', name: '', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '"echo " & payload', tot: 'jsonata' }], x: 300, y: 240, wires: [['uout']] },
    { id: 'wsl', type: 'websocket-listener', path: '/ws/chat', wholemsg: 'false' },
    { id: 'wsin', type: 'websocket in', z: 'tab1', name: 'chat in', server: 'wsl', client: '', x: 100, y: 320, wires: [['wsup']] },
    { id: 'wsup', type: 'change', z: 'tab1', name: '', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '"you said " & payload', tot: 'jsonata' }], x: 300, y: 320, wires: [['wsout']] },
    { id: 'wsout', type: 'websocket out', z: 'tab1', name: 'chat out', server: 'wsl', client: '', x: 500, y: 320, wires: [] },
    { id: 'uout', type: 'udp out', z: 'tab1', name: '', addr: '', iface: '', port: '', ipv: 'udp4', outport: '', base64: false, multicast: 'false', x: 500, y: 240, wires: [] },
  ];
  const imported = await flowcrew.api('POST', '/api/v1/flows/import?deploy=true', exported);
  expect(imported.status, JSON.stringify(imported.body)).toBe(201);
  expect(imported.body.unmapped).toEqual([]);
}, 120_000);

afterAll(async () => {
  await flowcrew?.stop();
  echo?.close();
});

describe('Node-RED TCP and UDP nodes, imported', () => {
  it('tcp in (lines) → change → tcp out (reply) answers each line on its own connection', async () => {
    const talk = (lines: string[]) => new Promise<string>((resolve, reject) => {
      const socket = net.connect(tcpPort, '127.0.0.1');
      let got = '';
      socket.on('data', (d) => { got += d; if (got.split('\n').length > lines.length) { socket.end(); resolve(got); } });
      socket.on('error', reject);
      socket.write(lines.map((l) => `${l}\n`).join('').slice(0, 3));
      setTimeout(() => socket.write(lines.map((l) => `${l}\n`).join('').slice(3)), 20); // a line split across packets
    });
    const [a, b] = await Promise.all([talk(['hello', 'world']), talk(['other'])]);
    expect(a.split('\n').filter(Boolean).sort()).toEqual(['HELLO', 'WORLD']);
    expect(b).toBe('OTHER\n');
  });

  it('tcp request returns the answer up to the delimiter', async () => {
    const res = await fetch(`${flowcrew.url}/webhook/ask-tcp`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'ping\n' });
    expect(await res.text()).toBe('ok:ping;');
  });

  it('udp in → udp out to msg.ip / msg.port echoes a datagram to its sender', async () => {
    const client = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
    const answer = new Promise<string>((resolve) => client.once('message', (m) => resolve(m.toString())));
    client.send('hi', udpPort, '127.0.0.1');
    expect(await answer).toBe('echo hi');
    client.close();
  });

  it('websocket in (listener) → change → websocket out answers the connection a message came from', async () => {
    const { default: WebSocket } = await import('ws');
    const open = () => new Promise<InstanceType<typeof WebSocket>>((resolve, reject) => {
      const ws = new WebSocket(`${flowcrew.url.replace('http', 'ws')}/webhook/ws/chat`);
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
    const [a, b] = await Promise.all([open(), open()]);
    const fromA = new Promise<string>((resolve) => a.once('message', (d) => resolve(d.toString())));
    let bGot = '';
    b.on('message', (d) => { bGot += d.toString(); });
    a.send('hello');
    expect(await fromA).toBe('you said hello');
    await new Promise((r) => setTimeout(r, 200));
    expect(bGot).toBe('');
    a.close(); b.close();
    const refused = new WebSocket(`${flowcrew.url.replace('http', 'ws')}/webhook/ws/nobody`);
    await expect(new Promise((resolve, reject) => { refused.once('open', resolve); refused.once('error', reject); })).rejects.toThrow(/404/);
  });

  it('a tcp request to a destination the outbound guard refuses fails with the reason', async () => {
    const flow = {
      id: 'guarded', name: 'guarded', nodes: [
        { id: 'w', type: 'webhook', props: { method: 'POST', url: '/guarded-tcp' }, wires: [['r']] },
        { id: 'r', type: 'tcp-request', props: { server: '169.254.169.254', port: 80, out: 'char', splitc: ';' }, wires: [['o']] },
        { id: 'o', type: 'webhook-response' },
      ],
    };
    expect((await flowcrew.api('POST', '/api/v1/flows/import?deploy=true', flow)).status).toBe(201);
    const res = await fetch(`${flowcrew.url}/webhook/guarded-tcp`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(res.status).toBe(500);
    const runs = await flowcrew.api('GET', '/api/v1/runs?flowId=guarded');
    const run = await flowcrew.api('GET', `/api/v1/runs/${runs.body.items?.[0]?.id ?? runs.body[0]?.id}`);
    expect(JSON.stringify(run.body)).toMatch(/169\.254\.169\.254/);
  });
});
