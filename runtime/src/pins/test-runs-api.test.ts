/**
 * Test runs end to end on a real server (SQLite, Socket.IO): while a test run runs, its events reach the editor that
 * started it (and no one else); afterwards `GET /runs?test=` tells them from production runs and the dashboard's
 * figures count production runs only.
 */
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { connectedSocket, recordEvents as record } from '../testing/live-socket.ts';

let server: TestServer;
let editor: Awaited<ReturnType<TestServer['userWith']>>;
let other: Awaited<ReturnType<TestServer['userWith']>>;
const sockets: Socket[] = [];

const FLOW = 'live-test-runs';
const socketOf = (cookie: string) => connectedSocket(server.url, { cookie }, sockets);

beforeAll(async () => {
  server = await startTestServer();
  await server.api('POST', '/api/v1/projects', { id: 'lab', name: 'lab' });
  editor = await server.userWith('tr-ed', { projects: { lab: 'editor' } });
  other = await server.userWith('tr-other', { projects: { lab: 'editor' } });
  const flow = {
    id: FLOW,
    name: 'Live test runs',
    projectId: 'lab',
    nodes: [
      { id: 'in', type: 'inject', props: { props: [{ p: 'payload', v: '21', vt: 'num' }] }, wires: [['double']] },
      { id: 'double', type: 'change', props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'payload * 2', tot: 'jsonata' }] }, wires: [['out']] },
      { id: 'out', type: 'debug', props: { tostatus: true } },
    ],
  };
  const created = await server.apiAs(editor.credentials, 'POST', '/api/v1/flows', flow);
  if (created.status !== 201) throw new Error(`flow: ${created.status} ${JSON.stringify(created.body)}`);
});

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await server?.stop();
});

describe('test runs', () => {
  it("send their live events to the editor that started them, marked test, and to nobody else", async () => {
    const mine = await socketOf(editor.credentials.cookie);
    const watcher = await socketOf(editor.credentials.cookie);
    // Another editor of the flow, watching its room: a test run is not the flow's business.
    expect(await new Promise((resolve) => watcher.emit('subscribe', { flowId: FLOW }, resolve))).toMatchObject({ ok: true });
    const heard = record(mine);
    const watched = record(watcher);

    const run = await server.apiAs(editor.credentials, 'POST', `/api/v1/flows/${FLOW}/pinned-runs`, { liveSocket: mine.id });
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    expect(run.body.run.status).toBe('succeeded');
    const runId = run.body.run.id as string;

    // Emitted before the answer was sent; the socket may deliver them a moment after it.
    await expect.poll(() => heard.map((h) => h.event), { timeout: 10_000 }).toContain('run:finished');
    const of = (event: string) => heard.filter((h) => h.event === event).map((h) => h.payload);
    expect(of('run:started')).toEqual([expect.objectContaining({ runId, flowId: FLOW, test: true })]);
    expect(of('node:finished').map((e) => [e.nodeId, e.status, e.test])).toEqual([
      ['in', 'succeeded', true],
      ['double', 'succeeded', true],
      ['out', 'succeeded', true],
    ]);
    const [debug] = of('debug');
    expect(debug).toMatchObject({ runId, flowId: FLOW, nodeId: 'out', test: true });
    expect(JSON.parse(debug.value.json)).toBe(42);
    expect(debug.seq).toBeUndefined(); // not in the flow's catch-up buffer: no cursor to move
    expect(of('node:status')).toEqual([expect.objectContaining({ flowId: FLOW, nodeId: 'out', status: expect.objectContaining({ text: '42' }), test: true })]);
    expect(of('run:finished')).toEqual([expect.objectContaining({ runId, status: 'succeeded', test: true })]);

    // A production run afterwards reaches the watcher: had the test run been sent to the flow's room, it would be first.
    await server.apiAs(editor.credentials, 'POST', `/api/v1/flows/${FLOW}/deploy`);
    const real = await server.apiAs(editor.credentials, 'POST', `/api/v1/flows/${FLOW}/runs`, {});
    expect(real.status, JSON.stringify(real.body)).toBe(202);
    await server.waitRun(real.body.runId);
    await expect.poll(() => watched.filter((w) => w.event === 'run:finished').length, { timeout: 10_000 }).toBe(1);
    expect(watched.every((w) => w.payload?.runId === undefined || w.payload.runId === real.body.runId)).toBe(true);
    expect(watched.some((w) => w.payload?.test)).toBe(false);
  });

  it("cannot be pointed at another user's editor; the run goes ahead without a live view", async () => {
    const theirs = await socketOf(other.credentials.cookie);
    const heard = record(theirs);
    const run = await server.apiAs(editor.credentials, 'POST', `/api/v1/flows/${FLOW}/pinned-runs`, { liveSocket: theirs.id });
    expect(run.status).toBe(200);
    expect(run.body.run.status).toBe('succeeded');
    // Round trip on the same socket: anything emitted to it before would have arrived first.
    expect(await new Promise((resolve) => theirs.emit('subscribe', { flowId: 'no-such-flow' }, resolve))).toMatchObject({ ok: false });
    expect(heard).toEqual([]);
  });

  it('are told from production runs by GET /runs?test=, and dashboards count production runs only', async () => {
    const all = await server.apiAs(editor.credentials, 'GET', `/api/v1/runs?flowId=${FLOW}`);
    const tests = await server.apiAs(editor.credentials, 'GET', `/api/v1/runs?flowId=${FLOW}&test=true`);
    const production = await server.apiAs(editor.credentials, 'GET', `/api/v1/runs?flowId=${FLOW}&test=false`);
    expect(all.body).toHaveLength(3); // two test runs (above), one production run
    expect(tests.body.map((r: any) => r.test)).toEqual([true, true]);
    expect(production.body).toHaveLength(1);
    expect(production.body[0].test).toBeUndefined();
    expect(new Set([...tests.body, ...production.body].map((r: any) => r.id))).toEqual(new Set(all.body.map((r: any) => r.id)));
    expect((await server.apiAs(editor.credentials, 'GET', '/api/v1/runs?test=maybe')).status).toBe(400);

    const stats = await server.apiAs(editor.credentials, 'GET', '/api/v1/stats?minutes=60');
    expect(stats.status).toBe(200);
    expect(stats.body.totals.runs).toBe(1);
    expect(stats.body.buckets.reduce((sum: number, b: any) => sum + b.runs, 0)).toBe(1);
    // Prometheus: the test runs ran on the sandbox's own executor, never the runtime's counters.
    const metrics = await server.api('GET', '/metrics');
    expect(metrics.status).toBe(200);
    const started = String(metrics.body).split('\n').filter((l) => l.startsWith('flowcrew_runs_started_total') && l.includes(`flow="${FLOW}"`));
    expect(started.map((l) => Number(l.split(' ').pop()))).toEqual([1]);
  });
});
