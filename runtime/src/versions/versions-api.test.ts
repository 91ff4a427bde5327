/**
 * Flow versions through the REST API of a real server: who saved each version, unchanged saves, the deployed marker
 * and who deployed, the diff between two versions, restore (a new version, audited), and the clear errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { diffFlows } from './diff.ts';

let server: TestServer;
let editor: Awaited<ReturnType<TestServer['userWith']>>;
let viewer: Awaited<ReturnType<TestServer['userWith']>>;

beforeAll(async () => {
  server = await startTestServer();
  await server.api('POST', '/api/v1/projects', { id: 'shop', name: 'shop' });
  editor = await server.userWith('ed', { projects: { shop: 'editor' } });
  viewer = await server.userWith('vi', { projects: { shop: 'viewer' } });
});
afterAll(() => server?.stop());

const flow = (name: string, url = 'http://127.0.0.1:9/a') => ({
  id: 'orders',
  name,
  projectId: 'shop',
  nodes: [
    { id: 'in', type: 'inject', position: { x: 0, y: 0 }, wires: [['call']] },
    { id: 'call', type: 'http-request', props: { method: 'GET', url }, wires: [['out']] },
    { id: 'out', type: 'debug' },
  ],
});

describe('flow versions API', () => {
  it('lists versions with author, skips unchanged saves, marks the deployed one and who deployed it', async () => {
    const as = editor.credentials;
    expect((await server.apiAs(as, 'POST', '/api/v1/flows', flow('Orders'))).status).toBe(201);
    const same = await server.apiAs(as, 'PUT', '/api/v1/flows/orders', { ...flow('Orders'), version: 1 });
    expect(same.status).toBe(200);
    expect(same.body.version).toBe(1);
    expect((await server.apiAs(as, 'POST', '/api/v1/flows/orders/deploy')).status).toBe(200);
    const changed = { ...flow('Orders', 'http://127.0.0.1:9/b'), version: 1 };
    changed.nodes.splice(2, 1, { id: 'log', type: 'debug' });
    changed.nodes[1]!.wires = [['log']];
    expect((await server.apiAs(as, 'PUT', '/api/v1/flows/orders', changed)).body.version).toBe(2);

    const list = await server.apiAs(viewer.credentials, 'GET', '/api/v1/flows/orders/versions');
    expect(list.status).toBe(200);
    expect(list.body.current).toBe(2);
    expect(list.body.deployed).toMatchObject({ version: 1, by: 'ed' });
    expect(list.body.versions.map((v: any) => [v.version, v.createdBy, v.current, v.deployed])).toEqual([
      [2, 'ed', true, false],
      [1, 'ed', false, true],
    ]);

    const diff = await server.apiAs(viewer.credentials, 'GET', '/api/v1/flows/orders/diff?from=1');
    expect(diff.status).toBe(200);
    expect(diff.body.to).toBe(2);
    expect(diff.body.diff.added.map((n: any) => n.id)).toEqual(['log']);
    expect(diff.body.diff.removed.map((n: any) => n.id)).toEqual(['out']);
    expect(diff.body.diff.changed).toEqual([{ id: 'call', type: 'http-request', changes: [{ path: '/props/url', before: 'http://127.0.0.1:9/a', after: 'http://127.0.0.1:9/b' }] }]);
    expect(diff.body.diff.wires).toEqual({ added: [{ from: 'call', port: 0, to: 'log' }], removed: [{ from: 'call', port: 0, to: 'out' }] });

    const old = await server.apiAs(viewer.credentials, 'GET', '/api/v1/flows/orders/versions/1');
    expect(old.body.document.nodes.map((n: any) => n.id)).toEqual(['in', 'call', 'out']);
  });

  it('restore saves the old document as a new version, audited; the viewer may not', async () => {
    expect((await server.apiAs(viewer.credentials, 'POST', '/api/v1/flows/orders/versions/1/restore')).status).toBe(403);
    const restored = await server.apiAs(editor.credentials, 'POST', '/api/v1/flows/orders/versions/1/restore');
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ version: 3, restoredFrom: 1, deployedVersion: 1 });
    const list = await server.api('GET', '/api/v1/flows/orders/versions?limit=1');
    expect(list.body.versions[0]).toMatchObject({ version: 3, createdBy: 'ed', note: 'restored from version 1' });
    expect((await server.api('GET', '/api/v1/flows/orders/diff?from=1&to=3')).body.diff.same).toBe(true);
    const audit = await server.api('GET', '/api/v1/audit?action=flow.restore');
    expect(audit.body.entries).toEqual([expect.objectContaining({ action: 'flow.restore', detail: { from: 1, version: 3 } })]);
    const deployments = await server.api('GET', '/api/v1/flows/orders/deployments');
    expect(deployments.body.map((d: any) => [d.version, d.deployedBy])).toEqual([[1, 'ed']]);
  });

  it('answers clear errors: unknown version, bad version number, a flow the caller cannot see', async () => {
    const missing = await server.api('GET', '/api/v1/flows/orders/versions/99');
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toBe('flow "orders" has no version 99');
    const bad = await server.api('POST', '/api/v1/flows/orders/versions/abc/restore');
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toContain('version must be a version number');
    const outsider = await server.userWith('out', { projects: {} });
    expect((await server.apiAs(outsider.credentials, 'GET', '/api/v1/flows/orders/versions')).status).toBe(403);
  });
});

describe('diffFlows', () => {
  it('tells a pure move from a change, and reports flow fields by pointer', () => {
    const a = { id: 'f', name: 'A', version: 1, settings: { concurrency: 1 }, nodes: [{ id: 'n', type: 'debug', position: { x: 0, y: 0 } }] };
    const b = { ...a, version: 2, settings: { concurrency: 2 }, nodes: [{ id: 'n', type: 'debug', position: { x: 50, y: 0 } }] };
    const diff = diffFlows(a, b);
    expect(diff.moved).toEqual(['n']);
    expect(diff.changed).toEqual([]);
    expect(diff.flow).toEqual([{ path: '/settings/concurrency', before: 1, after: 2 }]);
    expect(diff.same).toBe(false);
  });
});
