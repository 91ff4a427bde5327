/**
 * Reply handles (Node-RED's msg.res): a webhook request is answered by the http response its message reaches, even
 * when that happens in another run — here a join's timeout sending the group as a new run. Real server, real nodes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  // Pairs requests: /lone sends a group after 0.3 s (the join's timeout, as a new run); /pair only when two are there.
  for (const [id, timeout] of [
    ['lone', 0.3],
    ['pair', 0],
  ] as const) {
    const nodes = [
      { id: 'in', type: 'webhook', props: { method: 'POST', url: `/${id}`, responseTimeoutMs: 3000 }, wires: [['join']] },
      { id: 'join', type: 'join', props: { mode: 'custom', build: 'array', property: 'payload', propertyType: 'msg', count: 2, timeout, useparts: false }, wires: [['out']] },
      { id: 'out', type: 'webhook-response', props: { statusCode: 200 }, wires: [] },
    ];
    expect((await server.api('POST', '/api/v1/flows', { id, name: id, version: 0, settings: {}, nodes })).status).toBe(201);
    expect((await server.api('POST', `/api/v1/flows/${id}/deploy`)).status).toBe(200);
  }
  // A link call whose called path answers the request itself (an http response there, no link return).
  const flows = [
    { id: 'callee', nodes: [{ id: 'entry', type: 'subflow-in', wires: [['out']] }, { id: 'out', type: 'webhook-response', props: { statusCode: 201 }, wires: [] }] },
    {
      id: 'caller',
      nodes: [
        { id: 'in', type: 'webhook', props: { method: 'POST', url: '/linked', responseTimeoutMs: 3000 }, wires: [['call']] },
        { id: 'call', type: 'link-call', props: { linkType: 'static', targets: [{ id: 'entry', flowId: 'callee', nodeId: 'entry' }], timeout: 5 }, wires: [['back']] },
        // Reached only if the call returned (it does not: the called path answers the request itself).
        { id: 'back', type: 'webhook-response', props: { statusCode: 200 }, wires: [] },
      ],
    },
  ];
  for (const { id, nodes } of flows) {
    expect((await server.api('POST', '/api/v1/flows', { id, name: id, version: 0, settings: {}, nodes })).status).toBe(201);
    expect((await server.api('POST', `/api/v1/flows/${id}/deploy`)).status).toBe(200);
  }
}, 60_000);

afterAll(() => server?.stop());

const post = (path: string, payload: unknown) =>
  fetch(`${server.url}/webhook/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) }).then(async (r) => ({
    status: r.status,
    body: await r.json(),
  }));

describe('webhook reply handles across runs', () => {
  it('a request whose message a join held is answered by the run the join timeout started', async () => {
    const answer = await post('lone', 'alone');
    expect(answer).toEqual({ status: 200, body: ['alone'] });
    // Two runs: the request's own (it ended when the join kept its message) and the join's timeout run that answered.
    const runs = (await server.api('GET', '/api/v1/runs?flowId=lone')).body as Array<{ triggerNodeId: string; status: string }>;
    expect(runs.map((r) => r.triggerNodeId).sort()).toEqual(['in', 'join']);
    expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
  });

  it('a request is answered by an http response in the path a link call called (a child run)', async () => {
    expect(await post('linked', { n: 1 })).toEqual({ status: 201, body: { n: 1 } });
  });

  it('two requests completing a group: the message the join sends carries the last one, which is answered; the first waits for its timeout as in Node-RED', async () => {
    const first = post('pair', 'a');
    // The second request is sent once the first is in the join (its run has been stored).
    for (let i = 0; i < 100; i++) {
      const list = (await server.api('GET', '/api/v1/runs?flowId=pair&limit=10')).body as Array<{ input: { payload: unknown }; status: string }>;
      if (list.some((r) => r.input?.payload === 'a' && r.status === 'succeeded')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const second = await post('pair', 'b');
    expect(second).toEqual({ status: 200, body: ['a', 'b'] });
    const answer = await first;
    expect(answer.status).toBe(504);
  });
});
