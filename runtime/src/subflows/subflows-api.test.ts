import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';

/** A VAT sub-flow: typed input (a number payload), a `rate` property, the answer typed too. v2 rounds to cents. */
const vat = (round: boolean) => ({
  id: 'vat',
  name: 'Add VAT',
  description: 'Adds VAT at the given rate to msg.payload',
  input: { type: 'object', required: ['payload'], properties: { payload: { type: 'number' } } },
  output: { type: 'object', required: ['payload'], properties: { payload: { type: 'number' } } },
  properties: { type: 'object', properties: { rate: { type: 'number', minimum: 0, default: 0.2 } } },
  nodes: [
    { id: 'in', type: 'subflow-in', wires: [['calc']] },
    {
      id: 'calc',
      type: 'change',
      props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: round ? '$round(payload * (1 + subflow.props.rate), 2)' : 'payload * (1 + subflow.props.rate)', tot: 'jsonata' }] },
      wires: [['out']],
    },
    { id: 'out', type: 'subflow-out' },
  ],
});

const invoice = (version: number) => ({
  id: 'invoice',
  name: 'invoice',
  nodes: [
    { id: 'go', type: 'inject', wires: [['tax']] },
    { id: 'tax', type: 'subflow:vat', props: { version, rate: 0.1 }, wires: [['out']] },
    { id: 'out', type: 'debug' },
  ],
});

let server: TestServer;
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'subflows-'));
  server = await startTestServer({ dataDir });
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function runInvoice(payload: unknown): Promise<any> {
  const started = await server.api('POST', '/api/v1/flows/invoice/runs', { input: { payload } });
  expect(started.status).toBe(202);
  return server.api('GET', `/api/v1/runs/${(await server.waitRun(started.body.runId)).id}`).then((r) => r.body);
}
const outputOf = (run: any, nodeId: string) => run.invocations.find((i: any) => i.nodeId === nodeId)?.outputs?.[0]?.msg;

