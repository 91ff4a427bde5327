/**
 * Issue 7, "host commands and outbound requests", through a real runtime: SSRF against the runtime's own API
 * (every spelling of loopback, redirects), MCP commands a flow cannot name, credentials bound to node types and
 * hosts, vault secrets redacted from every place they could reappear, and the http-request idempotency key.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import { openAITextStream, startFakeModelServer, type FakeServer } from '../../../nodes/ai/src/testing/fake-model-server.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { createLogger } from '../logging/logger.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
const SECRET = 'pw-7d3f9a2e61c84b05';
const API_KEY = 'sk-live-5b1e8c47d2a9f036';
const MCP_TOKEN = 'mcp-tok-2c7be0915fd3';
/** Every form the http-auth password travels in: as is, and inside the Basic header. */
const LEAKS = [SECRET, Buffer.from(`ada:${SECRET}`).toString('base64'), API_KEY, MCP_TOKEN];

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let echo: Server;
let echoBase = '';
const seen: Seen[] = [];
let model: FakeServer;
let server: TestServer;
let dataDir = '';
const logLines: string[] = [];
const credentials: Record<string, string> = {};

const flow = (id: string, nodes: unknown[]) => ({ id, name: id, version: 0, nodes });

async function createAndDeploy(doc: { id: string }): Promise<void> {
  const created = await server.api('POST', '/api/v1/flows', doc);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const deployed = await server.api('POST', `/api/v1/flows/${doc.id}/deploy`);
  expect(deployed.status, JSON.stringify(deployed.body)).toBe(200);
}

async function run(flowId: string, input: Record<string, unknown> = {}): Promise<any> {
  const started = await server.api('POST', `/api/v1/flows/${flowId}/runs`, { input });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  return server.waitRun(started.body.runId, 30_000);
}

async function credential(name: string, type: string, fields: Record<string, unknown>): Promise<string> {
  const created = await server.api('POST', '/api/v1/credentials', { name, type, fields });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id as string;
}

beforeAll(async () => {
  echo = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/redirect') {
        res.writeHead(302, { location: url.searchParams.get('to')! }).end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
    });
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoBase = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
  // A model server that streams the API key it was sent back as tokens: the worst case for redaction.
  model = await startFakeModelServer((req) => ({ sse: openAITextStream(['The key is ', String(req.headers.authorization ?? '').replace('Bearer ', ''), '.']) }));

  // Credentials first (their ids go into the MCP declarations the administrator writes), then the runtime for real.
  dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-outbound-'));
  server = await startTestServer({ dataDir });
  credentials.http = await credential('echo login', 'http-auth', { user: 'ada', password: SECRET, allowedHosts: ['127.0.0.1'] });
  credentials.elsewhere = await credential('api.example.com login', 'http-auth', { user: 'ada', password: SECRET, allowedHosts: ['api.example.com'] });
  credentials.model = await credential('fake model', 'ai-model', { provider: 'openai-compatible', baseUrl: `${model.url}/v1`, apiKey: API_KEY, model: 'fake-model', maxRetries: 0 });
  credentials.modelOnLoopback = await credential('model on the runtime', 'ai-model', { provider: 'openai-compatible', baseUrl: `${server.url}/v1`, apiKey: API_KEY, model: 'x', maxRetries: 0 });
  credentials.mcp = await credential('mcp token', 'mcp-token', { token: MCP_TOKEN });
  await server.stop();

  const mcpFile = path.join(dataDir, 'mcp-servers.json');
  await writeFile(
    mcpFile,
    JSON.stringify({
      envcheck: {
        command: process.execPath,
        args: ['--import', 'tsx', path.join(repoRoot, 'nodes', 'ai', 'src', 'testing', 'mcp-env-fixture.ts')],
        cwd: repoRoot,
        env: { API_TOKEN: { credential: credentials.mcp, field: 'token' }, MODE: 'test' },
      },
    }),
  );
  const capture = (...args: unknown[]) => void logLines.push(args.map(String).join(' '));
  vi.spyOn(console, 'log').mockImplementation(capture);
  vi.spyOn(console, 'error').mockImplementation(capture);
  vi.spyOn(console, 'warn').mockImplementation(capture);
  vi.spyOn(console, 'info').mockImplementation(capture);
  vi.spyOn(console, 'debug').mockImplementation(capture);
  // Only the echo and model servers are allow-listed, by port: the runtime's own port is not.
  server = await startTestServer(
    {
      dataDir,
      logLevel: 'debug',
      outboundAllow: [`127.0.0.1:${new URL(echoBase).port}`, `127.0.0.1:${new URL(model.url).port}`],
      mcpServersFile: mcpFile,
    },
    // The runtime's log (pino, JSON lines) goes to the same list as what anything prints to the console.
    { log: createLogger({ level: 'debug', format: 'json', destination: { write: (line: string) => void logLines.push(line) } }) },
  );
}, 60_000);

