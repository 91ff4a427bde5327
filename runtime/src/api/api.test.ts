import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect } from 'socket.io-client';
import { startTestServer, type TestServer } from '../testing/server.ts';

let server: TestServer;

beforeAll(async () => {
  // The tool-call test's target listens on loopback, which the outbound guard refuses unless allow-listed.
  server = await startTestServer({ bodyLimit: '64kb', outboundAllow: ['127.0.0.1'] }, { loadExamples: true });
});
afterAll(async () => {
  await server?.stop();
});

const flow = (id: string, nodes: unknown[], settings: Record<string, unknown> = {}) => ({ id, name: id, version: 0, settings, nodes });

async function createAndDeploy(doc: unknown) {
  const created = await server.api('POST', '/api/v1/flows', doc);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const deployed = await server.api('POST', `/api/v1/flows/${(doc as { id: string }).id}/deploy`);
  expect(deployed.status, JSON.stringify(deployed.body)).toBe(200);
  return deployed.body;
}

describe('health, OpenAPI and node types', () => {
  it('reports health and the storage in use', async () => {
    const { status, body } = await server.api('GET', '/api/v1/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', storage: 'sqlite' });
  });

  it('serves an OpenAPI 3.1 document describing every route', async () => {
    const { body } = await server.api('GET', '/api/v1/openapi.json');
    expect(body.openapi).toBe('3.1.0');
    for (const route of ['/flows', '/flows/{id}/deploy', '/flows/import', '/flows/{id}/export', '/flows/{id}/runs', '/runs', '/runs/{id}', '/runs/{id}/cancel', '/health', '/node-types']) {
      expect(body.paths, route).toHaveProperty([route]);
    }
  });

  it('lists the core node types with their JSON Schemas and help', async () => {
    const { body } = await server.api('GET', '/api/v1/node-types');
    const types = body.map((t: { type: string }) => t.type);
    for (const type of ['inject', 'webhook', 'webhook-response', 'cron', 'change', 'switch', 'jsonata', 'template', 'json', 'csv', 'yaml', 'split', 'join', 'delay', 'debug', 'http-request', 'catch', 'subflow-call', 'function']) {
      expect(types, type).toContain(type);
    }
    const fn = body.find((t: { type: string }) => t.type === 'function');
    expect(fn.props.type).toBe('object');
    expect(fn.help.length).toBeGreaterThan(50);
  });
});

describe('example flows as shipped', () => {
  it('the order webhook totals an order and routes it by size', async () => {
    const big = await server.api('POST', '/webhook/orders', { id: 'A-1', customer: 'Ada', items: [{ sku: 'x', qty: 2, price: 60 }] });
    expect(big.status).toBe(200);
    expect(big.body).toEqual({ orderId: 'A-1', customer: 'Ada', items: 1, total: 120, status: 'review' });
    const small = await server.api('POST', '/webhook/orders', { id: 'A-2', customer: 'Bob', items: [{ sku: 'y', qty: 1, price: 9.5 }, { sku: 'z', qty: 2, price: 1.25 }] });
    expect(small.body).toEqual({ orderId: 'A-2', customer: 'Bob', items: 2, total: 12, status: 'approved' });
  });

  it('the lead-scoring flow runs manually and records each node invocation', async () => {
    const started = await server.api('POST', '/api/v1/flows/lead-scoring/runs', { input: { payload: { email: 'x@corp.example', employees: 500, visits: 10 } } });
    expect(started.status).toBe(202);
    const run = await server.waitRun(started.body.runId);
    expect(run.status).toBe('succeeded');
    const byNode = Object.fromEntries(run.invocations.map((i: { nodeId: string }) => [i.nodeId, i]));
    expect(byNode.score.outputs).toEqual([{ port: 0, msg: expect.objectContaining({ payload: { email: 'x@corp.example', employees: 500, visits: 10, score: 70 } }) }]);
    expect(byNode.hot.status).toBe('succeeded');
    expect(byNode.nurture).toBeUndefined();
    expect(byNode.score.startedAt).toBeTypeOf('number');
    expect(byNode.score.finishedAt).toBeGreaterThanOrEqual(byNode.score.startedAt);
  });

  it('re-runs a past webhook run with its original input, entering as the webhook did', async () => {
    const answer = await server.api('POST', '/webhook/orders', { id: 'R-1', customer: 'Rita', items: [{ qty: 1, price: 1 }] });
    expect(answer.status).toBe(200);
    const [past] = (await server.api('GET', '/api/v1/runs?flowId=orders&limit=1')).body;
    const again = await server.api('POST', `/api/v1/runs/${past.id}/rerun`);
    expect(again.status).toBe(202);
    const run = await server.waitRun(again.body.runId);
    expect(run.status).toBe('succeeded');
    expect(run.triggerNodeId).toBe('order-in');
    const respond = run.invocations.find((i: { nodeId: string }) => i.nodeId === 'respond');
    expect(respond.input.payload).toEqual({ orderId: 'R-1', customer: 'Rita', items: 1, total: 1, status: 'approved' });
    expect((await server.api('POST', '/api/v1/runs/nope/rerun')).status).toBe(404);
  });

  it('lists runs filtered by flow and status', async () => {
    const { body } = await server.api('GET', '/api/v1/runs?flowId=lead-scoring&status=succeeded');
    expect(body.length).toBeGreaterThan(0);
    expect(body.every((r: { flowId: string; status: string }) => r.flowId === 'lead-scoring' && r.status === 'succeeded')).toBe(true);
    const bad = await server.api('GET', '/api/v1/runs?status=bogus');
    expect(bad.status).toBe(400);
  });
});