describe('sub-flow library', () => {
  it('publishes a typed sub-flow that appears as a node type, and flows use it with a pinned version', async () => {
    const published = await server.api('POST', '/api/v1/subflows', vat(false));
    expect(published.status).toBe(201);
    expect(published.body.definition).toMatchObject({ id: 'vat', version: 1 });
    const types = await server.api('GET', '/api/v1/node-types');
    const type = types.body.find((t: any) => t.type === 'subflow:vat');
    expect(type).toMatchObject({ label: 'Add VAT', inputs: 1, outputs: 1 });
    expect(type.props.properties.version).toMatchObject({ enum: [1], default: 1 });

    expect((await server.api('POST', '/api/v1/flows', invoice(1))).status).toBe(201);
    expect((await server.api('POST', '/api/v1/flows/invoice/deploy')).status).toBe(200);
    const run = await runInvoice(100);
    expect(run.status).toBe('succeeded');
    expect(outputOf(run, 'tax').payload).toBeCloseTo(110);
    // The properties travel only inside the sub-flow.
    expect(outputOf(run, 'tax').subflow).toBeUndefined();
  });

  it('checks the input against the schema, with a clear error', async () => {
    const run = await runInvoice('a lot');
    expect(run.status).toBe('failed');
    expect(run.invocations.find((i: any) => i.nodeId === 'tax').error).toContain('sub-flow "vat" v1: the message does not match its input schema: /payload must be number');
  });

  it('a new version does not change flows pinned to the old one; upgrading is explicit', async () => {
    const v2 = await server.api('POST', '/api/v1/subflows', { ...vat(true), properties: { type: 'object', properties: { rate: { type: 'number', maximum: 1 } }, required: ['rate'] } });
    expect(v2.body.definition.version).toBe(2);
    expect((await server.api('GET', '/api/v1/subflows')).body).toEqual([expect.objectContaining({ id: 'vat', type: 'subflow:vat', latest: 2, versions: [1, 2] })]);
    expect((await server.api('POST', '/api/v1/flows/invoice/deploy')).status).toBe(200);
    expect(outputOf(await runInvoice(33.333), 'tax').payload).toBeCloseTo(36.6663, 4);

    const flow = (await server.api('GET', '/api/v1/flows/invoice')).body;
    const upgraded = await server.api('PUT', '/api/v1/flows/invoice', { ...invoice(2), version: flow.version }, { 'if-match': `"${flow.version}"` });
    expect(upgraded.status).toBe(200);
    expect((await server.api('POST', '/api/v1/flows/invoice/deploy')).status).toBe(200);
    expect(outputOf(await runInvoice(33.333), 'tax').payload).toBe(36.67);
  });

  it('refuses an invalid definition with pointers, and a use that breaks its version\'s properties', async () => {
    const bad = await server.api('POST', '/api/v1/subflows', { id: 'broken', name: 'broken', input: { type: 'nonsense' }, nodes: [{ id: 'x', type: 'debug' }] });
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ pointer: '/input', message: expect.stringContaining('is not a valid JSON Schema') }),
        { pointer: '/nodes', message: 'needs exactly one sub-flow entry node (subflow-in), has 0' },
      ]),
    );
    const badEnv = await server.api('POST', '/api/v1/subflows', { ...vat(false), id: 'vat-env', env: { GOOD: 'text', BAD: { type: 'nope', value: '1' } } });
    expect(badEnv.status).toBe(422);
    expect(JSON.stringify(badEnv.body.errors)).toContain('/env/BAD');
    const regex = await server.api('POST', '/api/v1/subflows', { ...vat(false), id: 'vat-regex', properties: { type: 'object', properties: { code: { type: 'string', pattern: '^(a+)+$' } } } });
    expect(regex.status).toBe(422);
    expect(regex.body.errors[0].pointer).toBe('/properties/properties/code/pattern');
    // "outer" uses vat v1; a new vat using outer would reach itself.
    const through = (id: string, type: string) => ({ id, name: id, nodes: [{ id: 'in', type: 'subflow-in', wires: [['use']] }, { id: 'use', type, props: { version: 1 }, wires: [['out']] }, { id: 'out', type: 'subflow-out' }] });
    expect((await server.api('POST', '/api/v1/subflows', through('outer', 'subflow:vat'))).status).toBe(201);
    const loop = await server.api('POST', '/api/v1/subflows', through('vat', 'subflow:outer'));
    expect(loop.status).toBe(422);
    expect(loop.body.detail).toContain('would call itself');
    const wrong = await server.api('POST', '/api/v1/flows', { ...invoice(2), id: 'invoice-bad', nodes: invoice(2).nodes.map((n) => (n.id === 'tax' ? { ...n, props: { version: 2, rate: 5 } } : n)) });
    expect(wrong.status).toBe(422);
    expect(JSON.stringify(wrong.body.errors)).toContain('/nodes/1/props/rate');
  });

  it('exports the definitions a flow uses and imports them (identical: unchanged; different: 409)', async () => {
    const used = await server.api('GET', '/api/v1/flows/invoice/subflows');
    expect(used.body.map((d: any) => [d.id, d.version])).toEqual([['vat', 2]]);
    const again = await server.api('POST', '/api/v1/subflows/import', { definitions: used.body });
    expect(again.body).toEqual([{ id: 'vat', version: 2, status: 'unchanged' }]);
    const clash = await server.api('POST', '/api/v1/subflows/import', { definitions: [{ ...used.body[0], name: 'Not the same' }] });
    expect(clash.status).toBe(409);
    const fresh = await server.api('POST', '/api/v1/subflows/import', { definitions: [{ ...vat(true), id: 'vat-copy', version: 3 }] });
    expect(fresh.body).toEqual([{ id: 'vat-copy', version: 3, status: 'imported' }]);
  });
});

describe('flow tests from the API (the editor)', () => {
  const suite = {
    cases: [
      { name: 'adds 10%', input: { node: 'go', msg: { payload: 50 } }, expect: [{ node: 'tax', match: { payload: 55 } }, { node: 'out', on: 'input', jsonata: 'payload > 50' }] },
      { name: 'wrong on purpose', input: { node: 'go', msg: { payload: 50 } }, expect: [{ node: 'tax', equals: { payload: 1 } }] },
      { name: 'mocked sub-flow', input: { node: 'go', msg: { payload: 1 } }, mocks: { tax: { outputs: [{ msg: { payload: 'mocked' } }] } }, expect: [{ node: 'out', on: 'input', match: { payload: 'mocked' } }] },
    ],
  };

  it('saves a suite, refuses a bad one with pointers, and runs it with the library sub-flow in the sandbox', async () => {
    const bad = await server.api('PUT', '/api/v1/flows/invoice/tests', { cases: [{ name: 'x', input: {} }] });
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toEqual([{ pointer: '/cases/0/input/node', message: 'is required' }]);
    expect((await server.api('PUT', '/api/v1/flows/invoice/tests', suite)).status).toBe(200);
    expect((await server.api('GET', '/api/v1/flows/invoice/tests')).body.suite.cases).toHaveLength(3);

    const runsBefore = (await server.api('GET', '/api/v1/runs?flowId=invoice')).body;
    const result = await server.api('POST', '/api/v1/flows/invoice/tests/run', {});
    expect(result.status).toBe(200);
    expect(result.body.cases.map((c: any) => [c.name, c.passed])).toEqual([
      ['adds 10%', true],
      ['wrong on purpose', false],
      ['mocked sub-flow', true],
    ]);
    expect(result.body.cases[0].nodes.tax).toEqual({ ran: 1, failed: 0, mocked: false, assertions: 'passed' });
    expect(result.body.cases[1].assertions[0].message).toBe('expected {"payload":1}, got {"payload":55}');
    expect(result.body.cases[2].nodes.tax.mocked).toBe(true);
    // The tests ran in sandboxes: the real flow has no new runs.
    expect((await server.api('GET', '/api/v1/runs?flowId=invoice')).body).toEqual(runsBefore);

    const one = await server.api('POST', '/api/v1/flows/invoice/tests/run', { case: 'adds 10%' });
    expect(one.body.cases.map((c: any) => c.name)).toEqual(['adds 10%']);
    expect((await server.api('POST', '/api/v1/flows/invoice/tests/run', { case: 'nope' })).status).toBe(422);
  });

  it("the editor's pinned manual run deploys the library sub-flow beside the flow", async () => {
    const answer = await server.api('POST', '/api/v1/flows/invoice/pinned-runs', { input: { payload: 20 } });
    expect(answer.status).toBe(200);
    expect(answer.body.run.status).toBe('succeeded');
    expect(outputOf(answer.body, 'tax').payload).toBe(22);
  });

  it('after a restart the library is loaded before the flows that use it', async () => {
    await server.stop();
    server = await startTestServer({ dataDir });
    expect(server.runtime.startup.undeployable).toEqual([]);
    expect(outputOf(await runInvoice(10), 'tax').payload).toBe(11);
  }, 60_000);
});

