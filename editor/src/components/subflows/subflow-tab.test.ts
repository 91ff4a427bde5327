/**
 * A library sub-flow as a tab of the flows store: edited through the same store as a flow (undo covers node and
 * interface edits), saved by publishing the next version, a version published meanwhile shown as a conflict, the
 * runtime's refusal marked on the nodes. The runtime's side is tested on a real runtime in
 * runtime/src/subflows/subflows-api.test.ts and end to end in editor/e2e/subflow-canvas.test.ts.
 */
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { useFlowsStore } from '../../stores/flows';
import { useNodeTypesStore } from '../../stores/nodeTypes';
import { useNoticesStore } from '../../stores/notices';
import { fakeApi, type Route } from '../../test/fake-api';
import { nodeTypes } from '../../test/fixtures';
import { adoptVersion, interfaceOf, isSubflowTab, subflowTabId, type SubflowDocument } from './subflow-tab';

const nodes = [
  { id: 'a', type: 'debug', position: { x: 0, y: 0 }, props: { active: true }, wires: [] },
  { id: 'b', type: 'debug', position: { x: 200, y: 0 }, props: { active: true }, wires: [] },
];
const version = (v: number, by = 'ed') => ({
  definition: { id: 'vat', version: v, name: 'Add VAT', color: '#ccc', properties: { type: 'object', properties: { rate: { type: 'number' } } }, nodes },
  projectId: 'default',
  createdAt: 1000 * v,
  createdBy: by,
});

async function openTab(routes: Record<string, Route> = {}) {
  const api = fakeApi({ 'GET /node-types': { body: nodeTypes }, 'GET /subflows/vat': { body: version(2) }, ...routes });
  await useNodeTypesStore().load();
  const flows = useFlowsStore();
  flows.openWorkingCopy(adoptVersion(version(2)));
  flows.markDrawn(subflowTabId('vat'));
  return { flows, api, id: subflowTabId('vat') };
}

