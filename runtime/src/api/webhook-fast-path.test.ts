/**
 * The webhook fast path: unit tests on a real Express app and the real webhook handler (which requests skip the app,
 * guard order and errors), then a real runtime server proving every guard still applies on /webhook/* (Host check,
 * security headers, rate limit, metrics label) and that both ways to the handler answer alike.
 */
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { errorHandler } from './problem.ts';
import { appClasses, withWebhookFastPath } from './webhook-fast-path.ts';
import { webhookHandler, webhookRouter } from './webhook-http.ts';
import { WebhookRouter } from './webhooks.ts';

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet } as never;

interface Harness {
  url: string;
  /** Requests the app's own first layer saw. */
  appSaw: string[];
  /** Guards called, in order, with the request's path as they saw it. */
  guardSaw: string[];
  handled: Array<{ path: string; originalUrl: string; params: Record<string, string>; body: unknown; query: unknown }>;
  close(): Promise<void>;
}

async function harness(extraGuards: RequestHandler[] = [], withClasses = false): Promise<Harness> {
  const appSaw: string[] = [];
  const guardSaw: string[] = [];
  const handled: Harness['handled'] = [];
  const routes = new WebhookRouter();
  routes.register({
    method: 'POST',
    path: '/orders/:id',
    handle: async (request) => {
      handled.push({ path: request.path, originalUrl: '', params: request.params, body: request.body, query: request.query });
      return { status: 201, body: { got: request.body, id: request.params.id } };
    },
  });
  const config = loadConfig({ ...process.env, DATABASE_URL: '' }, { dataDir: ':memory:' });
  const handler = webhookHandler({ webhooks: routes, config, log: quiet });
  const record =
    (name: string): RequestHandler =>
    (req, _res, next) => {
      guardSaw.push(`${name} ${req.path} ${req.originalUrl}`);
      next();
    };
  const guards = [record('first'), record('second'), ...extraGuards];
  const app = express();
  app.use((req: Request, _res: Response, next: NextFunction) => {
    appSaw.push(req.originalUrl);
    next();
  });
  app.use(guards);
  app.use('/webhook', webhookRouter(handler));
  app.get('/other', (_req, res) => void res.json({ app: true }));
  const onError = errorHandler(quiet, '1mb');
  app.use(onError);
  const listener = withWebhookFastPath(app, { guards, handler, onError });
  // As server.ts makes it: requests and responses born with the app's prototypes (appClasses).
  const server: Server = withClasses ? createServer(appClasses(app), listener) : createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    appSaw,
    guardSaw,
    handled,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe.each([
  ['a plain server', false],
  ['a server made with appClasses', true],
])('webhook fast path (real Express app, real webhook handler), %s', (_label, withClasses) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness([], withClasses);
  });
  afterAll(() => h.close());

  it('serves /webhook/* without the app, through the guards in order, with the path below /webhook', async () => {
    const res = await postJson(`${h.url}/webhook/orders/A-7?x=1`, { n: 1 });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ got: { n: 1 }, id: 'A-7' });
    expect(h.appSaw).toEqual([]);
    expect(h.guardSaw).toEqual(['first /orders/A-7 /webhook/orders/A-7?x=1', 'second /orders/A-7 /webhook/orders/A-7?x=1']);
    expect(h.handled.at(-1)).toMatchObject({ path: '/orders/A-7', params: { id: 'A-7' }, query: { x: '1' } });
  });

  it('leaves other paths, and webhook URLs the prefix does not take, to the app, which answers them alike', async () => {
    h.appSaw.length = 0;
    expect(await (await fetch(`${h.url}/other`)).json()).toEqual({ app: true });
    const upper = await postJson(`${h.url}/WEBHOOK/orders/B-1`, { n: 2 });
    expect(upper.status).toBe(201);
    expect(await upper.json()).toEqual({ got: { n: 2 }, id: 'B-1' });
    expect(h.appSaw).toEqual(['/other', '/WEBHOOK/orders/B-1']);
  });

  it('answers the handler’s own refusals (404, 405, 415, 400) as problems', async () => {
    const missing = await postJson(`${h.url}/webhook/nothing-here`, {});
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    expect((await fetch(`${h.url}/webhook/orders/1`)).status).toBe(405);
    const wrongType = await fetch(`${h.url}/webhook/orders/1`, { method: 'POST', headers: { 'content-type': 'application/x-unknown' }, body: 'x' });
    expect(wrongType.status).toBe(415);
    const broken = await fetch(`${h.url}/webhook/orders/1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    expect(broken.status).toBe(400);
  });
});

describe('webhook fast path: a guard that stops, fails or throws', () => {
  let h: Harness;
  beforeAll(async () => {
    const refuse: RequestHandler = (req, res, next) => {
      if (req.headers['x-refuse'] === 'answer') return void res.status(429).json({ refused: true });
      if (req.headers['x-refuse'] === 'next') return next(Object.assign(new Error('nope'), { status: 403 }));
      if (req.headers['x-refuse'] === 'throw') throw new Error('guard crashed');
      if (req.headers['x-refuse'] === 'reject') return void Promise.reject(new Error('async guard crashed'));
      next();
    };
    const asyncRefuse: RequestHandler = async (req, _res, next) => {
      if (req.headers['x-refuse'] === 'async') throw new Error('async guard crashed');
      next();
    };
    h = await harness([refuse, asyncRefuse]);
  });
  afterAll(() => h.close());

  it('a guard answering ends the request before the handler', async () => {
    const before = h.handled.length;
    const res = await postJson(`${h.url}/webhook/orders/1`, {}, { 'x-refuse': 'answer' });
    expect(res.status).toBe(429);
    expect(h.handled.length).toBe(before);
  });

  it('an error passed on, thrown, or rejected goes to the app’s error handler', async () => {
    const passed = await postJson(`${h.url}/webhook/orders/1`, {}, { 'x-refuse': 'next' });
    expect(passed.status).toBe(403);
    expect((await passed.json()).detail).toBe('nope');
    const thrown = await postJson(`${h.url}/webhook/orders/1`, {}, { 'x-refuse': 'throw' });
    expect(thrown.status).toBe(500);
    expect(await thrown.text()).not.toContain('guard crashed');
    expect((await postJson(`${h.url}/webhook/orders/1`, {}, { 'x-refuse': 'async' })).status).toBe(500);
    expect(h.appSaw).toEqual([]);
  });
});

describe('webhook fast path in a real runtime server: every guard still applies', () => {
  let server: TestServer;
  const flowId = `fast-${randomUUID().slice(0, 8)}`;
  beforeAll(async () => {
    server = await startTestServer({}, { env: { FLOWCREW_RATE_LIMIT_WEBHOOK: '5', FLOWCREW_METRICS_PUBLIC: 'true' } });
    const flow = {
      id: flowId,
      name: flowId,
      version: 0,
      settings: {},
      nodes: [
        { id: 'in', type: 'webhook', props: { method: 'POST', url: `/${flowId}` }, wires: [['out']] },
        { id: 'out', type: 'webhook-response', props: { statusCode: 200 }, wires: [] },
      ],
    };
    expect((await server.api('POST', '/api/v1/flows', flow)).status).toBe(201);
    expect((await server.api('POST', `/api/v1/flows/${flowId}/deploy`)).status).toBe(200);
  }, 60_000);
  afterAll(() => server?.stop());

  /** Raw request (fetch cannot send a foreign Host header). */
  function send(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
    const { port, hostname } = new URL(server.url);
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: hostname, port, path, method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ hello: 'fast' }));
    });
  }

  it('answers through the flow with the security headers; a foreign Host is refused; the rate limit counts; metrics label the route', async () => {
    const ok = await send(`/webhook/${flowId}`);
    expect(ok.status, ok.body).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ hello: 'fast' });
    expect(ok.headers['content-security-policy']).toContain("default-src 'self'");
    expect(ok.headers['x-frame-options']).toBe('DENY');
    expect(ok.headers['ratelimit-policy']).toBeDefined();

    const foreign = await send(`/webhook/${flowId}`, { host: 'evil.example' });
    expect(foreign.status).toBe(403);

    // The limit is 5 a minute: the two above counted (the foreign Host was refused before the limiter).
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await send(`/webhook/${flowId}`)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);

    const metrics = await fetch(`${server.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(new RegExp(`handler="/webhook/${flowId}",method="POST",status="200"`));
    // Refused before the handler matched a route: the mount's label, as in the app.
    expect(metrics).toContain('handler="/webhook (unmatched)",method="POST",status="429"');
  });
});
