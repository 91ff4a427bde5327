/** Node-RED's status and complete nodes on the real runtime, imported from a Node-RED export. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

type Run = { id: string; triggerNodeId: string; status: string };
type Invocation = { nodeId: string; input?: Record<string, unknown>; outputs?: Array<{ port: number; msg: Record<string, unknown> }> };

async function runsOf(flowId: string, until: (runs: Run[]) => boolean): Promise<Run[]> {
  for (let i = 0; i < 100; i++) {
    const runs = (await server.api('GET', `/api/v1/runs?flowId=${flowId}`)).body as Run[];
    if (until(runs)) return runs;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out waiting for runs');
}

describe('complete and status nodes', () => {
  it('a complete node gets a copy of each message a watched node finished, in the same run', async () => {
    const exported = [
      { id: 'c-tab', type: 'tab', label: 'Complete' },
      { id: 'c-in', type: 'http in', z: 'c-tab', url: '/complete', method: 'post', x: 100, y: 40, wires: [['c-set']] },
      { id: 'c-set', type: 'change', z: 'c-tab', rules: [{ t: 'set', p: 'payload.done', pt: 'msg', to: 'true', tot: 'bool' }], x: 250, y: 40, wires: [['c-res']] },
      { id: 'c-res', type: 'http response', z: 'c-tab', statusCode: '', headers: {}, x: 400, y: 40, wires: [] },
      { id: 'c-watch', type: 'complete', z: 'c-tab', scope: ['c-res'], uncaught: false, x: 100, y: 120, wires: [['c-dbg']] },
      { id: 'c-dbg', type: 'debug', z: 'c-tab', active: true, complete: 'true', x: 250, y: 120, wires: [] },
    ];
    const imported = await server.api('POST', '/api/v1/flows/import?deploy=true', exported);
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body.unmapped).toEqual([]);
    const res = await fetch(`${server.url}/webhook/complete`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(await res.json()).toEqual({ a: 1, done: true });
    const [run] = await runsOf('c-tab', (runs) => runs.some((r) => r.status === 'succeeded'));
    const detail = (await server.api('GET', `/api/v1/runs/${run!.id}`)).body as { invocations: Invocation[] };
    const watched = detail.invocations.find((i) => i.nodeId === 'c-dbg')!;
    expect(watched.input).toMatchObject({ payload: { a: 1, done: true }, complete: { source: { id: 'c-res', type: 'webhook-response' } } });
  });

  it('a status node starts a run with msg.status for each status change of a watched node', async () => {
    const exported = [
      { id: 's-tab', type: 'tab', label: 'Status' },
      { id: 's-inject', type: 'inject', z: 's-tab', props: [{ p: 'payload', v: 'hello', vt: 'str' }], x: 100, y: 40, wires: [['s-dbg']] },
      { id: 's-dbg', type: 'debug', z: 's-tab', active: true, complete: 'payload', tostatus: true, statusType: 'auto', x: 250, y: 40, wires: [] },
      { id: 's-watch', type: 'status', z: 's-tab', scope: ['s-dbg'], x: 100, y: 120, wires: [['s-out']] },
      { id: 's-out', type: 'debug', z: 's-tab', active: true, complete: 'status', x: 250, y: 120, wires: [] },
    ];
    const imported = await server.api('POST', '/api/v1/flows/import?deploy=true', exported);
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect((await server.api('POST', '/api/v1/flows/s-tab/runs', { nodeId: 's-inject' })).status).toBe(202);
    const runs = await runsOf('s-tab', (all) => all.some((r) => r.triggerNodeId === 's-watch' && r.status === 'succeeded'));
    const statusRun = runs.find((r) => r.triggerNodeId === 's-watch' && r.status === 'succeeded')!;
    const detail = (await server.api('GET', `/api/v1/runs/${statusRun.id}`)).body as { invocations: Invocation[] };
    expect(detail.invocations.find((i) => i.nodeId === 's-out')!.input).toMatchObject({
      status: { fill: 'grey', shape: 'dot', text: 'hello', source: { id: 's-dbg', type: 'debug' } },
    });
  });
});
