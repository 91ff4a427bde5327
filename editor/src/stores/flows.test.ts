import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { flowView, nodeTypes } from '../test/fixtures';
import { fakeApi, type RecordedRequest } from '../test/fake-api';
import { remapWires, useFlowsStore } from './flows';
import { useNodeTypesStore } from './nodeTypes';
import { useNoticesStore } from './notices';

async function openOrders(routes: Parameters<typeof fakeApi>[0] = {}) {
  const api = fakeApi({ 'GET /node-types': { body: nodeTypes }, 'GET /credentials': { body: [] }, 'GET /flows/orders': { body: flowView() }, ...routes });
  await useNodeTypesStore().load();
  const flows = useFlowsStore();
  await flows.openFlow('orders');
  flows.markDrawn('orders'); // what the canvas does after the flow's first frame
  return { flows, api };
}

describe('flows store', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    localStorage.clear();
    vi.unstubAllGlobals();
  });

  it('opens a flow in a tab, clean', async () => {
    const { flows } = await openOrders();
    expect(flows.tabs).toEqual(['orders']);
    expect(flows.activeId).toBe('orders');
    expect(flows.active?.dirty).toBe(false);
    expect(flows.activeIssues.all).toEqual([]);
  });

  it('shows the flow asked for last when an earlier one answers later (both tabs open)', async () => {
    let answerSlow: () => void = () => {};
    const slowAnswered = new Promise<void>((resolve) => (answerSlow = resolve));
    fakeApi({
      'GET /node-types': { body: nodeTypes },
      'GET /flows/slow': async () => {
        await slowAnswered;
        return { body: flowView({ id: 'slow', name: 'slow' }) };
      },
      'GET /flows/orders': { body: flowView() },
    });
    await useNodeTypesStore().load();
    const flows = useFlowsStore();
    const first = flows.openFlow('slow');
    await flows.openFlow('orders');
    expect(flows.activeId).toBe('orders');
    answerSlow();
    expect(await first).toBe(true);
    expect(flows.tabs).toEqual(['orders', 'slow']);
    expect(flows.activeId).toBe('orders');
  });

  it("keeps the stored flow's read-only fields (project, deployment) out of the document it edits and exports", async () => {
    const { flows } = await openOrders({ 'GET /flows/orders': { body: flowView({ projectId: 'marketing', deployed: true, deployedVersion: 3 }) } });
    const exported = JSON.parse(flows.exportJson('orders')!);
    for (const field of ['projectId', 'deployed', 'deployedVersion', 'updatedAt']) expect(exported).not.toHaveProperty(field);
    expect(flows.active?.deployed).toBe(true);
  });

  it('adds a node with its schema defaults and flags its missing required props', async () => {
    const { flows } = await openOrders();
    const id = flows.addNode('webhook', { x: 203, y: 98 })!;
    const node = flows.node(id)!;
    expect(node.props).toEqual({ method: 'POST', responseTimeoutMs: 30000 });
    expect(node.position).toEqual({ x: 200, y: 100 });
    expect(flows.selection).toEqual([id]);
    expect(flows.active?.dirty).toBe(true);
    expect(flows.activeIssues.byNode.get(id)).toEqual([{ nodeId: id, path: '/props/url', message: 'is required', source: 'local' }]);
  });

  it('undoes and redoes edits; typing in one field is one undo step', async () => {
    const { flows } = await openOrders();
    flows.setProps('in', { method: 'POST', url: '/o' }, 'props:in:/url');
    flows.setProps('in', { method: 'POST', url: '/or' }, 'props:in:/url');
    flows.setProps('in', { method: 'POST', url: '/ord' }, 'props:in:/url');
    flows.sealHistory();
    flows.deleteNodes(['show']);
    expect(flows.active!.doc.nodes.map((n) => n.id)).toEqual(['in']);
    expect(flows.node('in')!.wires).toEqual([[]]);

    flows.undo();
    expect(flows.active!.doc.nodes.map((n) => n.id)).toEqual(['in', 'show']);
    expect(flows.node('in')!.props!.url).toBe('/ord');
    flows.undo();
    expect(flows.node('in')!.props!.url).toBe('/orders');
    expect(flows.active!.dirty).toBe(false);
    expect(flows.canUndo).toBe(false);
    flows.redo();
    flows.redo();
    expect(flows.active!.doc.nodes.map((n) => n.id)).toEqual(['in']);
    expect(flows.canRedo).toBe(false);
  });

  it('copies and pastes nodes with new ids, keeping the wires between them', async () => {
    const { flows } = await openOrders();
    flows.select(['in', 'show']);
    const text = flows.copySelection()!;
    expect(flows.paste(text)).toBe(true);
    const nodes = flows.active!.doc.nodes;
    expect(nodes).toHaveLength(4);
    const [copyIn, copyShow] = nodes.slice(2);
    expect(copyIn!.id).not.toBe('in');
    expect(copyIn!.wires).toEqual([[copyShow!.id]]);
    expect(copyIn!.position).toEqual({ x: 130, y: 130 });
    expect(flows.selection).toEqual([copyIn!.id, copyShow!.id]);
    expect(flows.paste('{"not": "nodes"}')).toBe(false);
  });

  it('applies a canvas gesture (moves and wires) as one undo step', async () => {
    const { flows } = await openOrders();
    flows.applyCanvasChange({ positions: new Map([['in', { x: 10, y: 20 }], ['show', { x: 300, y: 20 }]]), wires: new Map([['in', [[]]]]), removed: [] });
    expect(flows.node('in')!.position).toEqual({ x: 10, y: 20 });
    expect(flows.node('in')!.wires).toEqual([[]]);
    flows.undo();
    expect(flows.node('in')!.position).toEqual({ x: 100, y: 100 });
    expect(flows.node('in')!.wires).toEqual([['show']]);
  });

  it('moves wires with their switch rule when a rule is removed', async () => {
    const { flows } = await openOrders();
    const id = flows.addNode('switch', { x: 0, y: 0 })!;
    const rules = [{ t: 'eq', v: 'a' }, { t: 'eq', v: 'b' }, { t: 'else' }];
    flows.setProps(id, { property: 'payload', rules });
    flows.updateNode(id, (n) => (n.wires = [['x'], ['y'], ['z']]));
    flows.setProps(id, { property: 'payload', rules: [rules[0], rules[2]] });
    expect(flows.node(id)!.wires).toEqual([['x'], ['z']]);
    expect(remapWires([['a'], ['b']], [1, 2], [2, 1])).toEqual([['b'], ['a']]);
  });

  it("works out a flow's local problems only once the canvas has drawn it (a large flow shows at once); a save checks anyway", async () => {
    fakeApi({ 'GET /node-types': { body: nodeTypes }, 'GET /credentials': { body: [] }, 'GET /flows/orders': { body: flowView() } });
    await useNodeTypesStore().load();
    const flows = useFlowsStore();
    await flows.openFlow('orders');
    flows.setProps('in', { method: 'POST', url: 'no-leading-slash' });
    expect(flows.activeIssues.all).toEqual([]);
    expect(await flows.save()).toBe(false);
    flows.markDrawn('orders');
    expect(flows.activeIssues.byNode.get('in')?.[0]?.path).toBe('/props/url');
  });

  it('never sends a flow with invalid props', async () => {
    const { flows, api } = await openOrders();
    flows.setProps('in', { method: 'POST', url: 'no-leading-slash' });
    expect(await flows.deploy()).toBe(false);
    expect(api.called('PUT /flows/orders')).toHaveLength(0);
    expect(api.called('POST /flows/orders/deploy')).toHaveLength(0);
    expect(flows.activeIssues.byNode.get('in')?.[0]?.path).toBe('/props/url');
    expect(useNoticesStore().notices.at(-1)?.text).toBe('1 problem to fix first');
  });

  it('saves with If-Match of the loaded version, then deploys', async () => {
    const saved: RecordedRequest[] = [];
    const { flows, api } = await openOrders({
      'PUT /flows/orders': (request) => {
        saved.push(request);
        return { body: { ...(request.body as object), version: 4, deployed: false, deployedVersion: null, updatedAt: 2 } };
      },
      'POST /flows/orders/deploy': { body: { ...flowView({ version: 4 }), deployed: true, deployedVersion: 4 } },
    });
    flows.rename('orders', 'Orders v2');
    expect(await flows.deploy()).toBe(true);
    expect(saved[0]!.headers['if-match']).toBe('"3"');
    expect((saved[0]!.body as { name: string }).name).toBe('Orders v2');
    expect(api.called('POST /flows/orders/deploy')).toHaveLength(1);
    expect(flows.active).toMatchObject({ dirty: false, savedVersion: 4, deployed: true, deployedVersion: 4 });
  });

  it('shows a refused deploy on the offending node and field, keeping the edits', async () => {
    const { flows } = await openOrders({
      'POST /flows/orders/deploy': {
        status: 422,
        body: { title: 'Unprocessable', status: 422, detail: 'flow "orders" cannot be deployed: 1 problem(s)', errors: [{ pointer: '/nodes/0/props/url', message: 'is already registered' }] },
      },
    });
    expect(await flows.deploy()).toBe(false);
    expect(flows.activeIssues.byNode.get('in')).toEqual([{ nodeId: 'in', path: '/props/url', message: 'is already registered', source: 'server' }]);
    // The message names the node as the user sees it, and the field by its label, not by ids and pointers.
    expect(useNoticesStore().notices.at(-1)).toMatchObject({ text: 'Deploy refused: 1 problem on 1 node', detail: '"POST /orders": URL is already registered' });
    expect(flows.active!.doc.nodes).toHaveLength(2);
    // Editing the node clears the runtime's (now stale) complaint.
    flows.setProps('in', { method: 'POST', url: '/orders-2' });
    expect(flows.activeIssues.byNode.get('in')).toBeUndefined();
  });

  it('keeps local edits on a version conflict and can overwrite', async () => {
    let stored = 5;
    const { flows } = await openOrders({
      'PUT /flows/orders': (request) =>
        request.headers['if-match'] === `"${stored}"`
          ? { body: { ...(request.body as object), version: ++stored, deployed: false, deployedVersion: null, updatedAt: 3 } }
          : { status: 409, body: { title: 'Version conflict', status: 409, detail: 'stored version is 5', currentVersion: 5 } },
    });
    flows.rename('orders', 'Mine');
    expect(await flows.save()).toBe(false);
    expect(flows.active!.conflict).toEqual({ currentVersion: 5 });
    expect(flows.active!.doc.name).toBe('Mine');
    fakeApi({
      'GET /flows/orders': { body: flowView({ version: 5, name: 'Theirs' }) },
      'PUT /flows/orders': (request) => (request.headers['if-match'] === '"5"' ? { body: { ...(request.body as object), version: 6, deployed: false, deployedVersion: null, updatedAt: 4 } } : { status: 409, body: { title: 'conflict', status: 409 } }),
    });
    expect(await flows.save('orders', { overwrite: true })).toBe(true);
    expect(flows.active).toMatchObject({ conflict: null, savedVersion: 6, dirty: false });
    expect(flows.active!.doc.name).toBe('Mine');
  });

  it('restores unsaved work from a draft after a reload', async () => {
    const first = await openOrders();
    first.flows.rename('orders', 'Unsaved name');
    await new Promise((r) => setTimeout(r, 350)); // drafts are written shortly after the last edit
    setActivePinia(createPinia());
    const second = await openOrders();
    expect(second.flows.active!.doc.name).toBe('Unsaved name');
    expect(second.flows.active!.dirty).toBe(true);
  });
});
