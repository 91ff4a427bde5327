/**
 * Pinned outputs through the REST API of a real server: pin a node's output, run the saved flow by hand with it (the
 * pinned HTTP call is never made: its address would refuse), run from a node with a typed input, who may do what;
 * each such run lands in the run history marked as a test run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';

let server: TestServer;
let editor: Awaited<ReturnType<TestServer['userWith']>>;
let operator: Awaited<ReturnType<TestServer['userWith']>>;
let viewer: Awaited<ReturnType<TestServer['userWith']>>;

beforeAll(async () => {
  server = await startTestServer();
  await server.api('POST', '/api/v1/projects', { id: 'shop', name: 'shop' });
  editor = await server.userWith('ed', { projects: { shop: 'editor' } });
  operator = await server.userWith('op', { projects: { shop: 'operator' } });
  viewer = await server.userWith('vi', { projects: { shop: 'viewer' } });
  const flow = {
    id: 'orders',
    name: 'Orders',
    projectId: 'shop',
    nodes: [
      { id: 'in', type: 'inject', props: { props: [{ p: 'payload', v: '7', vt: 'num' }] }, wires: [['call']] },
      // Port 9 (discard) refuses: a run that really called this node would fail.
      { id: 'call', type: 'http-request', props: { method: 'GET', url: 'http://127.0.0.1:9/customer' }, wires: [['greet']] },
      { id: 'greet', type: 'change', props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '"Hello " & payload.name', tot: 'jsonata' }] }, wires: [['out']] },
      { id: 'out', type: 'debug' },
    ],
  };
  const created = await server.apiAs(editor.credentials, 'POST', '/api/v1/flows', flow);
  if (created.status !== 201) throw new Error(`flow: ${created.status} ${JSON.stringify(created.body)}`);
});
afterAll(() => server?.stop());

const outputOf = (answer: any, nodeId: string) => answer.invocations.find((i: any) => i.nodeId === nodeId)?.outputs?.[0]?.msg;

describe('pinned outputs API', () => {
  it('a manual run uses the pin instead of calling the node, in an isolated deployment', async () => {
    const pin = await server.apiAs(editor.credentials, 'PUT', '/api/v1/flows/orders/pins/call', { outputs: [{ msg: { payload: { name: 'Ada' } } }] });
    expect(pin.status).toBe(200);
    expect(pin.body).toMatchObject({ nodeId: 'call', updatedBy: 'ed' });
    const listed = await server.apiAs(viewer.credentials, 'GET', '/api/v1/flows/orders/pins');
    expect(listed.body.map((p: any) => p.nodeId)).toEqual(['call']);

    const run = await server.apiAs(operator.credentials, 'POST', '/api/v1/flows/orders/pinned-runs', {});
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    expect(run.body.run.status).toBe('succeeded');
    expect(run.body.pinned).toEqual(['call']);
    expect(outputOf(run.body, 'in').payload).toBe(7); // the inject sent its own payload
    expect(outputOf(run.body, 'greet').payload).toBe('Hello Ada');
    // Isolated (the flow is not even deployed), yet in the run history as a test run, with every node's data.
    expect(run.body.inHistory).toBe(true);
    expect(run.body.run.test).toBe(true);
    const history = await server.apiAs(viewer.credentials, 'GET', '/api/v1/runs?flowId=orders');
    expect(history.body.map((r: any) => [r.id, r.status, r.test])).toEqual([[run.body.run.id, 'succeeded', true]]);
    const detail = await server.apiAs(viewer.credentials, 'GET', `/api/v1/runs/${run.body.run.id}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ flowId: 'orders', projectId: 'shop', test: true, flowVersion: 1 });
    expect(outputOf(detail.body, 'greet').payload).toBe('Hello Ada');
  });

  it('runs from a node with a typed input; without the pin the node is really called', async () => {
    const fromHere = await server.apiAs(editor.credentials, 'POST', '/api/v1/flows/orders/pinned-runs', { nodeId: 'greet', input: { payload: { name: 'Grace' } } });
    expect(outputOf(fromHere.body, 'greet').payload).toBe('Hello Grace');
    expect((await server.apiAs(editor.credentials, 'DELETE', '/api/v1/flows/orders/pins/call')).status).toBe(204);
    const real = await server.apiAs(editor.credentials, 'POST', '/api/v1/flows/orders/pinned-runs', {});
    expect(real.body.pinned).toEqual([]);
    expect(real.body.run.status).toBe('failed');
    expect(real.body.invocations.find((i: any) => i.nodeId === 'call').status).toBe('failed');
  });

  it('refuses bad pins with the node named, and what the role may not do', async () => {
    const bad = await server.apiAs(editor.credentials, 'PUT', '/api/v1/flows/orders/pins/call', { outputs: [{ port: -1, msg: {} }] });
    expect(bad.status).toBe(400);
    expect((await server.apiAs(viewer.credentials, 'PUT', '/api/v1/flows/orders/pins/call', { outputs: [] })).status).toBe(403);
    expect((await server.apiAs(viewer.credentials, 'POST', '/api/v1/flows/orders/pinned-runs', {})).status).toBe(403);
    expect((await server.apiAs(editor.credentials, 'DELETE', '/api/v1/flows/orders/pins/nothing')).status).toBe(404);
    const noEntry = await server.apiAs(editor.credentials, 'POST', '/api/v1/flows/orders/pinned-runs', { nodeId: 'ghost' });
    expect(noEntry.status).toBe(422);
    expect(noEntry.body.detail).toContain('ghost');
  });

  it("runs the editor's unsaved working copy when sent, checked as a save is, and stores no flow version", async () => {
    const stored = (await server.api('GET', '/api/v1/flows/orders')).body;
    const pin = await server.apiAs(editor.credentials, 'PUT', '/api/v1/flows/orders/pins/call', { outputs: [{ msg: { payload: { name: 'Ada' } } }] });
    expect(pin.status).toBe(200);
    // The user changed the greeting and has not saved: the run uses the change.
    const { deployed: _d, deployedVersion: _v, updatedAt: _u, projectId: _p, ...doc } = stored; // the document, as the editor keeps it
    const draft = structuredClone(doc);
    draft.nodes.find((n: any) => n.id === 'greet').props.rules[0].to = '"Bonjour " & payload.name';
    const run = await server.apiAs(editor.credentials, 'POST', '/api/v1/flows/orders/pinned-runs', { flow: draft });
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    expect(run.body.ran).toBe('draft');
    expect(outputOf(run.body, 'greet').payload).toBe('Bonjour Ada');
    // The history keeps what the working copy did, against the revision it was made from.
    const kept = (await server.api('GET', `/api/v1/runs/${run.body.run.id}`)).body;
    expect(kept).toMatchObject({ test: true, flowVersion: stored.version });
    expect(outputOf(kept, 'greet').payload).toBe('Bonjour Ada');
    const after = (await server.api('GET', '/api/v1/flows/orders')).body;
    expect(after.version).toBe(stored.version);
    expect(after.nodes.find((n: any) => n.id === 'greet').props.rules[0].to).toBe('"Hello " & payload.name');
    expect((await server.apiAs(editor.credentials, 'POST', '/api/v1/flows/orders/pinned-runs', {})).body.ran).toBe('saved');

    // Someone who may run but not edit the flow may not run a document of their own making.
    expect((await server.apiAs(operator.credentials, 'POST', '/api/v1/flows/orders/pinned-runs', { flow: draft })).status).toBe(403);
    // Another flow's id, an invalid document, a credential of another project: refused as a save would be.
    const other = await server.apiAs(editor.credentials, 'POST', '/api/v1/flows/orders/pinned-runs', { flow: { ...draft, id: 'elsewhere' } });
    expect(other.status).toBe(422);
    expect(other.body.errors[0].pointer).toBe('/flow/id');
    const broken = structuredClone(draft);
    broken.nodes.find((n: any) => n.id === 'call').props.method = 'FETCH';
    const invalid = await server.apiAs(editor.credentials, 'POST', '/api/v1/flows/orders/pinned-runs', { flow: broken });
    expect(invalid.status).toBe(422);
    expect(invalid.body.errors.some((e: any) => e.nodeId === 'call')).toBe(true);
    const secret = await server.api('POST', '/api/v1/credentials', { name: `elsewhere-${Date.now()}`, type: 'http-auth', fields: { user: 'u', password: 'p', allowedHosts: ['127.0.0.1:9'] } });
    expect(secret.status, JSON.stringify(secret.body)).toBe(201);
    const foreign = structuredClone(draft);
    foreign.nodes.find((n: any) => n.id === 'call').credentials = secret.body.id;
    const refused = await server.apiAs(editor.credentials, 'POST', '/api/v1/flows/orders/pinned-runs', { flow: foreign });
    expect(refused.status).toBe(422);
    expect(refused.body.errors, JSON.stringify(refused.body)).toEqual([expect.objectContaining({ nodeId: 'call', message: expect.stringContaining('in project "shop"') })]);
  });
});
