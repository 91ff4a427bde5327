/**
 * Node-RED groups (nested) and subflows (env properties, in/out ports, instances) imported: the translation
 * (groups in the flow document, a library definition, instances as `subflow:<id>` nodes, the report), and end to end
 * on a real runtime — the export is first loaded by a real Node-RED 4 (proof that it is a valid export) and both
 * systems must answer the same; importing it again changes nothing in the library, a changed subflow is a new version.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeRedUnderTest, nodeRedInstalled as available, requireNodeRedInCi } from '../testing/node-red.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { hiddenFlow } from '../subflows/definition.ts';
import { nodeRed4Site } from './fixtures/node-red-corpus.ts';
import { NESTED_TAB, SUBFLOW_TAB, nestedExport, subflowExport } from './fixtures/node-red-subflows.ts';
import { importNodeRed } from './node-red.ts';

requireNodeRedInCi();

describe('Node-RED groups and subflows: the translation', () => {
  const result = importNodeRed(subflowExport());
  const flow = result.flows[0]!;
  const node = (id: string) => flow.nodes.find((n) => n.id === id)!;

  it('keeps nested groups: name, colour (fill, else border), direct members, parent', () => {
    expect(flow.groups).toEqual([
      { id: 'g-outer', name: 'Scaling API', color: '#ffefbf', nodes: ['n-in', 'n-res', 'n-watch'] },
      { id: 'g-inner', name: 'Work', color: '#3f93cf', nodes: ['n-mark', 'n-scale'], parent: 'g-outer' },
    ]);
    expect(result.unmapped.filter((u) => u.type === 'group')).toEqual([]);
    const notes = result.properties.filter((p) => p.type === 'group').map((p) => `${p.nodeId}${p.property} ${p.action}`);
    expect(notes).toEqual(['g-outer/style translated', 'g-outer/style ignored', 'g-inner/style translated', 'g-inner/style ignored', 'g-inner/g translated']);
  });

  it('a status node with scope "group" watches its group, nested groups included', () => {
    expect(node('n-watch').props!.scope).toEqual(['n-mark', 'n-scale', 'n-in', 'n-res']);
  });

  it('makes a library definition: entry and exit where the ports were, env as typed properties, env reads rewritten', () => {
    expect(result.subflows).toHaveLength(1);
    const { nodeRedId, definition } = result.subflows[0]!;
    expect(nodeRedId).toBe('sf-scale');
    expect(definition).toMatchObject({
      id: 'sf-scale',
      name: 'Scale and label',
      description: 'Multiplies msg.payload.value by FACTOR and labels it with UNIT.',
      color: '#DDAA99',
      properties: { type: 'object', properties: { FACTOR: { type: 'number', default: 2 }, UNIT: { type: 'string', default: 'kg' } } },
    });
    const inner = (id: string) => definition.nodes.find((n) => n.id === id)!;
    expect(inner('sf-scale-in')).toMatchObject({ type: 'subflow-in', wires: [['sf-factor']] });
    expect(inner('sf-label').wires).toEqual([['sf-scale-out']]);
    expect(inner('sf-scale-out').type).toBe('subflow-out');
    expect(inner('sf-factor').props!.rules).toEqual([{ t: 'set', p: 'factor', pt: 'msg', to: 'subflow.props.FACTOR', tot: 'msg' }]);
    expect(inner('sf-label').props!.func).toContain('msg.subflow.props["UNIT"]');
    expect(inner('sf-status').type).toBe('status');
  });

  it('makes instances nodes of the library type with their env values as properties', () => {
    expect(node('n-scale')).toMatchObject({ type: 'subflow:sf-scale', name: 'by three', props: { FACTOR: 3 }, wires: [['n-res']] });
    expect(node('n-scale2')).toMatchObject({ type: 'subflow:sf-scale', props: {} });
    expect(result.properties).toContainEqual(expect.objectContaining({ nodeId: 'n-scale', property: '/env/0', action: 'translated', to: 3 }));
  });

  it('inlines instances of a subflow without input or with two outputs (node-red-inline.test.ts); lists unused such definitions and unknown instances', () => {
    const base = subflowExport().filter((n) => n.type === 'tab');
    const odd = importNodeRed([
      ...base,
      { id: 'sf-src', type: 'subflow', name: 'Source', in: [], out: [{ x: 1, y: 1, wires: [] }], env: [] },
      { id: 'sf-two', type: 'subflow', name: 'Two', in: [{ x: 1, y: 1, wires: [] }], out: [{ x: 1, y: 1, wires: [] }, { x: 1, y: 2, wires: [] }], env: [] },
      { id: 'i1', type: 'subflow:sf-src', z: SUBFLOW_TAB, x: 10, y: 10, wires: [[]] },
      { id: 'i2', type: 'subflow:sf-two', z: SUBFLOW_TAB, x: 10, y: 50, wires: [[], []] },
      { id: 'i3', type: 'subflow:gone', z: SUBFLOW_TAB, x: 10, y: 90, wires: [] },
    ]);
    const reasons = Object.fromEntries(odd.unmapped.map((u) => [u.id, u.reason]));
    expect(Object.keys(reasons)).toEqual(['i3']);
    expect(reasons.i3).toContain('not in the export');
    expect(odd.properties.filter((p) => p.property === '' && p.action === 'translated').map((p) => p.nodeId)).toEqual(['i1', 'i2']);
    expect(odd.subflows).toEqual([]);
    const unused = importNodeRed([...base, { id: 'sf-two', type: 'subflow', name: 'Two', in: [{ x: 1, y: 1, wires: [] }], out: [{ x: 1, y: 1, wires: [] }, { x: 1, y: 2, wires: [] }], env: [] }]);
    expect(unused.unmapped.find((u) => u.id === 'sf-two')?.reason).toContain('2 outputs');
  });
});

let nodeRed: NodeRedUnderTest | undefined;
let nodeRedUrl = '';
let flowcrew: TestServer | undefined;

async function post(url: string, body: unknown) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as unknown };
}

describe('Node-RED global variables (global-config) in a library sub-flow', () => {
  it('become the sub-flow\'s own variables, which its hidden flow reads (compared with Node-RED in node-red-corpus.test.ts)', () => {
    const result = importNodeRed(nodeRed4Site());
    const [imported] = result.subflows;
    expect(imported!.definition.env).toEqual({ SITE: 'plant-7', LIMIT: { type: 'num', value: '5' }, REGION: 'eu' });
    expect(hiddenFlow({ ...imported!.definition, version: 1 }).env).toEqual(imported!.definition.env);
    // the tab's own REGION wins in the tab, not in the shared sub-flow (node-red-differences.md)
    expect(result.flows[0]!.env!.REGION).toBe('eu-west');
  });

  it('an export without global variables gives the sub-flow none', () => {
    expect(importNodeRed(subflowExport()).subflows[0]!.definition.env).toBeUndefined();
  });
});

describe.skipIf(!available)('Node-RED groups and subflows: imported into a real runtime, compared with a real Node-RED', () => {
  beforeAll(async () => {
    nodeRed = await NodeRedUnderTest.prepare('flowcrew-nodered-sf-');
    await nodeRed.start([...subflowExport(), ...nestedExport()]);
    nodeRedUrl = nodeRed.url;
    flowcrew = await startTestServer();
    await nodeRed.until(() => fetch(`${nodeRedUrl}/sf/default`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"payload":0}' }).then((r) => r.ok));
  }, 90_000);

  afterAll(async () => {
    await nodeRed?.stop();
    await flowcrew?.stop();
  });

  it('Node-RED loads the export as it is: every node of it is in its running flows', async () => {
    const running = (await (await fetch(`${nodeRedUrl}/flows`, { headers: { 'Node-RED-API-Version': 'v2' } })).json()) as { flows: Array<{ id: string }> };
    expect(running.flows.map((n) => n.id).sort()).toEqual([...subflowExport(), ...nestedExport()].map((n) => n.id as string).sort());
  });

  it('imports into the library and the flow, deploys, and answers as Node-RED does (instance value and defaults)', async () => {
    const imported = await flowcrew!.api('POST', '/api/v1/flows/import?deploy=true', subflowExport());
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body.subflows).toEqual([{ nodeRedId: 'sf-scale', id: 'sf-scale', type: 'subflow:sf-scale', name: 'Scale and label', version: 1, status: 'published' }]);
    expect(imported.body.unmapped).toEqual([]);
    const stored = (await flowcrew!.api('GET', `/api/v1/flows/${SUBFLOW_TAB}`)).body;
    expect(stored.nodes.find((n: { id: string }) => n.id === 'n-scale').props).toEqual({ FACTOR: 3, UNIT: 'kg', version: 1, timeoutMs: 60000 });
    expect(stored.groups.map((g: { id: string; parent?: string }) => [g.id, g.parent])).toEqual([['g-outer', undefined], ['g-inner', 'g-outer']]);
    for (const [route, body, answer] of [['/sf/scale', { value: 5 }, { value: 15, unit: 'kg' }], ['/sf/default', { value: 5 }, { value: 10, unit: 'kg' }]] as const) {
      const expected = await post(`${nodeRedUrl}${route}`, body);
      expect(expected).toEqual({ status: 200, body: answer });
      expect(await post(`${flowcrew!.url}/webhook${route}`, body)).toEqual(expected);
    }
  });

  it('importing the same export again publishes nothing new; a changed subflow becomes version 2, used by the new flow revision', async () => {
    const again = await flowcrew!.api('POST', '/api/v1/flows/import?deploy=true&replace=true', subflowExport());
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(again.body.subflows).toMatchObject([{ id: 'sf-scale', version: 1, status: 'unchanged' }]);
    const changed = await flowcrew!.api('POST', '/api/v1/flows/import?deploy=true&replace=true', subflowExport(true));
    expect(changed.status, JSON.stringify(changed.body)).toBe(201);
    expect(changed.body.subflows).toMatchObject([{ id: 'sf-scale', version: 2, status: 'published' }]);
    expect(await post(`${flowcrew!.url}/webhook/sf/default`, { value: 1 })).toEqual({ status: 200, body: { value: 2, unit: 'lb' } });
    const library = (await flowcrew!.api('GET', '/api/v1/subflows')).body;
    expect(library).toContainEqual(expect.objectContaining({ id: 'sf-scale', latest: 2, versions: [1, 2] }));
  });

  it('a subflow using another: both published (the inner one first, pinned inside the outer), $env() in JSONata read from the message', async () => {
    const imported = await flowcrew!.api('POST', '/api/v1/flows/import?deploy=true', nestedExport());
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body.subflows.map((s: { id: string; version: number }) => [s.id, s.version])).toEqual([['sf-add', 1], ['sf-wrap', 1]]);
    const outer = (await flowcrew!.api('GET', '/api/v1/subflows/sf-wrap')).body;
    expect(outer.definition.nodes.find((n: { id: string }) => n.id === 'sf-wrap-add').props).toMatchObject({ ADD: 5, version: 1 });
    const expected = await post(`${nodeRedUrl}/sf/nested`, { value: 2 });
    expect(expected).toEqual({ status: 200, body: { value: 25 } });
    expect(await post(`${flowcrew!.url}/webhook/sf/nested`, { value: 2 })).toEqual(expected);
    expect((await flowcrew!.api('GET', `/api/v1/flows/${NESTED_TAB}`)).status).toBe(200);
  });

  it("an export of a subflow alone (Node-RED's \"export subflow\") puts it in the library and imports no flow", async () => {
    const alone = nestedExport().filter((n) => n.id === 'sf-add' || n.z === 'sf-add').map((n) => (n.id === 'sf-add' ? { ...n, name: 'Add (shared)' } : n));
    const imported = await flowcrew!.api('POST', '/api/v1/flows/import', alone);
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body).toMatchObject({ source: 'node-red', flows: [], subflows: [{ id: 'sf-add', version: 2, status: 'published', name: 'Add (shared)' }] });
  });
});