afterAll(async () => {
  vi.restoreAllMocks();
  await server?.stop();
  await model?.close();
  echo?.closeAllConnections();
  await new Promise((resolve) => echo?.close(resolve));
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('SSRF: a flow cannot reach the runtime or anything inside', () => {
  const variants = (port: string) => [
    `http://127.0.0.1:${port}/api/v1/flows/import?deploy=true`,
    `http://localhost:${port}/api/v1/flows/import?deploy=true`,
    `http://2130706433:${port}/api/v1/flows/import?deploy=true`,
    `http://127.1:${port}/api/v1/flows/import?deploy=true`,
    `http://0x7f.1:${port}/api/v1/flows/import?deploy=true`,
    `http://0177.0.0.1:${port}/api/v1/flows/import?deploy=true`,
    `http://0.0.0.0:${port}/api/v1/flows/import?deploy=true`,
    `http://[::1]:${port}/api/v1/flows/import?deploy=true`,
    `http://[::ffff:127.0.0.1]:${port}/api/v1/flows/import?deploy=true`,
    `127.0.0.1:${port}/api/v1/flows/import?deploy=true`,
    `localhost:${port}/api/v1/flows/import?deploy=true`,
    `http://169.254.169.254/latest/meta-data/iam/security-credentials/`,
  ];
  const evil = flow('evil', [{ id: 'go', type: 'inject', props: { once: true }, wires: [] }]);

  it('refuses a flow POSTing to its own /flows/import?deploy=true, in every spelling of loopback', async () => {
    await createAndDeploy(flow('ssrf', [
      { id: 'go', type: 'inject', props: { props: [] }, wires: [['post']] },
      { id: 'post', type: 'http-request', props: { method: 'POST', ret: 'obj' }, wires: [] },
    ]));
    const port = new URL(server.url).port;
    for (const url of variants(port)) {
      const result = await run('ssrf', { url, payload: evil, headers: { 'content-type': 'application/json' } });
      expect(result.status, url).toBe('failed');
      const post = result.invocations.find((i: { nodeId: string }) => i.nodeId === 'post');
      expect(post.error, url).toMatch(/refused: .*(loopback|unspecified|IPv4-mapped|cloud metadata).*FLOWCREW_OUTBOUND_ALLOW/);
      // Refused, so not retried: one attempt.
      expect(post.attempt, url).toBe(1);
    }
    expect((await server.api('GET', '/api/v1/flows/evil')).status).toBe(404);
  });

  it('checks every redirect: an allowed host redirecting to the runtime is refused at that hop', async () => {
    await createAndDeploy(flow('redirect', [
      { id: 'go', type: 'inject', props: { props: [] }, wires: [['get']] },
      { id: 'get', type: 'http-request', props: { method: 'GET' }, wires: [] },
    ]));
    const target = `${server.url}/api/v1/flows`;
    const result = await run('redirect', { url: `${echoBase}/redirect?to=${encodeURIComponent(target)}` });
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(new RegExp(`127\\.0\\.0\\.1:${new URL(server.url).port} refused: a loopback address.*reached by a redirect from ${echoBase.replace(/\./g, '\\.')}`));
  });

  it("never sends an AI provider's Bearer key to a loopback baseUrl that is not allow-listed", async () => {
    await createAndDeploy(flow('model-ssrf', [
      { id: 'go', type: 'inject', props: { props: [] }, wires: [['agent']] },
      { id: 'agent', type: 'ai-agent', credentials: credentials.modelOnLoopback, props: { role: 'Helper', goal: 'Answer', stream: false, provider: 'credential' }, wires: [] },
    ]));
    const result = await run('model-ssrf', { payload: 'hello' });
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/OpenAI-compatible provider .*refused: a loopback address/);
  });
});

describe('MCP servers: a flow can never name a command', () => {
  it('refuses a server with a command at save, with a pointer', async () => {
    const doc = flow('mcp-shell', [
      { id: 'go', type: 'inject', wires: [['tool']] },
      { id: 'tool', type: 'ai-mcp-tool', props: { server: { name: 'x', transport: 'stdio', command: '/bin/sh', args: ['-c', `cat ${dataDir}/keyring.json >&2`] }, tool: 'run' }, wires: [] },
    ]);
    const created = await server.api('POST', '/api/v1/flows', doc);
    expect(created.status).toBe(422);
    expect(JSON.stringify(created.body.errors)).toMatch(/\/nodes\/1\/props\/server/);
  });

  it('refuses a server name the administrator did not declare at deploy, naming the declared ones', async () => {
    const created = await server.api('POST', '/api/v1/flows', flow('mcp-undeclared', [
      { id: 'go', type: 'inject', wires: [['tool']] },
      { id: 'tool', type: 'ai-mcp-tool', props: { server: { name: 'shell', transport: 'stdio' }, tool: 'run' }, wires: [] },
    ]));
    expect(created.status).toBe(201);
    const deployed = await server.api('POST', '/api/v1/flows/mcp-undeclared/deploy');
    expect(deployed.status).toBe(422);
    expect(deployed.body.errors[0]).toMatchObject({ pointer: '/nodes/1', nodeId: 'tool' });
    expect(deployed.body.errors[0].message).toMatch(/MCP server "shell" is not declared; declared servers: envcheck/);
  });

  it('starts a declared server with exactly its declared environment (vault value included), and scrubs and cuts what it says', async () => {
    await createAndDeploy(flow('mcp-declared', [
      { id: 'go', type: 'inject', props: { props: [] }, wires: [['env']] },
      { id: 'env', type: 'ai-mcp-tool', props: { server: { name: 'envcheck', transport: 'stdio' }, tool: 'env' }, wires: [['leak']] },
      { id: 'leak', type: 'ai-mcp-tool', props: { server: { name: 'envcheck', transport: 'stdio' }, tool: 'leak' }, wires: [] },
    ]));
    const result = await run('mcp-declared');
    const env = result.invocations.find((i: { nodeId: string }) => i.nodeId === 'env');
    expect(JSON.parse(env.outputs[0].msg.payload)).toEqual(['API_TOKEN', 'MODE']);
    const leak = result.invocations.find((i: { nodeId: string }) => i.nodeId === 'leak');
    expect(leak.status).toBe('failed');
    expect(leak.error).toContain('last words: token [redacted]');
    expect(leak.error.length).toBeLessThan(2300);
    expect(JSON.stringify(result)).not.toContain(MCP_TOKEN);
  });
});

describe('credentials bind to node types and hosts', () => {
  it('refuses an ai-model credential on http-request at validate and save, with a pointer', async () => {
    const doc = flow('wrong-type', [
      { id: 'go', type: 'inject', wires: [['call']] },
      { id: 'call', type: 'http-request', credentials: credentials.model, props: { url: `${echoBase}/echo` }, wires: [] },
    ]);
    const issue = {
      pointer: '/nodes/1/credentials',
      nodeId: 'call',
      message: `credential "fake model" (${credentials.model}) is of type "ai-model", but node type "http-request" takes "http-auth" credentials: attach a "http-auth" credential`,
    };
    const validated = await server.api('POST', '/api/v1/flows/validate', doc);
    expect(validated.status).toBe(422);
    expect(validated.body.issues).toContainEqual(issue);
    const created = await server.api('POST', '/api/v1/flows', doc);
    expect(created.status).toBe(422);
    expect(created.body.errors).toContainEqual(issue);
  });

  it('refuses it at deploy too, when the credential changed type after the flow was saved', async () => {
    const id = await credential('changes type', 'http-auth', { user: 'ada', password: SECRET, allowedHosts: ['127.0.0.1'] });
    const created = await server.api('POST', '/api/v1/flows', flow('type-changed', [
      { id: 'go', type: 'inject', wires: [['call']] },
      { id: 'call', type: 'http-request', credentials: id, props: { url: `${echoBase}/echo` }, wires: [] },
    ]));
    expect(created.status).toBe(201);
    expect((await server.api('PATCH', `/api/v1/credentials/${id}`, { type: 'ai-model' })).status).toBe(200);
    const deployed = await server.api('POST', '/api/v1/flows/type-changed/deploy');
    expect(deployed.status).toBe(422);
    expect(deployed.body.errors[0]).toMatchObject({ pointer: '/nodes/1/credentials', nodeId: 'call' });
    expect(deployed.body.errors[0].message).toMatch(/is of type "ai-model", but node type "http-request" takes "http-auth"/);
  });

  it('never sends an http-auth credential to a host outside its allowedHosts', async () => {
    await createAndDeploy(flow('wrong-host', [
      { id: 'go', type: 'inject', props: { props: [] }, wires: [['call']] },
      { id: 'call', type: 'http-request', credentials: credentials.elsewhere, props: { method: 'GET', url: `${echoBase}/bound` }, wires: [] },
    ]));
    const before = seen.length;
    const result = await run('wrong-host');
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/the http-auth credential may not be sent to 127\.0\.0\.1:\d+ \(its allowedHosts: api\.example\.com\)/);
    expect(seen.length).toBe(before);
  });
});

