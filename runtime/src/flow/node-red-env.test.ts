/**
 * Node-RED flow (tab) environment variables: imported as the flow's own variables, read by `env` typed values,
 * `$env()`, `${NAME}` properties, the function node's `env.get()` and the template's `{{env.NAME}}` — compared with a
 * real Node-RED 4 that loads the same export first. A flow's own variable wins over the project's of the same name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeRedUnderTest, httpExchange, nodeRedInstalled as available, requireNodeRedInCi } from '../testing/node-red.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { ENV_TAB_A, ENV_TAB_B, ENV_TAB_TYPED, TYPED_ENV, envExport } from './fixtures/node-red-env.ts';
import { importNodeRed } from './node-red.ts';

requireNodeRedInCi();

describe('Node-RED tab env: the translation', () => {
  const result = importNodeRed(envExport());
  const flow = (id: string) => result.flows.find((f) => f.id === id)!;

  it('becomes the flow\'s own variables, typed ones kept with their type (evaluated at deploy); credentials dropped with a reason', () => {
    expect(flow(ENV_TAB_A).env).toEqual({
      GREETING: 'hello',
      FACTOR: { type: 'num', value: '3' },
      VERBOSE: { type: 'bool', value: 'true' },
      LIMITS: { type: 'json', value: '{"max":5}' },
      ALIAS: { type: 'env', value: 'GREETING' },
    });
    expect(flow(ENV_TAB_B).env).toEqual({ GREETING: 'bonjour' });
    expect(flow(ENV_TAB_TYPED).env).toEqual(Object.fromEntries(TYPED_ENV.map((e) => [e.name, e.type === 'str' ? e.value : { type: e.type, value: e.value }])));
    const notes = result.properties.filter((p) => p.nodeId === ENV_TAB_A).map((p) => `${p.property} ${p.action}`);
    expect(notes).toEqual(['/env/0 translated', '/env/1 translated', '/env/2 translated', '/env/3 translated', '/env/4 dropped', '/env/5 translated']);
    const reasons = result.properties.filter((p) => p.nodeId === ENV_TAB_A).map((p) => p.reason);
    expect(reasons[1]).toContain('"num" value evaluated at each deploy');
    expect(reasons[4]).toContain('credential');
    expect(result.warnings.some((w) => w.includes('environment variables'))).toBe(false);
  });

  it("writes a group's variables into its nodes (a nested group's first), and reports it on the group", () => {
    const change = flow(ENV_TAB_B).nodes.find((n) => n.id === 'env-g-change')!;
    expect(change.props!.rules).toEqual([
      { t: 'set', p: 'payload.typed', pt: 'msg', to: 'hallo', tot: 'str' },
      { t: 'set', p: 'payload.count', pt: 'msg', to: '7', tot: 'num' },
      { t: 'set', p: 'payload.whole', pt: 'msg', to: 'hallo', tot: 'str' },
      { t: 'set', p: 'payload.jsonata', pt: 'msg', to: '7 + 1', tot: 'jsonata' },
    ]);
    expect(result.properties.filter((p) => p.type === 'group' && p.property === '/env').map((p) => [p.nodeId, p.action])).toEqual([['env-g-outer', 'translated'], ['env-g-inner', 'translated']]);
  });
});

let nodeRed: NodeRedUnderTest | undefined;
let flowcrew: TestServer | undefined;

describe.skipIf(!available)('Node-RED tab env: imported into a real runtime, compared with a real Node-RED', () => {
  beforeAll(async () => {
    nodeRed = await NodeRedUnderTest.prepare('flowcrew-nodered-env-');
    await nodeRed.start(envExport());
    flowcrew = await startTestServer();
    const url = nodeRed.url;
    await nodeRed.until(() => fetch(`${url}/env/b`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).then((r) => r.ok));
  }, 90_000);

  afterAll(async () => {
    await nodeRed?.stop();
    await flowcrew?.stop();
  });

  it('both systems answer the same: each flow reads its own variables, every way Node-RED offers', async () => {
    const imported = await flowcrew!.api('POST', '/api/v1/flows/import?deploy=true', envExport());
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body.unmapped).toEqual([]);
    const expectedA = await httpExchange(`${nodeRed!.url}/env/a`, { body: { n: 1 } });
    expect(expectedA).toEqual({
      status: 200,
      body: { n: 1, typed: 'hello', jsonata: 'hello!', whole: 'hello', inside: 'say ${GREETING}', embedded: 'x-hello-y', get: 'hello', factor: '3', unset: true, template: 'hello, hello ()' },
    });
    expect(await httpExchange(`${flowcrew!.url}/webhook/env/a`, { body: { n: 1 } })).toEqual(expectedA);
    const expectedB = await httpExchange(`${nodeRed!.url}/env/b`, { body: {} });
    expect(expectedB).toEqual({ status: 200, body: { typed: 'bonjour', get: 'bonjour' } });
    expect(await httpExchange(`${flowcrew!.url}/webhook/env/b`, { body: {} })).toEqual(expectedB);
    // group variables (written into the group's nodes at import), the inner group's first, typed as Node-RED's
    const expectedGroup = await httpExchange(`${nodeRed!.url}/env/group`, { body: {} });
    expect(expectedGroup).toEqual({ status: 200, body: { typed: 'hallo', count: 7, whole: 'hallo', jsonata: 8 } });
    expect(await httpExchange(`${flowcrew!.url}/webhook/env/group`, { body: {} })).toEqual(expectedGroup);
  });

  it('typed variables read as Node-RED types them (num, bool, json, bin, jsonata, env references, a broken json unset)', async () => {
    const expected = await httpExchange(`${nodeRed!.url}/env/typed`, { body: {} });
    expect(expected).toEqual({
      status: 200,
      body: {
        n: 3, nType: 'number', yes: true, upper: false, j: { max: 5, list: [1, 2] }, sum: 7, alias: 3, label: 'n=3', chain: 3,
        broken: true, word: 'plain', flowName: 'Typed variables', typedN: 3, typedJ: { max: 5, list: [1, 2] }, bin: { type: 'Buffer', data: [104, 105] }, embedded: '[3|true]', jsonata: 4, jsonataJ: 2, whole: 3,
        template: '3/true/7',
      },
    });
    expect(await httpExchange(`${flowcrew!.url}/webhook/env/typed`, { body: {} })).toEqual(expected);
  });

  it("a flow's own variable wins over the project's of the same name; the project's others are still read", async () => {
    const stored = (await flowcrew!.api('GET', `/api/v1/flows/${ENV_TAB_B}`)).body;
    expect(stored.env).toEqual({ GREETING: 'bonjour' });
    const project = stored.projectId as string;
    for (const [name, value] of [['GREETING', 'from the project'], ['NOT_SET', 'now set']]) {
      expect((await flowcrew!.api('PUT', `/api/v1/projects/${project}/variables/${name}`, { value })).status).toBe(200);
    }
    expect((await flowcrew!.api('POST', `/api/v1/flows/${ENV_TAB_A}/deploy`)).status).toBe(200);
    const answer = await httpExchange(`${flowcrew!.url}/webhook/env/a`, { body: {} });
    expect(answer.body).toMatchObject({ typed: 'hello', get: 'hello', unset: false, template: 'hello, hello (now set)' });
  });
});