describe('a sub-flow tab', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    localStorage.clear();
    vi.unstubAllGlobals();
  });

  it('is a tab whose id no flow can have, edited and undone as a flow is (nodes and interface)', async () => {
    const { flows, id } = await openTab();
    expect(id).toBe('subflow/vat');
    expect(isSubflowTab(id)).toBe(true);
    expect(isSubflowTab('orders')).toBe(false);
    expect(flows.tabs).toEqual([id]);
    expect(flows.active?.library).toMatchObject({ id: 'vat', color: '#ccc', publishedBy: 'ed' });
    flows.deleteNodes(['b']);
    flows.edit(id, (doc) => ((doc as SubflowDocument).subflow = { ...interfaceOf(doc), input: { type: 'object', required: ['payload'] } }));
    expect(flows.active?.dirty).toBe(true);
    flows.undo();
    expect(interfaceOf(flows.active!.doc).input).toBeUndefined();
    flows.undo();
    expect(flows.active!.doc.nodes.map((n) => n.id)).toEqual(['a', 'b']);
    expect(flows.active?.dirty).toBe(false);
  });

  it('opens by its tab id (a link, tabs restored after a reload) from the latest version, with its draft', async () => {
    fakeApi({ 'GET /node-types': { body: nodeTypes }, 'GET /subflows/vat': { body: version(2) } });
    await useNodeTypesStore().load();
    const first = useFlowsStore();
    expect(await first.openFlow('subflow/vat')).toBe(true);
    first.deleteNodes(['b']);
    await new Promise((resolve) => setTimeout(resolve, 350)); // the draft is written 300 ms after an edit
    setActivePinia(createPinia()); // a reload: a fresh store, the same localStorage
    await useNodeTypesStore().load();
    const flows = useFlowsStore();
    await flows.restoreTabs();
    expect(flows.tabs).toEqual(['subflow/vat']);
    expect(flows.activeId).toBe('subflow/vat');
    expect(flows.active).toMatchObject({ dirty: true, savedVersion: 2, library: { id: 'vat' } });
    expect(flows.active!.doc.nodes.map((n) => n.id)).toEqual(['a']);
  });

  it('Save publishes the next version (nodes as drawn, interface, kept colour) and stores no flow', async () => {
    const { flows, api, id } = await openTab({ 'POST /subflows': (req) => ({ status: 201, body: { ...version(3), definition: { ...(req.body as object), version: 3 } } }) });
    flows.deleteNodes(['b']);
    flows.edit(id, (doc) => ((doc as SubflowDocument).subflow = { ...interfaceOf(doc), output: { type: 'object' } }));
    expect(await flows.deploy(id)).toBe(true); // the Publish button: a sub-flow's deploy is its publish
    const sent = api.called('POST /subflows')[0]!.body as Record<string, unknown>;
    expect(sent).toEqual({ id: 'vat', name: 'Add VAT', color: '#ccc', properties: version(2).definition.properties, output: { type: 'object' }, nodes: [nodes[0]] });
    expect(flows.active).toMatchObject({ dirty: false, savedVersion: 3, deployedVersion: 3, library: { publishedAt: 3000 } });
    expect(api.calls.some((c) => c.path.startsWith('/flows'))).toBe(false);
    expect(useNoticesStore().notices.at(-1)?.text).toBe('Published sub-flow "Add VAT" v3');
    // Nothing changed since: nothing sent.
    expect(await flows.save(id)).toBe(true);
    expect(api.called('POST /subflows')).toHaveLength(1);
  });

  it('publishing again keeps the sub-flow\'s own variables (an import wrote Node-RED\'s global env into it)', async () => {
    const env = { REGION: { type: 'str' as const, value: 'eu' } };
    const withEnv = { ...version(2), definition: { ...version(2).definition, env } };
    const api = fakeApi({ 'GET /node-types': { body: nodeTypes }, 'GET /subflows/vat': { body: withEnv }, 'POST /subflows': (req) => ({ status: 201, body: { ...version(3), definition: { ...(req.body as object), version: 3 } } }) });
    await useNodeTypesStore().load();
    const flows = useFlowsStore();
    flows.openWorkingCopy(adoptVersion(withEnv));
    flows.markDrawn(subflowTabId('vat'));
    flows.deleteNodes(['b']);
    expect(await flows.deploy(subflowTabId('vat'))).toBe(true);
    expect((api.called('POST /subflows')[0]!.body as Record<string, unknown>).env).toEqual(env);
  });

  it('a version published meanwhile is a conflict (nothing sent); overwrite publishes, reload takes theirs', async () => {
    const { flows, api, id } = await openTab({
      'GET /subflows/vat': { body: version(3, 'ann') },
      'POST /subflows': (req) => ({ status: 201, body: { ...version(4), definition: { ...(req.body as object), version: 4 } } }),
    });
    flows.deleteNodes(['b']);
    expect(await flows.save(id)).toBe(false);
    expect(flows.active?.conflict).toEqual({ currentVersion: 3 });
    expect(useNoticesStore().notices.at(-1)?.text).toBe('Sub-flow "Add VAT" v3 was published meanwhile by ann');
    expect(api.called('POST /subflows')).toHaveLength(0);
    await flows.reloadFromServer(id);
    expect(flows.active).toMatchObject({ savedVersion: 3, dirty: false, conflict: null });
    flows.undo(); // the working copy comes back
    expect(flows.active!.doc.nodes).toHaveLength(1);
    expect(await flows.save(id, { overwrite: true })).toBe(true);
    expect(flows.active?.savedVersion).toBe(4);
  });

  it('groups are refused before publishing (a definition has none), not dropped', async () => {
    const { flows, api, id } = await openTab();
    flows.select(['a', 'b']);
    flows.groupSelection('Pair');
    expect(await flows.save(id)).toBe(false);
    expect(useNoticesStore().notices.at(-1)).toMatchObject({ text: 'A sub-flow cannot keep groups', detail: 'Ungroup "Pair" first; nothing was published.' });
    expect(api.called('POST /subflows')).toHaveLength(0);
  });

  it("the runtime's refusal is marked on the node it points at, and nothing changes", async () => {
    const { flows, id } = await openTab({
      'POST /subflows': { status: 422, body: { title: 'Invalid sub-flow', status: 422, detail: 'the definition has 1 problem', errors: [{ pointer: '/nodes/1/props/active', message: 'must be boolean' }] } },
    });
    flows.updateNode('a', (n) => (n.name = 'first'));
    expect(await flows.save(id)).toBe(false);
    expect(flows.activeIssues.byNode.get('b')?.map((i) => `${i.path} ${i.message}`)).toEqual(['/props/active must be boolean']);
    expect(flows.active).toMatchObject({ dirty: true, savedVersion: 2 });
    expect(useNoticesStore().notices.at(-1)?.text).toMatch(/^Publish refused: 1 problem on 1 node/);
  });
});