// Last: it adds a second sub-flow to the library, which the tests above list exactly.
describe('sub-flow output schema', () => {
  it('checks the answer against the output schema: a sub-flow answering the wrong shape fails its node, naming why', async () => {
    const label = { ...vat(false), id: 'label', name: 'Label', nodes: [{ id: 'in', type: 'subflow-in', wires: [['say']] }, { id: 'say', type: 'change', props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'not a number', tot: 'str' }] }, wires: [['out']] }, { id: 'out', type: 'subflow-out' }] };
    expect((await server.api('POST', '/api/v1/subflows', label)).status).toBe(201);
    const flow = { id: 'labels', name: 'labels', nodes: [{ id: 'go', type: 'inject', wires: [['tag']] }, { id: 'tag', type: 'subflow:label', props: { version: 1 }, wires: [['out']] }, { id: 'out', type: 'debug' }] };
    expect((await server.api('POST', '/api/v1/flows/import?deploy=true', flow)).status).toBe(201);
    const started = await server.api('POST', '/api/v1/flows/labels/runs', { input: { payload: 5 } });
    const run = (await server.api('GET', `/api/v1/runs/${(await server.waitRun(started.body.runId)).id}`)).body;
    expect(run.status).toBe('failed');
    expect(run.invocations.find((i: any) => i.nodeId === 'tag').error).toContain('sub-flow "label" v1: its answer does not match its output schema: /payload must be number');
    expect(run.invocations.some((i: any) => i.nodeId === 'out')).toBe(false);
  });
});

describe('sub-flow variables', () => {
  it("a sub-flow's own variables (env) are read inside it, a typed one with its type", async () => {
    const { output: _numberOnly, ...base } = vat(false);
    const rules = [{ t: 'set', p: 'payload', pt: 'msg', to: '{"total": payload * (1 + $env("RATE")), "label": $env("LABEL")}', tot: 'jsonata' }];
    const withEnv = { ...base, id: 'vat-env-ok', env: { RATE: { type: 'num', value: '0.2' }, LABEL: 'net' }, nodes: base.nodes.map((n) => (n.id === 'calc' ? { ...n, props: { rules } } : n)) };
    expect((await server.api('POST', '/api/v1/subflows', withEnv)).status).toBe(201);
    const flow = { id: 'env-user', name: 'env-user', nodes: [{ id: 'go', type: 'inject', wires: [['use']] }, { id: 'use', type: 'subflow:vat-env-ok', props: { version: 1, rate: 0 }, wires: [['out']] }, { id: 'out', type: 'debug' }] };
    expect((await server.api('POST', '/api/v1/flows', flow)).status).toBe(201);
    expect((await server.api('POST', '/api/v1/flows/env-user/deploy')).status).toBe(200);
    const started = await server.api('POST', '/api/v1/flows/env-user/runs', { input: { payload: 100 } });
    const run = await server.api('GET', `/api/v1/runs/${(await server.waitRun(started.body.runId)).id}`).then((r) => r.body);
    expect(run.status).toBe('succeeded');
    expect(outputOf(run, 'use').payload).toEqual({ total: 120, label: 'net' });
  });
});