describe('vault secrets are redacted wherever they reappear', () => {
  let socket: Socket;
  const events: Array<[string, unknown]> = [];

  beforeAll(async () => {
    await createAndDeploy(flow('redact', [
      { id: 'go', type: 'inject', props: { props: [] }, wires: [['call', 'agent']] },
      { id: 'call', type: 'http-request', credentials: credentials.http, props: { method: 'POST', url: `${echoBase}/echo`, ret: 'obj' }, wires: [['show', 'boom']] },
      { id: 'show', type: 'debug', props: { complete: 'payload', console: true, tostatus: true }, wires: [] },
      { id: 'boom', type: 'function', props: { func: "node.warn('echoed ' + JSON.stringify(msg.payload.headers)); throw new Error('echoed ' + msg.payload.headers.authorization);" }, wires: [] },
      { id: 'agent', type: 'ai-agent', credentials: credentials.model, props: { role: 'Helper', goal: 'Answer', stream: true, provider: 'credential' }, wires: [['said']] },
      { id: 'said', type: 'debug', props: { complete: 'true', console: true }, wires: [] },
    ]));
    socket = connect(server.url, { transports: ['websocket'], auth: { token: server.adminToken } });
    socket.onAny((event: string, payload: unknown) => events.push([event, payload]));
    await new Promise<void>((resolve) => socket.emit('subscribe', { flowId: 'redact' }, () => resolve()));
  });
  afterAll(() => {
    socket?.close();
  });

  it('sends the secret to the echo server for real, and it appears nowhere: run record, debug buffer, Socket.IO events, logs', async () => {
    logLines.length = 0;
    const before = seen.length;
    const result = await run('redact', { payload: { hello: 'world' } });
    // Let the last live events arrive.
    await new Promise((resolve) => setTimeout(resolve, 300));

    // The real request carried the real secret...
    const sent = seen.slice(before).find((s) => s.url === '/echo')!;
    expect(sent.headers.authorization).toBe(`Basic ${Buffer.from(`ada:${SECRET}`).toString('base64')}`);
    expect(model.requests.at(-1)!.headers.authorization).toBe(`Bearer ${API_KEY}`);

    // ...and it came back in the echo, the model's stream, the function's warning and its error: all redacted.
    const record = JSON.stringify(result);
    expect(result.status).toBe('failed');
    expect(record).toContain('[redacted]');
    const debug = await server.api('GET', '/api/v1/flows/redact/debug');
    expect(debug.status).toBe(200);
    const debugText = JSON.stringify(debug.body);
    expect(debugText).toContain('[redacted]');
    const live = JSON.stringify(events);
    expect(events.map(([name]) => name)).toEqual(expect.arrayContaining(['node:finished', 'debug', 'node:progress', 'node:status', 'run:finished']));
    expect(live).toContain('[redacted]');
    const log = logLines.join('\n');
    expect(log).toContain('[redacted]');
    for (const leak of LEAKS) {
      expect(record, 'run record').not.toContain(leak);
      expect(debugText, 'debug buffer').not.toContain(leak);
      expect(live, 'Socket.IO').not.toContain(leak);
      expect(log, 'log').not.toContain(leak);
    }
    // The list of runs carries the run's error too.
    expect(JSON.stringify((await server.api('GET', '/api/v1/runs?flowId=redact')).body)).not.toContain(SECRET);
  });
});

