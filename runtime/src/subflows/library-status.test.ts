/**
 * Statuses inside a library sub-flow reach the calling flow as Node-RED's subflow instances pass them up: a status
 * node of the sub-flow takes them first; else the caller's status nodes that watch the calling node (or everything)
 * get them, with the inner node as msg.status.source — also a status reported outside any run (a connection). On the real runtime (SQLite), through the REST API.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { freePort } from '@flowcrew/sdk/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';

/** in → function that reports a status → out; with `ownWatcher`, a status node inside takes every status. */
const probe = (id: string, ownWatcher: boolean) => ({
  id,
  name: id,
  nodes: [
    { id: 'in', type: 'subflow-in', wires: [['fn']] },
    { id: 'fn', type: 'function', name: 'inner', props: { func: "node.status({ fill: 'green', shape: 'dot', text: 'inside ' + msg.payload }); return msg;" }, wires: [['out']] },
    { id: 'out', type: 'subflow-out' },
    ...(ownWatcher ? [{ id: 'own', type: 'status', props: { scope: null }, wires: [['own-seen']] }, { id: 'own-seen', type: 'debug' }] : []),
  ],
});

/** inject → the sub-flow → debug; a status node watching everything, one watching the calling node, one another node. */
const caller = (id: string, subflow: string) => ({
  id,
  name: id,
  nodes: [
    { id: 'go', type: 'inject', wires: [['use']] },
    { id: 'use', type: `subflow:${subflow}`, props: { version: 1 }, wires: [['done']] },
    { id: 'done', type: 'debug' },
    { id: 'all', type: 'status', props: { scope: null }, wires: [['all-seen']] },
    { id: 'all-seen', type: 'debug' },
    { id: 'mine', type: 'status', props: { scope: ['use'] }, wires: [['mine-seen']] },
    { id: 'mine-seen', type: 'debug' },
    { id: 'other', type: 'status', props: { scope: ['done'] }, wires: [['other-seen']] },
    { id: 'other-seen', type: 'debug' },
  ],
});

type Run = { id: string; triggerNodeId: string; status: string };

let server: TestServer;
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'subflow-status-'));
  server = await startTestServer({ dataDir });
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function publishAndDeploy(subflow: object, flow: { id: string }): Promise<void> {
  expect((await server.api('POST', '/api/v1/subflows', subflow)).status).toBe(201);
  expect((await server.api('POST', '/api/v1/flows', flow)).status).toBe(201);
  expect((await server.api('POST', `/api/v1/flows/${flow.id}/deploy`)).status).toBe(200);
}

/** Runs the caller once and returns its succeeded runs once `settled` says all expected ones are there. */
async function runOnce(flowId: string, settled: (runs: Run[]) => boolean): Promise<Run[]> {
  const started = await server.api('POST', `/api/v1/flows/${flowId}/runs`, { nodeId: 'go', input: { payload: 7 } });
  expect(started.status).toBe(202);
  expect((await server.waitRun(started.body.runId)).status).toBe('succeeded');
  for (let i = 0; i < 200; i++) {
    const runs = ((await server.api('GET', `/api/v1/runs?flowId=${flowId}`)).body as Run[]).filter((r) => r.status === 'succeeded');
    if (settled(runs)) return runs;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`runs of ${flowId} did not settle`);
}

async function statusSeenBy(runs: Run[], watcher: string, debugNode: string): Promise<unknown> {
  const run = runs.find((r) => r.triggerNodeId === watcher);
  if (!run) return undefined;
  const detail = (await server.api('GET', `/api/v1/runs/${run.id}`)).body as { invocations: Array<{ nodeId: string; input?: { status?: unknown } }> };
  return detail.invocations.find((i) => i.nodeId === debugNode)?.input?.status;
}

describe('statuses inside a library sub-flow', () => {
  it('reach the calling flow\'s status nodes watching the calling node or everything, with the inner node as source', async () => {
    await publishAndDeploy(probe('probe', false), caller('probe-user', 'probe'));
    const runs = await runOnce('probe-user', (all) => all.filter((r) => r.triggerNodeId !== 'go').length >= 2);
    const expected = { fill: 'green', shape: 'dot', text: 'inside 7', source: { id: 'fn', type: 'function', name: 'inner' } };
    expect(await statusSeenBy(runs, 'all', 'all-seen')).toEqual(expected);
    expect(await statusSeenBy(runs, 'mine', 'mine-seen')).toEqual(expected);
    expect(runs.some((r) => r.triggerNodeId === 'other')).toBe(false);
  });

  it('go up through nested sub-flows to the outermost caller', async () => {
    // probe (published by the first test) inside wrap, wrap inside the flow
    const wrap = { id: 'wrap', name: 'wrap', nodes: [{ id: 'in', type: 'subflow-in', wires: [['inner-use']] }, { id: 'inner-use', type: 'subflow:probe', props: { version: 1 }, wires: [['out']] }, { id: 'out', type: 'subflow-out' }] };
    await publishAndDeploy(wrap, caller('wrap-user', 'wrap'));
    const runs = await runOnce('wrap-user', (all) => all.filter((r) => r.triggerNodeId !== 'go').length >= 2);
    expect(await statusSeenBy(runs, 'mine', 'mine-seen')).toEqual({ fill: 'green', shape: 'dot', text: 'inside 7', source: { id: 'fn', type: 'function', name: 'inner' } });
  });

  it('stay inside when a status node of the sub-flow takes them', async () => {
    await publishAndDeploy(probe('probe-own', true), caller('own-user', 'probe-own'));
    // The sub-flow's own status node ran (in its hidden flow, as a run of that flow)...
    const hidden = async () => ((await server.api('GET', '/api/v1/runs')).body as Array<Run & { flowId: string }>).filter((r) => r.triggerNodeId === 'own' && r.status === 'succeeded');
    await runOnce('own-user', () => true);
    for (let i = 0; i < 200 && (await hidden()).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await hidden()).toHaveLength(1);
    // ...and the caller's status nodes got nothing.
    const runs = ((await server.api('GET', '/api/v1/runs?flowId=own-user')).body as Run[]);
    expect(runs.map((r) => r.triggerNodeId)).toEqual(['go']);
  });

  it('reported outside any run (a connection) go up to every node calling the version', async () => {
    const port = await freePort();
    const listener = { id: 'listener', name: 'listener', nodes: [{ id: 'in', type: 'subflow-in', wires: [['out']] }, { id: 'out', type: 'subflow-out' }, { id: 'tcp', type: 'tcp-in', name: 'port', props: { server: 'server', port, datamode: 'stream', datatype: 'utf8' } }] };
    await publishAndDeploy(listener, caller('listener-user', 'listener'));
    const client = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
    try {
      const expected = { fill: 'green', shape: 'dot', text: '1 connection(s)', source: { id: 'tcp', type: 'tcp-in', name: 'port' } };
      let runs: Run[] = [];
      for (let i = 0; i < 200 && runs.filter((r) => r.status === 'succeeded').length < 2; i++) {
        await new Promise((r) => setTimeout(r, 50));
        runs = (await server.api('GET', '/api/v1/runs?flowId=listener-user')).body as Run[];
      }
      const seen = runs.filter((r) => r.status === 'succeeded');
      expect(await statusSeenBy(seen, 'all', 'all-seen')).toEqual(expected);
      expect(await statusSeenBy(seen, 'mine', 'mine-seen')).toEqual(expected);
      expect(seen.some((r) => r.triggerNodeId === 'other')).toBe(false);
    } finally {
      client.destroy();
    }
  });
});
