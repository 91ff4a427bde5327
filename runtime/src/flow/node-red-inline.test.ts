/**
 * Node-RED subflows without an input, with several outputs, or with a `${NAME}` property (which a library sub-flow
 * cannot stand for) are inlined per instance, with each instance's variables written in (`${NAME}` properties included): the translation, and end to
 * end — a real Node-RED 4 loads the export first and both systems answer the same requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeRedUnderTest, httpExchange, nodeRedInstalled as available, requireNodeRedInCi } from '../testing/node-red.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { INLINE_TAB, inlineExport } from './fixtures/node-red-inline.ts';
import { importNodeRed } from './node-red.ts';

requireNodeRedInCi();

describe('Node-RED subflows without an input or with several outputs: inlined', () => {
  const result = importNodeRed(inlineExport());
  const flow = result.flows[0]!;
  const node = (id: string) => flow.nodes.find((n) => n.id === id)!;

  it('replaces each instance by copies of its nodes, wired as the instance was; the definitions are not imported', () => {
    expect(result.unmapped).toEqual([]);
    expect(result.subflows).toEqual([]);
    expect(flow.nodes.some((n) => n.type.startsWith('subflow'))).toBe(false);
    expect(node('in-parity').wires).toEqual([['i-parity-sf-parity-fn']]);
    expect(node('i-parity-sf-parity-fn').wires).toEqual([['even'], ['i-parity-sf-parity-factor']]);
    expect(node('i-parity-sf-parity-factor').wires).toEqual([['odd']]);
    // a subflow inside an inlined subflow is inlined too; an input wired straight to an output passes through
    expect(node('in-outer').wires).toEqual([['i-outer-sf-outer-parity-sf-parity-fn', 'mark-through']]);
    expect(node('i-outer-sf-outer-parity-sf-parity-fn').wires).toEqual([['res-outer'], ['i-outer-sf-outer-parity-sf-parity-factor']]);
    const notes = result.properties.filter((p) => p.property === '' && p.action === 'translated').map((p) => p.nodeId);
    expect(notes).toEqual(['i-tag-a', 'i-tag-b', 'i-route', 'i-parity', 'i-outer', 'i-outer-sf-outer-parity']);
    expect(result.properties.find((p) => p.nodeId === 'i-tag-a')!.reason).toContain('a property written ${TAG}');
  });

  it("writes each instance's variables in, typed as Node-RED evaluates them: ${NAME} properties, env values, $env(), env.get()", () => {
    expect(node('i-route-sf-route-in').props).toMatchObject({ url: '/inl/noin' });
    expect(node('i-route-sf-route-label').props!.rules).toEqual([
      { t: 'set', p: 'payload.label', pt: 'msg', to: 'first', tot: 'str' },
      { t: 'set', p: 'payload.kind', pt: 'msg', to: 'source', tot: 'str' },
      { t: 'set', p: 'payload.shout', pt: 'msg', to: '$uppercase("first")', tot: 'jsonata' },
    ]);
    expect(node('i-tag-a-sf-tag-set').props!.rules).toEqual([{ t: 'set', p: 'payload.tag', pt: 'msg', to: 'a', tot: 'str' }]);
    expect(node('i-tag-b-sf-tag-set').props!.rules).toEqual([{ t: 'set', p: 'payload.tag', pt: 'msg', to: 'z', tot: 'str' }]);
    expect(node('i-parity-sf-parity-factor').props!.rules).toEqual([{ t: 'set', p: 'payload.factor', pt: 'msg', to: '10', tot: 'num' }]);
    expect(node('i-parity-sf-parity-fn').props!.func).toContain('msg.payload.n * (10)');
    expect(node('i-outer-sf-outer-parity-sf-parity-fn').props!.func).toContain('msg.payload.n * (100)');
  });

  it('a definition without instances is still listed as not imported, with the reason', () => {
    const unused = importNodeRed(inlineExport().filter((n) => n.id !== 'i-route'));
    expect(unused.unmapped.find((u) => u.id === 'sf-route')?.reason).toContain('without an input');
  });
});

let nodeRed: NodeRedUnderTest | undefined;
let flowcrew: TestServer | undefined;

describe.skipIf(!available)('Node-RED inlined subflows: imported into a real runtime, compared with a real Node-RED', () => {
  beforeAll(async () => {
    nodeRed = await NodeRedUnderTest.prepare('flowcrew-nodered-inline-');
    await nodeRed.start(inlineExport());
    flowcrew = await startTestServer();
    const url = nodeRed.url;
    await nodeRed.until(() => fetch(`${url}/inl/parity`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":1}' }).then((r) => r.ok));
  }, 90_000);

  afterAll(async () => {
    await nodeRed?.stop();
    await flowcrew?.stop();
  });

  it('Node-RED loads the export as it is', async () => {
    const running = (await (await fetch(`${nodeRed!.url}/flows`, { headers: { 'Node-RED-API-Version': 'v2' } })).json()) as { flows: Array<{ id: string }> };
    expect(running.flows.map((n) => n.id).sort()).toEqual(inlineExport().map((n) => n.id as string).sort());
  });

  it('imports, deploys and answers as Node-RED: a source subflow on its own route, both outputs of a subflow, a nested one', async () => {
    const imported = await flowcrew!.api('POST', '/api/v1/flows/import?deploy=true', inlineExport());
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body.unmapped).toEqual([]);
    expect(imported.body.flows.map((f: { id: string }) => f.id)).toEqual([INLINE_TAB]);
    const cases: Array<[string, unknown, unknown]> = [
      ['/inl/noin', { a: 1 }, { a: 1, label: 'first', kind: 'source', shout: 'FIRST' }],
      ['/inl/parity', { n: 4 }, { n: 4, times: 40, factorType: 'number', parity: 'even' }],
      ['/inl/parity', { n: 3 }, { n: 3, times: 30, factorType: 'number', factor: 10, parity: 'odd' }],
      ['/inl/outer', { n: 2 }, { n: 2, times: 200, factorType: 'number' }],
      ['/inl/tag', { n: 0 }, { n: 0, tag: 'z', first: 'a' }],
    ];
    for (const [route, body, answer] of cases) {
      const expected = await httpExchange(`${nodeRed!.url}${route}`, { body });
      expect(expected, route).toEqual({ status: 200, body: answer });
      expect(await httpExchange(`${flowcrew!.url}/webhook${route}`, { body }), route).toEqual(expected);
    }
  });
});
