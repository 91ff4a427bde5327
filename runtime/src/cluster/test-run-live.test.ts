/**
 * A test run's live events across mains (queue mode, real PostgreSQL and Redis): the editor is connected to one main,
 * the test run is asked for on another (a load balancer sends each request anywhere). Its events reach that editor
 * through the Socket.IO Redis adapter, marked test, and no one else: not an editor watching the flow on either main,
 * and not the socket of another user named in the request.
 */
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../testing/server.ts';
import { QueueCluster } from '../testing/queue-cluster.ts';
import { connectedSocket, recordEvents as record, type SocketAuth } from '../testing/live-socket.ts';
import { TEST_REDIS_DB } from '../testing/redis-databases.ts';

const FLOW = 'cross-main-test-runs';
let cluster: QueueCluster;
let mainA: TestServer;
let mainB: TestServer;
const sockets: Socket[] = [];
const socketOn = (server: TestServer, auth: SocketAuth) => connectedSocket(server.url, auth, sockets);

beforeAll(async () => {
  cluster = await QueueCluster.create({ name: 'testrunlive', redisDb: TEST_REDIS_DB.testRunLive });
  mainA = await cluster.main('main-a');
  mainB = await cluster.main('main-b');
  const flow = {
    id: FLOW,
    name: 'Test runs across mains',
    nodes: [
      { id: 'in', type: 'inject', props: { props: [{ p: 'payload', v: '21', vt: 'num' }] }, wires: [['double']] },
      { id: 'double', type: 'change', props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'payload * 2', tot: 'jsonata' }] }, wires: [['out']] },
      { id: 'out', type: 'debug', props: { tostatus: true } },
    ],
  };
  const created = await mainA.api('POST', '/api/v1/flows', flow);
  if (created.status !== 201) throw new Error(`flow: ${created.status} ${JSON.stringify(created.body)}`);
}, 120_000);

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await cluster?.close();
}, 60_000);

describe('test runs in queue mode with two mains', () => {
  it("stream to the editor on the other main, marked test, and to nobody watching the flow", async () => {
    // The editor on main A (the admin token's actor is the same on every main), the request on main B.
    const editor = await socketOn(mainA, { token: mainA.adminToken });
    const heard = record(editor);
    const watchers = await Promise.all([mainA, mainB].map((m) => socketOn(m, { token: m.adminToken })));
    const watched = watchers.map(record);
    for (const w of watchers) expect(await w.timeout(20_000).emitWithAck('subscribe', { flowId: FLOW })).toMatchObject({ ok: true });

    const run = await mainB.api('POST', `/api/v1/flows/${FLOW}/pinned-runs`, { liveSocket: editor.id });
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    expect(run.body.run.status).toBe('succeeded');
    const runId = run.body.run.id as string;
    // Emitted on main B before it answered; carried to main A by the Redis adapter a moment later.
    await expect.poll(() => heard.some((e) => e.event === 'run:finished'), { timeout: 20_000 }).toBe(true);
    const of = (event: string) => heard.filter((e) => e.event === event).map((e) => e.payload);
    expect(of('run:started')).toEqual([expect.objectContaining({ runId, flowId: FLOW, test: true })]);
    expect(of('node:finished').map((p) => p.nodeId).sort()).toEqual(['double', 'in', 'out']);
    expect(of('node:finished').every((p) => p.test === true && p.runId === runId)).toBe(true);
    const [debug] = of('debug');
    expect(debug).toMatchObject({ runId, nodeId: 'out', test: true });
    expect(JSON.parse(debug.value.json)).toBe(42);
    expect(debug.seq).toBeUndefined();
    expect(of('run:finished')).toEqual([expect.objectContaining({ runId, status: 'succeeded', test: true })]);

    // Round trip on each watcher's socket: anything sent to them before would have arrived first.
    for (const w of watchers) await w.timeout(20_000).emitWithAck('subscribe', { flowId: FLOW });
    for (const seen of watched) expect(seen.filter((e) => e.payload?.runId === runId)).toEqual([]);
  });

  it("cannot be pointed at another user's editor on the other main; the run goes ahead without a live view", async () => {
    const other = await mainA.userWith('trl-other', { instanceRole: 'admin' });
    const theirs = await socketOn(mainA, { cookie: other.credentials.cookie });
    const heard = record(theirs);
    const run = await mainB.api('POST', `/api/v1/flows/${FLOW}/pinned-runs`, { liveSocket: theirs.id });
    expect(run.status).toBe(200);
    expect(run.body.run.status).toBe('succeeded');
    expect(await theirs.timeout(20_000).emitWithAck('subscribe', { flowId: 'no-such-flow' })).toMatchObject({ ok: false });
    expect(heard).toEqual([]);
  });
});
