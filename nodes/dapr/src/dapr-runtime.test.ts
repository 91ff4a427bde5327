/**
 * The Dapr pack in a real runtime, fed by a real daprd 1.14, with the runtime's context in the same sidecar's state
 * store (FLOWCREW_CONTEXT_STORE=dapr): a deployed flow `dapr-subscribe → function → dapr-state set` turns an event
 * published through the sidecar into a committed run, a value in the state store and a flow context value kept in
 * Dapr; undeploying the flow ends its subscription (daprd lets a new one take the topic). Skips, saying why, without
 * daprd.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import { closeTestServices, createTestNode, setTestServiceDefaults } from '@flowcrew/sdk/testing';
import { startTestServer, type TestServer } from '../../../runtime/src/testing/server.ts';
import { daprSubscribeNode } from './subscribe.ts';
import { daprdMissing, startDaprd, type Daprd } from './testing.ts';

const run = randomBytes(4).toString('hex');

async function until<T>(value: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await value();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(daprdMissing !== undefined)('a flow with Dapr nodes in a real runtime', () => {
  let daprd: Daprd;
  let runtime: TestServer;
  const sidecar = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${daprd.httpPort}${path}`, init);

  beforeAll(async () => {
    daprd = await startDaprd('flowcrew-runtime');
    // The runtime reads the context store settings from the process environment (this file runs in its own process).
    process.env.FLOWCREW_CONTEXT_STORE = 'dapr';
    process.env.FLOWCREW_DAPR_HTTP_URL = `http://127.0.0.1:${daprd.httpPort}`;
    runtime = await startTestServer({ outboundAllow: ['127.0.0.1'] });
  }, 120_000);
  afterAll(async () => {
    await runtime?.stop();
    delete process.env.FLOWCREW_CONTEXT_STORE;
    delete process.env.FLOWCREW_DAPR_HTTP_URL;
    await daprd?.stop();
  }, 30_000);

  it('turns a published event into a run that writes the state store, and ends the subscription on undeploy', async () => {
    const topic = `flowcrew-test-${run}-orders`;
    const created = await runtime.api('POST', '/api/v1/credentials', { name: `dapr ${run}`, type: 'dapr', fields: { host: '127.0.0.1', httpPort: daprd.httpPort, grpcPort: daprd.grpcPort } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const tested = await runtime.api('POST', `/api/v1/credentials/${created.body.id}/test`);
    expect(tested.body, JSON.stringify(tested.body)).toMatchObject({ ok: true, message: expect.stringContaining('connected to Dapr 1.14.0') });
    const flow = {
      id: `dapr-${run}`,
      name: 'orders from Dapr',
      version: 0,
      settings: {},
      nodes: [
        { id: 'in', type: 'dapr-subscribe', credentials: created.body.id, props: { pubsub: 'pubsub', topic }, wires: [['key']] },
        {
          id: 'key',
          type: 'function',
          props: { func: "flow.set('orders', (flow.get('orders') || 0) + 1); msg.topic = `order-${msg.payload.id}`; msg.payload = { ...msg.payload, seen: true }; return msg;" },
          wires: [['save']],
        },
        { id: 'save', type: 'dapr-state', credentials: created.body.id, props: { store: 'statestore', operation: 'set' } },
      ],
    };
    expect((await runtime.api('POST', '/api/v1/flows', flow)).status).toBe(201);
    const deployed = await runtime.api('POST', `/api/v1/flows/${flow.id}/deploy`);
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(200);

    const published = await sidecar(`/v1.0/publish/pubsub/${topic}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: run }) });
    expect(published.status).toBe(204);
    const runs = await until(
      async () => {
        const items = (await runtime.api('GET', `/api/v1/runs?flowId=${flow.id}`)).body as Array<{ id: string; status: string }>;
        return items.length > 0 && items.every((r) => r.status === 'succeeded') ? items : undefined;
      },
      30_000,
      'the run to succeed',
    );
    expect(runs).toHaveLength(1);
    const detail = (await runtime.api('GET', `/api/v1/runs/${runs[0]!.id}`)).body as { invocations: Array<{ nodeId: string; status: string }> };
    expect(detail.invocations.map((i) => i.nodeId)).toEqual(['in', 'key', 'save']);
    const stored = await sidecar(`/v1.0/state/statestore/order-${run}`);
    expect(await stored.json()).toEqual({ id: run, seen: true });
    // The flow context went to the sidecar's state store: the key and the scope's index.
    const scope = encodeURIComponent(`flow:${flow.id}`);
    const counted = await until(async () => {
      const res = await sidecar(`/v1.0/state/statestore/${encodeURIComponent(`ctx|${scope}|orders`)}`);
      return res.status === 200 ? ((await res.json()) as number) : undefined;
    }, 10_000, 'the context value in Dapr');
    expect(counted).toBe(1);
    expect(await (await sidecar(`/v1.0/state/statestore/${encodeURIComponent(`ctx-index|${scope}`)}`)).json()).toEqual(['orders']);

    // Undeployed, the trigger has closed its stream: a new subscriber gets the topic.
    expect((await runtime.api('DELETE', `/api/v1/flows/${flow.id}`)).status).toBeLessThan(300);
    const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
    setTestServiceDefaults({ outbound });
    const next = await createTestNode(daprSubscribeNode, { pubsub: 'pubsub', topic, deadLetterTopic: '', maxDeliveries: 5, metadata: {} }, { credentials: { host: '127.0.0.1', grpcPort: daprd.grpcPort, httpPort: daprd.httpPort } });
    await next.start();
    expect(next.statuses.at(-1)).toMatchObject({ fill: 'green' });
    await next.stop();
    await closeTestServices();
    await outbound.close();
  });
});
