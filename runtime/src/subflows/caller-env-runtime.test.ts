/**
 * A library sub-flow reads the calling flow's variables on the real runtime (SQLite, REST API): the caller's
 * project variables, a secret one redacted in what is stored of both the calling and the called run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { callerScopeEnabled } from './caller-env.ts';

const SECRET = 'sk-caller-0123456789';
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  expect((await server.api('POST', '/api/v1/projects', { id: 'shop', name: 'shop' })).status).toBe(201);
  expect((await server.api('PUT', '/api/v1/projects/shop/variables/REGION', { value: 'eu-north' })).status).toBe(200);
  expect((await server.api('PUT', '/api/v1/projects/shop/variables/API_KEY', { value: SECRET, secret: true })).status).toBe(200);
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

describe("a library sub-flow's variables inside a call", () => {
  it("are the calling flow's (its own and its project's); a secret read inside is redacted in the called run too", async () => {
    const stamp = {
      id: 'stamp', name: 'stamp',
      nodes: [
        { id: 'in', type: 'subflow-in', wires: [['read']] },
        { id: 'read', type: 'change', props: { rules: [
          { t: 'set', p: 'payload', pt: 'msg', to: '{"region": $env("REGION"), "site": $env("SITE"), "flow": $env("NR_FLOW_NAME")}', tot: 'jsonata' },
          { t: 'set', p: 'payload.key', pt: 'msg', to: 'API_KEY', tot: 'env' },
        ] }, wires: [['out']] },
        { id: 'out', type: 'subflow-out' },
      ],
    };
    expect((await server.api('POST', '/api/v1/subflows', stamp)).status).toBe(201);
    const caller = { id: 'orders', name: 'Orders', projectId: 'shop', env: { SITE: 'plant-7' }, nodes: [{ id: 'go', type: 'inject', wires: [['use']] }, { id: 'use', type: 'subflow:stamp', props: { version: 1 } }] };
    expect((await server.api('POST', '/api/v1/flows', caller)).status).toBe(201);
    expect((await server.api('POST', '/api/v1/flows/orders/deploy')).status).toBe(200);

    const started = await server.api('POST', '/api/v1/flows/orders/runs', { nodeId: 'go' });
    expect(started.status).toBe(202);
    const run = await server.waitRun(started.body.runId, 30_000);
    expect(run.status).toBe('succeeded');
    expect(run.invocations.find((i: { nodeId: string }) => i.nodeId === 'use').outputs[0].msg.payload).toEqual({ region: 'eu-north', site: 'plant-7', flow: 'Orders', key: '[redacted]' });

    const called = (await server.api('GET', `/api/v1/runs?flowId=${encodeURIComponent('subflow:stamp:v1')}`)).body as Array<{ id: string }>;
    expect(called).toHaveLength(1);
    const inside = (await server.api('GET', `/api/v1/runs/${called[0]!.id}`)).body;
    expect(inside.invocations.find((i: { nodeId: string }) => i.nodeId === 'read').outputs[0].msg.payload).toEqual({ region: 'eu-north', site: 'plant-7', flow: 'Orders', key: '[redacted]' });
    expect(JSON.stringify(inside)).not.toContain(SECRET);
    // The call over, the caller scope is off again: no async hook left on for the runs of this process.
    await new Promise((resolve) => setImmediate(resolve));
    expect(callerScopeEnabled()).toBe(false);
  });
});