describe('http-request idempotency key', () => {
  it("sends the invocation's key as Idempotency-Key, the same one the run records", async () => {
    await createAndDeploy(flow('idem', [
      { id: 'go', type: 'inject', props: { props: [] }, wires: [['call']] },
      { id: 'call', type: 'http-request', props: { method: 'POST', url: `${echoBase}/orders` }, wires: [['renamed']] },
      { id: 'renamed', type: 'http-request', props: { method: 'POST', url: `${echoBase}/payments`, idempotencyHeader: 'X-Request-Id' }, wires: [] },
    ]));
    const result = await run('idem', { payload: { order: 1 } });
    expect(result.status).toBe('succeeded');
    const call = result.invocations.find((i: { nodeId: string }) => i.nodeId === 'call');
    const renamed = result.invocations.find((i: { nodeId: string }) => i.nodeId === 'renamed');
    const orders = seen.filter((s) => s.url === '/orders').at(-1)!;
    const payments = seen.filter((s) => s.url === '/payments').at(-1)!;
    expect(orders.headers['idempotency-key']).toBe(`${result.id}:call:${call.id}:1`);
    expect(payments.headers['x-request-id']).toBe(`${result.id}:renamed:${renamed.id}:1`);
    expect(payments.headers['idempotency-key']).toBeUndefined();
  });
});
