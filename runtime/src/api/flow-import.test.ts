/**
 * Importing Node-RED exports through the API as a new user would: the same snippet twice, pasted nodes without
 * positions, the property report in the answer, link calls and triggers running on the real runtime, and a flow
 * created without an id.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const post = async (route: string, body: unknown) => {
  const res = await fetch(`${server.url}/webhook${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as unknown };
};

describe('POST /api/v1/flows without an id', () => {
  it('creates the flow with a generated id', async () => {
    const created = await server.api('POST', '/api/v1/flows', { name: 'No id', nodes: [{ id: 'a', type: 'comment' }] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.headers.get('location')).toBe(`/api/v1/flows/${created.body.id}`);
    expect((await server.api('GET', `/api/v1/flows/${created.body.id}`)).body).toMatchObject({ name: 'No id', version: 1 });
    const again = await server.api('POST', '/api/v1/flows', { name: 'No id', nodes: [] });
    expect(again.body.id).not.toBe(created.body.id);
  });

  it('still refuses a second flow with the same explicit id', async () => {
    expect((await server.api('POST', '/api/v1/flows', { id: 'explicit-1', name: 'E', nodes: [] })).status).toBe(201);
    expect((await server.api('POST', '/api/v1/flows', { id: 'explicit-1', name: 'E', nodes: [] })).status).toBe(409);
  });

  it('answers every problem at once: the flow document\'s shape and what its nodes mean (types, props, wires)', async () => {
    const bad = await server.api('POST', '/api/v1/flows', {
      name: 'Bad', colour: 'red',
      nodes: [{ id: 'a', type: 'change', props: { rules: 'not a list' }, position: { x: 'left', y: 0 }, wires: [['gone']] }, { id: 'b', type: 'no-such-type' }],
    });
    expect(bad.status).toBe(422);
    const problems = JSON.stringify(bad.body);
    // shape (an unknown field, a position that is not a number) and meaning (props, a missing wire target, an unknown type)
    for (const pointer of ['/colour', '/nodes/0/position/x', '/nodes/0/props/rules', '/nodes/0/wires/0/0', '/nodes/1/type']) expect(problems).toContain(`"${pointer}`);
    expect((await server.api('GET', '/api/v1/flows')).body.some((f: { name: string }) => f.name === 'Bad')).toBe(false);
  });
});

describe('Node-RED import through the API', () => {
  // Three nodes copied from a tab (no tab in the export), pasted without positions, with values as Node-RED writes them.
  const snippet = [
    { id: 's1', type: 'inject', z: 'f00d', name: 'tick', props: [{ p: 'payload' }], payload: '', payloadType: 'date', repeat: '', once: 'false', wires: [['s2']] },
    { id: 's2', type: 'change', z: 'f00d', name: '', rules: [{ t: 'set', p: 'payload', to: 'hi' }], action: '', property: '', from: '', to: '', reg: false, wires: [['s3']] },
    { id: 's3', type: 'debug', z: 'f00d', name: '', active: true, console: 'false', complete: 'false', wires: [] },
  ];

  it('imports the same snippet twice as two copies, lays the pasted nodes out, and reports each property it changed', async () => {
    const first = await server.api('POST', '/api/v1/flows/import', snippet);
    const second = await server.api('POST', '/api/v1/flows/import', snippet);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    expect(first.body.flows[0].id).not.toBe(second.body.flows[0].id);
    expect(first.body.warnings.join('\n')).toMatch(/does not include tab f00d/);
    expect(first.body.properties).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ nodeId: 's1', type: 'inject', property: '/once', action: 'translated', from: 'false', to: false }),
        expect.objectContaining({ nodeId: 's2', type: 'change', property: '/rules/0/pt', action: 'defaulted', to: 'msg' }),
        expect.objectContaining({ nodeId: 's3', type: 'debug', property: '/console', action: 'translated' }),
      ]),
    );
    const flow = (await server.api('GET', `/api/v1/flows/${first.body.flows[0].id}`)).body;
    const positions = flow.nodes.map((n: { position?: { x: number; y: number } }) => n.position);
    expect(positions.every((p: unknown) => p !== undefined)).toBe(true);
    expect(new Set(positions.map((p: { x: number; y: number }) => `${p.x},${p.y}`)).size).toBe(3);
    // Left to right along the wires.
    expect(positions[0].x).toBeLessThan(positions[1].x);
    expect(positions[1].x).toBeLessThan(positions[2].x);
  });

  it('runs a link call: the message goes through the called path on another tab and comes back', async () => {
    const exported = [
      { id: 'main', type: 'tab', label: 'Main' },
      { id: 'lib', type: 'tab', label: 'Library' },
      { id: 'in1', type: 'http in', z: 'main', url: '/link-call', method: 'post', upload: false, swaggerDoc: '', x: 100, y: 40, wires: [['call']] },
      { id: 'call', type: 'link call', z: 'main', links: ['double-in'], linkType: 'static', timeout: '5', x: 250, y: 40, wires: [['res']] },
      { id: 'res', type: 'http response', z: 'main', statusCode: '', headers: {}, x: 400, y: 40, wires: [] },
      { id: 'double-in', type: 'link in', z: 'lib', name: 'double', links: [], x: 100, y: 40, wires: [['double']] },
      { id: 'double', type: 'change', z: 'lib', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'payload.n * 2', tot: 'jsonata' }], x: 250, y: 40, wires: [['ret']] },
      { id: 'ret', type: 'link out', z: 'lib', mode: 'return', links: [], x: 400, y: 40, wires: [] },
    ];
    const imported = await server.api('POST', '/api/v1/flows/import?deploy=true', exported);
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body.unmapped).toEqual([]);
    expect(await post('/link-call', { n: 21 })).toEqual({ status: 200, body: 42 });
  });

  it('runs a trigger: the first message at once, the second later as a new run on output 2', async () => {
    const exported = [
      { id: 'trig-tab', type: 'tab', label: 'Trigger' },
      { id: 't-in', type: 'http in', z: 'trig-tab', url: '/trigger', method: 'post', x: 100, y: 40, wires: [['trig']] },
      { id: 'trig', type: 'trigger', z: 'trig-tab', op1: '', op1type: 'pay', op2: 'later', op2type: 'str', duration: '20', extend: 'false', overrideDelay: 'false', units: 'ms', reset: '', bytopic: 'all', topic: 'topic', outputs: 2, x: 250, y: 40, wires: [['t-res'], ['t-dbg']] },
      { id: 't-res', type: 'http response', z: 'trig-tab', statusCode: '', headers: {}, x: 400, y: 40, wires: [] },
      { id: 't-dbg', type: 'debug', z: 'trig-tab', active: true, complete: 'payload', x: 400, y: 100, wires: [] },
    ];
    const imported = await server.api('POST', '/api/v1/flows/import?deploy=true', exported);
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(await post('/trigger', { a: 1 })).toEqual({ status: 200, body: { a: 1 } });
    // The second message starts a run at the trigger, leaving on output 2 to the debug node.
    let later: { invocations: Array<{ nodeId: string; outputs?: Array<{ port: number; msg: { payload: unknown } }> }> } | undefined;
    for (let i = 0; i < 100 && !later; i++) {
      const runs = (await server.api('GET', '/api/v1/runs?flowId=trig-tab')).body as Array<{ id: string; triggerNodeId: string; status: string }>;
      const run = runs.find((r) => r.triggerNodeId === 'trig' && r.status === 'succeeded');
      if (run) later = (await server.api('GET', `/api/v1/runs/${run.id}`)).body;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(later).toBeDefined();
    const triggerStep = later!.invocations.find((i) => i.nodeId === 'trig')!;
    expect(triggerStep.outputs).toEqual([{ port: 1, msg: expect.objectContaining({ payload: 'later' }) }]);
    expect(later!.invocations.some((i) => i.nodeId === 't-dbg')).toBe(true);
  });
});

describe('a trigger across a restart', () => {
  it('sends its second message after the runtime restarted while it waited', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-trigger-restart-'));
    try {
      const before = await startTestServer({ dataDir });
      const exported = [
        { id: 'restart-tab', type: 'tab', label: 'Restart' },
        { id: 'r-in', type: 'http in', z: 'restart-tab', url: '/trigger-restart', method: 'post', x: 100, y: 40, wires: [['r-trig']] },
        { id: 'r-trig', type: 'trigger', z: 'restart-tab', op1: '', op1type: 'pay', op2: 'after restart', op2type: 'str', duration: '1500', units: 'ms', outputs: 2, x: 250, y: 40, wires: [['r-res'], ['r-dbg']] },
        { id: 'r-res', type: 'http response', z: 'restart-tab', statusCode: '', headers: {}, x: 400, y: 40, wires: [] },
        { id: 'r-dbg', type: 'debug', z: 'restart-tab', active: true, complete: 'payload', x: 400, y: 100, wires: [] },
      ];
      expect((await before.api('POST', '/api/v1/flows/import?deploy=true', exported)).status).toBe(201);
      const res = await fetch(`${before.url}/webhook/trigger-restart`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":1}' });
      expect(res.status).toBe(200);
      await before.stop();
      const restartedAt = Date.now();
      const after = await startTestServer({ dataDir });
      try {
        let later: { createdAt: number; invocations: Array<{ nodeId: string; outputs?: Array<{ port: number; msg: { payload: unknown } }> }> } | undefined;
        for (let i = 0; i < 100 && !later; i++) {
          const runs = (await after.api('GET', '/api/v1/runs?flowId=restart-tab')).body as Array<{ id: string; triggerNodeId: string; status: string }>;
          const run = runs.find((r) => r.triggerNodeId === 'r-trig' && r.status === 'succeeded');
          if (run) later = (await after.api('GET', `/api/v1/runs/${run.id}`)).body;
          else await new Promise((r) => setTimeout(r, 50));
        }
        // Sent by the restarted runtime, from what the first one kept.
        expect(later!.createdAt).toBeGreaterThanOrEqual(restartedAt);
        expect(later?.invocations.find((i) => i.nodeId === 'r-trig')?.outputs).toEqual([{ port: 1, msg: expect.objectContaining({ payload: 'after restart' }) }]);
      } finally {
        await after.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