describe('bad input', () => {
  it('reports every validation problem with a JSON pointer and stores nothing', async () => {
    const doc = flow('broken', [
      { id: 'a', type: 'inject', wires: [['b', 'ghost']] },
      { id: 'b', type: 'no-such-type' },
      { id: 'a', type: 'debug' },
      { id: 'c', type: 'switch', props: { rules: 'not-an-array' } },
    ]);
    const res = await server.api('POST', '/api/v1/flows', doc);
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const pointers = res.body.errors.map((e: { pointer: string }) => e.pointer);
    expect(pointers).toEqual(expect.arrayContaining(['/nodes/2/id', '/nodes/1/type', '/nodes/0/wires/0/1', '/nodes/3/props/rules']));
    expect((await server.api('GET', '/api/v1/flows/broken')).status).toBe(404);
  });

  it('rejects cycles unless a node type allows them', async () => {
    const doc = flow('loop', [
      { id: 'a', type: 'change', props: { rules: [] }, wires: [['b']] },
      { id: 'b', type: 'change', props: { rules: [] }, wires: [['a']] },
    ]);
    const res = await server.api('POST', '/api/v1/flows', doc);
    expect(res.status).toBe(422);
    expect(res.body.errors[0].message).toMatch(/cycle/);
  });

  it('answers malformed JSON with 400 and an oversized body with 413, leaving stored flows unchanged', async () => {
    const before = await server.api('GET', '/api/v1/flows/orders');
    const malformed = await server.api('PUT', '/api/v1/flows/orders', '{"id": "orders", nodes: [');
    expect(malformed.status).toBe(400);
    expect(malformed.body.title).toBe('Malformed JSON');
    const huge = await server.api('PUT', '/api/v1/flows/orders', { ...before.body, description: 'x'.repeat(100_000) });
    expect(huge.status).toBe(413);
    const after = await server.api('GET', '/api/v1/flows/orders');
    expect(after.body.version).toBe(before.body.version);
    expect(after.body.nodes).toEqual(before.body.nodes);
  });

  it('refuses a stale update with 409 (optimistic locking)', async () => {
    const current = await server.api('GET', '/api/v1/flows/lead-scoring');
    const stale = await server.api('PUT', '/api/v1/flows/lead-scoring', { ...current.body, name: 'renamed' }, { 'If-Match': `"${current.body.version - 1}"` });
    expect(stale.status).toBe(409);
    const fresh = await server.api('PUT', '/api/v1/flows/lead-scoring', { ...current.body, name: 'Lead scoring v2' }, { 'If-Match': `"${current.body.version}"` });
    expect(fresh.status).toBe(200);
    expect(fresh.body.version).toBe(current.body.version + 1);
  });

  it('fails a function node that loops forever, with the reason, and keeps serving', async () => {
    await createAndDeploy(
      flow('forever', [
        { id: 'go', type: 'inject', wires: [['spin']] },
        { id: 'spin', type: 'function', props: { func: 'while (true) {}', timeout: 0.2 }, wires: [] },
      ]),
    );
    const { body } = await server.api('POST', '/api/v1/flows/forever/runs', { input: { payload: 1 } });
    const run = await server.waitRun(body.runId);
    expect(run.status).toBe('failed');
    const spin = run.invocations.find((i: { nodeId: string }) => i.nodeId === 'spin');
    expect(spin.status).toBe('failed');
    expect(spin.error).toMatch(/timed out/i);
    expect((await server.api('GET', '/api/v1/health')).status).toBe(200);
  });

  it('unknown webhook paths and methods get problem responses', async () => {
    expect((await server.api('POST', '/webhook/nope', {})).status).toBe(404);
    expect((await server.api('DELETE', '/webhook/orders')).status).toBe(405);
  });

  it('answers an unsupported method on a known API path with 405 and Allow, and a body that is not JSON with 415', async () => {
    const wrongMethod = await server.api('PATCH', '/api/v1/flows/orders');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, PUT, DELETE');
    expect(wrongMethod.headers.get('content-type')).toContain('application/problem+json');
    const text = await server.api('POST', '/api/v1/flows', 'id: as-yaml', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(text.headers.get('content-type')).toContain('application/problem+json');
    expect((await server.api('GET', '/api/v1/flows/as-yaml')).status).toBe(404);
  });
});

describe('executor behaviour', () => {
  it('retries a failing node with backoff, then succeeds', async () => {
    await createAndDeploy(
      flow('flaky', [
        { id: 'go', type: 'inject', wires: [['flaky']] },
        {
          id: 'flaky',
          type: 'function',
          retry: { maxAttempts: 3, backoffMs: 10 },
          props: { func: "const n = (flow.get('n') || 0) + 1; flow.set('n', n); if (n < 3) throw new Error('flaky ' + n); msg.payload = n; return msg;" },
          wires: [],
        },
      ]),
    );
    const { body } = await server.api('POST', '/api/v1/flows/flaky/runs', {});
    const run = await server.waitRun(body.runId);
    expect(run.status).toBe('succeeded');
    const inv = run.invocations.find((i: { nodeId: string }) => i.nodeId === 'flaky');
    expect(inv.attempt).toBe(3);
    expect(inv.outputs[0].msg.payload).toBe(3);
  });

  it("shows a run as 'waiting' while its only node sleeps in a retry backoff", async () => {
    await createAndDeploy(
      flow('backoff', [
        { id: 'go', type: 'inject', wires: [['fails']] },
        { id: 'fails', type: 'function', retry: { maxAttempts: 2, backoffMs: 1500 }, props: { func: "throw new Error('down')" }, wires: [] },
      ]),
    );
    const { body } = await server.api('POST', '/api/v1/flows/backoff/runs', {});
    await expect.poll(async () => (await server.api('GET', `/api/v1/runs/${body.runId}`)).body.status).toBe('waiting');
    const run = await server.waitRun(body.runId);
    expect(run.status).toBe('failed');
    expect(run.invocations.find((i: { nodeId: string }) => i.nodeId === 'fails')).toMatchObject({ attempt: 2, error: expect.stringContaining('down') });
  });

  it('keeps no history for a flow whose retention is none', async () => {
    await createAndDeploy(flow('forgetful', [{ id: 'go', type: 'inject', wires: [['d']] }, { id: 'd', type: 'debug' }], { retention: 'none' }));
    const { body } = await server.api('POST', '/api/v1/flows/forgetful/runs', {});
    await expect.poll(async () => (await server.api('GET', `/api/v1/runs/${body.runId}`)).status).toBe(404);
  });

  it('fails a function node that allocates without bound, and the next message still works', async () => {
    await createAndDeploy(
      flow('hog', [
        { id: 'go', type: 'inject', wires: [['hog']] },
        { id: 'hog', type: 'function', props: { func: "if (msg.payload === 'hog') { const a = []; while (true) a.push('x'.repeat(1e5) + Math.random()); } return msg;", memoryLimitMb: 16, timeout: 10 }, wires: [] },
      ]),
    );
    const bad = await server.waitRun((await server.api('POST', '/api/v1/flows/hog/runs', { input: { payload: 'hog' } })).body.runId, 30_000);
    expect(bad.status).toBe('failed');
    expect(bad.invocations.find((i: { nodeId: string }) => i.nodeId === 'hog').error).toMatch(/memory/i);
    const good = await server.waitRun((await server.api('POST', '/api/v1/flows/hog/runs', { input: { payload: 'fine' } })).body.runId);
    expect(good.status).toBe('succeeded');
  });

  it('routes an error to a catch node, and the run still succeeds', async () => {
    await createAndDeploy(
      flow('caught', [
        { id: 'go', type: 'inject', wires: [['boom']] },
        { id: 'boom', type: 'function', props: { func: "throw new Error('kaput')" }, wires: [] },
        { id: 'catcher', type: 'catch', props: {}, wires: [['log']] },
        { id: 'log', type: 'debug', props: { complete: 'error' }, wires: [] },
      ]),
    );
    const { body } = await server.api('POST', '/api/v1/flows/caught/runs', {});
    const run = await server.waitRun(body.runId);
    expect(run.status).toBe('succeeded');
    const caught = run.invocations.find((i: { nodeId: string }) => i.nodeId === 'catcher');
    expect(caught.input.error).toMatchObject({ message: expect.stringContaining('kaput'), source: { id: 'boom', type: 'function' } });
  });

  it('fails the run when an error is not caught', async () => {
    await createAndDeploy(flow('uncaught', [{ id: 'go', type: 'inject', wires: [['boom']] }, { id: 'boom', type: 'function', props: { func: "throw new Error('nobody catches')" }, wires: [] }]));
    const { body } = await server.api('POST', '/api/v1/flows/uncaught/runs', {});
    const run = await server.waitRun(body.runId);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/nobody catches/);
  });

  it('queues runs beyond the flow concurrency limit and cancels a running run', async () => {
    await createAndDeploy(
      flow(
        'slow',
        [
          { id: 'go', type: 'inject', wires: [['wait']] },
          { id: 'wait', type: 'delay', props: { pauseType: 'delay', timeout: 30, timeoutUnits: 'seconds' }, wires: [] },
        ],
        { concurrency: 1 },
      ),
    );
    const first = (await server.api('POST', '/api/v1/flows/slow/runs', {})).body.runId;
    const second = (await server.api('POST', '/api/v1/flows/slow/runs', {})).body.runId;
    expect((await server.api('GET', `/api/v1/runs/${first}`)).body.status).toBe('running');
    expect((await server.api('GET', `/api/v1/runs/${second}`)).body.status).toBe('queued');
    const cancelled = await server.api('POST', `/api/v1/runs/${first}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    // The queued run takes the freed slot.
    await expect.poll(async () => (await server.api('GET', `/api/v1/runs/${second}`)).body.status).toBe('running');
    await server.api('POST', `/api/v1/runs/${second}/cancel`);
    const again = await server.api('POST', `/api/v1/runs/${first}/cancel`);
    expect(again.status).toBe(409);
  });

  it('cancels the runs in flight when their flow is undeployed', async () => {
    await createAndDeploy(
      flow('stoppable', [
        { id: 'go', type: 'inject', wires: [['wait']] },
        { id: 'wait', type: 'delay', props: { pauseType: 'delay', timeout: 30, timeoutUnits: 'seconds' }, wires: [] },
      ]),
    );
    const { body } = await server.api('POST', '/api/v1/flows/stoppable/runs', {});
    expect((await server.api('POST', '/api/v1/flows/stoppable/undeploy')).body.deployed).toBe(false);
    const run = await server.waitRun(body.runId);
    expect(run.status).toBe('cancelled');
    expect(run.invocations.find((i: { nodeId: string }) => i.nodeId === 'wait').status).toBe('cancelled');
  });

  it('calls a sub-flow and continues with its answer', async () => {
    await createAndDeploy(
      flow('double', [
        { id: 'in', type: 'subflow-in', wires: [['calc']] },
        { id: 'calc', type: 'change', props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'payload * 2', tot: 'jsonata' }] }, wires: [['out']] },
        { id: 'out', type: 'subflow-out' },
      ]),
    );
    await createAndDeploy(
      flow('caller', [
        { id: 'go', type: 'inject', wires: [['call']] },
        { id: 'call', type: 'subflow-call', props: { flowId: 'double' }, wires: [] },
      ]),
    );
    const { body } = await server.api('POST', '/api/v1/flows/caller/runs', { input: { payload: 21 } });
    const run = await server.waitRun(body.runId);
    expect(run.status).toBe('succeeded');
    expect(run.invocations.find((i: { nodeId: string }) => i.nodeId === 'call').outputs[0].msg.payload).toBe(42);
  });
});

describe('import and export', () => {
  it('exports a flow and imports it back under a new id', async () => {
    const exported = await server.api('GET', '/api/v1/flows/orders/export');
    expect(exported.status).toBe(200);
    expect(exported.body.format).toBe('flowcrew/flow@1');
    const copy = { ...exported.body, id: 'orders-copy', nodes: exported.body.nodes.map((n: { type: string; props: Record<string, unknown> }) => (n.type === 'webhook' ? { ...n, props: { ...n.props, url: '/orders-copy' } } : n)) };
    const imported = await server.api('POST', '/api/v1/flows/import?deploy=true', copy);
    expect(imported.status).toBe(201);
    expect(imported.body).toMatchObject({ source: 'flowcrew', flows: [{ id: 'orders-copy', deployed: true }] });
    const answer = await server.api('POST', '/webhook/orders-copy', { id: 'C', customer: 'Cy', items: [{ qty: 1, price: 5 }] });
    expect(answer.body).toEqual({ orderId: 'C', customer: 'Cy', items: 1, total: 5, status: 'approved' });
  });

  it('imports a Node-RED flow, lists unmapped nodes, and answers as Node-RED does', async () => {
    const nodeRed = [
      { id: 'tab1', type: 'tab', label: 'Greeter', disabled: false, info: '' },
      { id: 'h1', type: 'http in', z: 'tab1', name: '', url: '/greet', method: 'post', upload: false, swaggerDoc: '', x: 100, y: 100, wires: [['c1']] },
      { id: 'c1', type: 'change', z: 'tab1', name: '', rules: [{ t: 'set', p: 'payload.greeting', pt: 'msg', to: 'Hello', tot: 'str' }], action: '', property: '', from: '', to: '', reg: false, x: 300, y: 100, wires: [['s1']] },
      {
        id: 's1', type: 'switch', z: 'tab1', name: '', property: 'payload.name', propertyType: 'msg',
        rules: [{ t: 'eq', v: 'admin', vt: 'str' }, { t: 'else' }], checkall: 'true', repair: false, outputs: 2, x: 500, y: 100, wires: [['t1'], ['f1']],
      },
      { id: 't1', type: 'template', z: 'tab1', name: '', field: 'payload', fieldType: 'msg', format: 'handlebars', syntax: 'mustache', template: 'Welcome back, {{payload.name}}!', output: 'str', x: 700, y: 60, wires: [['r1']] },
      { id: 'f1', type: 'function', z: 'tab1', name: '', func: 'msg.payload = msg.payload.greeting + ", " + msg.payload.name;\nreturn msg;', outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x: 700, y: 140, wires: [['r1']] },
      { id: 'r1', type: 'http response', z: 'tab1', name: '', statusCode: '', headers: {}, x: 900, y: 100, wires: [] },
      { id: 'u1', type: 'serial out', z: 'tab1', name: '', serial: 'b1', x: 900, y: 200, wires: [] },
      { id: 'b1', type: 'serial-port', name: 'ttyUSB0', serialport: '/dev/ttyUSB0', serialbaud: '57600' },
    ];
    const imported = await server.api('POST', '/api/v1/flows/import?deploy=true', nodeRed);
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body.source).toBe('node-red');
    expect(imported.body.unmapped.map((u: { id: string }) => u.id).sort()).toEqual(['b1', 'u1']);
    const admin = await server.api('POST', '/webhook/greet', { name: 'admin' });
    expect(admin.status).toBe(200);
    expect(admin.body).toBe('Welcome back, admin!');
    const guest = await server.api('POST', '/webhook/greet', { name: 'Grace' });
    expect(guest.body).toBe('Hello, Grace');
  });

  it('rejects an import that is neither Flowcrew nor Node-RED JSON', async () => {
    const res = await server.api('POST', '/api/v1/flows/import', { hello: 'world' });
    expect(res.status).toBe(400);
  });
});

describe('live events over Socket.IO', () => {
  it('streams run and node events and debug messages to flow subscribers', async () => {
    const socket = connect(server.url, { transports: ['websocket'], auth: { token: server.adminToken } });
    const events: Array<[string, any]> = [];
    for (const name of ['run:started', 'node:started', 'node:finished', 'debug', 'run:finished']) socket.on(name, (payload: unknown) => events.push([name, payload]));
    await new Promise<void>((resolve) => socket.emit('subscribe', { flowId: 'lead-scoring' }, () => resolve()));
    const { body } = await server.api('POST', '/api/v1/flows/lead-scoring/runs', { input: { payload: { email: 'z@gmail.com', employees: 1, visits: 1 } } });
    await expect.poll(() => events.some(([name, p]) => name === 'run:finished' && p.runId === body.runId)).toBe(true);
    socket.close();
    const names = events.filter(([, p]) => p.runId === body.runId).map(([name]) => name);
    expect(names[0]).toBe('run:started');
    expect(names).toContain('node:finished');
    const debug = events.find(([name]) => name === 'debug')![1];
    expect(debug.nodeId).toBe('nurture');
    expect(JSON.parse(debug.value.json)).toMatchObject({ score: 3 - 20 });

    // A client that lost its connection fetches what it missed, in the same shape, by seq.
    const before = (await server.api('GET', `/api/v1/flows/lead-scoring/debug?after=${debug.seq}`)).body;
    const missed = await server.api('POST', '/api/v1/flows/lead-scoring/runs', { input: { payload: { email: 'q@corp.example', employees: 900, visits: 20 } } });
    await server.waitRun(missed.body.runId);
    const caughtUp = (await server.api('GET', `/api/v1/flows/lead-scoring/debug?after=${debug.seq}`)).body;
    expect(caughtUp.length).toBe(before.length + 1);
    expect(caughtUp.at(-1)).toMatchObject({ runId: missed.body.runId, nodeId: 'hot', seq: expect.any(Number) });
    expect(caughtUp.at(-1).seq).toBeGreaterThan(debug.seq);
    expect((await server.api('GET', '/api/v1/flows/lead-scoring/debug')).body.find((m: { seq: number }) => m.seq === debug.seq)).toEqual(debug);
    expect((await server.api('GET', '/api/v1/flows/nope/debug')).status).toBe(404);
  });
});

describe('plumbing for AI nodes: streamed progress, usage and tool calls', () => {
  it('streams progress live, records usage on the invocation, and records a tool call as its own invocation', async () => {
    const target = await import('node:http').then(
      ({ createServer }) =>
        new Promise<{ url: string; close: () => void }>((resolve) => {
          const srv = createServer((_req, res) => {
            res.setHeader('content-type', 'application/json');
            res.end(JSON.stringify({ weather: 'sunny' }));
          });
          srv.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(srv.address() as { port: number }).port}/weather`, close: () => srv.close() }));
        }),
    );
    // A node written against the SDK, registered like a pack would be: it streams, reports usage and uses a tool.
    server.runtime.registry.register(
      [
        {
          type: 'test-streaming-agent',
          category: 'ai',
          label: 'Streaming agent',
          inputs: 1,
          outputs: 1,
          help: 'Test node.',
          props: { type: 'object', properties: { url: { type: 'string' } } },
          create: ({ props }) => ({
            async onInput(msg, ctx) {
              for (const token of ['Sun', 'ny']) ctx.progress({ token });
              ctx.recordUsage({ model: 'test', promptTokens: 12, completionTokens: 2, costUsd: 0.0001 });
              ctx.recordUsage({ promptTokens: 3, completionTokens: 1 });
              const [answer] = await ctx.callTool({ type: 'http-request', props: { method: 'GET', url: (props as { url: string }).url, ret: 'obj' }, label: 'weather lookup' });
              return { ...msg, payload: answer!.payload };
            },
          }),
        },
      ],
      'test-pack',
    );
    await createAndDeploy(flow('agentish', [{ id: 'go', type: 'inject', wires: [['agent']] }, { id: 'agent', type: 'test-streaming-agent', props: { url: target.url }, wires: [] }]));
    const socket = connect(server.url, { transports: ['websocket'], auth: { token: server.adminToken } });
    const progress: unknown[] = [];
    socket.on('node:progress', (e: { data: unknown }) => progress.push(e.data));
    await new Promise<void>((resolve) => socket.emit('subscribe', { flowId: 'agentish' }, () => resolve()));
    const { body } = await server.api('POST', '/api/v1/flows/agentish/runs', {});
    const run = await server.waitRun(body.runId);
    socket.close();
    target.close();
    expect(run.status).toBe('succeeded');
    expect(progress).toEqual([{ token: 'Sun' }, { token: 'ny' }]);
    const agent = run.invocations.find((i: { nodeId: string; nodeType: string }) => i.nodeId === 'agent' && i.nodeType === 'test-streaming-agent');
    expect(agent.usage).toEqual({ model: 'test', promptTokens: 15, completionTokens: 3, costUsd: 0.0001 });
    expect(agent.outputs[0].msg.payload).toEqual({ weather: 'sunny' });
    const tool = run.invocations.find((i: { nodeType: string }) => i.nodeType === 'http-request');
    expect(tool).toMatchObject({ nodeId: 'agent', parentId: agent.id, status: 'succeeded' });
    expect(tool.outputs[0].msg.statusCode).toBe(200);
  });
});
