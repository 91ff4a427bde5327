/**
 * A flow's test suite typed as text in the editor (`{ source }`): YAML or JSON, parsed by the same parser as
 * `flowcrew test` (format.ts parseSuite), kept as typed (comments too), run unsaved; a syntax error answers 422 with
 * its line and column and runs nothing; a suite naming another flow or a flow file is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';

let server: TestServer;
const flow = {
  id: 'double-src',
  name: 'Double',
  nodes: [
    { id: 'go', type: 'inject', wires: [['calc']] },
    { id: 'calc', type: 'change', props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'payload * 2', tot: 'jsonata' }] }, wires: [] },
  ],
};
const yaml = `# doubles what comes in
cases:
  - name: doubles
    input: { node: go, msg: { payload: 21 } }
    expect:
      - node: calc
        match: { payload: 42 }
  - name: wrong on purpose
    input: { node: go, msg: { payload: 1 } }
    expect:
      - { node: calc, match: { payload: 3 } }
`;
const path = `/api/v1/flows/${flow.id}/tests`;

beforeAll(async () => {
  server = await startTestServer();
  expect((await server.api('POST', '/api/v1/flows', flow)).status).toBe(201);
}, 60_000);
afterAll(async () => server?.stop());

describe('flow tests as text (YAML or JSON)', () => {
  it('runs a YAML suite unsaved, saves it as typed and runs the saved one', async () => {
    const unsaved = await server.api('POST', `${path}/run`, { source: yaml });
    expect(unsaved.status, JSON.stringify(unsaved.body)).toBe(200);
    expect(unsaved.body.cases.map((c: { name: string; passed: boolean }) => [c.name, c.passed])).toEqual([
      ['doubles', true],
      ['wrong on purpose', false],
    ]);
    expect((await server.api('GET', path)).body.suite.cases).toEqual([]); // running saved nothing

    const saved = await server.api('PUT', path, { source: yaml });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    const stored = (await server.api('GET', path)).body;
    expect(stored.source).toBe(yaml); // comments and layout kept
    expect(stored.suite).toMatchObject({ flow: flow.id, cases: [{ name: 'doubles', input: { node: 'go', msg: { payload: 21 } } }, { name: 'wrong on purpose' }] });
    const again = await server.api('POST', `${path}/run`, { case: 'doubles' });
    expect(again.body.cases.map((c: { passed: boolean }) => c.passed)).toEqual([true]);

    // JSON is taken as JSON (its own error messages); saved as data, no text is kept.
    const json = JSON.stringify({ cases: [{ name: 'json', input: { node: 'go', msg: { payload: 2 } }, expect: [{ node: 'calc', match: { payload: 4 } }] }] });
    expect((await server.api('POST', `${path}/run`, { source: json })).body.cases[0].passed).toBe(true);
    expect((await server.api('PUT', path, JSON.parse(json))).status).toBe(200);
    expect((await server.api('GET', path)).body.source).toBeUndefined();
  });

  it('a syntax error answers 422 with its line and column, and nothing is run or saved', async () => {
    const before = (await server.api('GET', path)).body;
    const broken = 'cases:\n  - name: x\n    input: { node: go\n';
    const yamlError = await server.api('POST', `${path}/run`, { source: broken });
    expect(yamlError.status).toBe(422);
    expect(yamlError.body.errors[0].message).toMatch(/^line \d+, column \d+: invalid YAML: /);
    const jsonError = await server.api('PUT', path, { source: '{\n  "cases": [\n    { "name": "x" oops }\n  ]\n}' });
    expect(jsonError.status).toBe(422);
    expect(jsonError.body.errors[0].message).toMatch(/^line 3, column \d+: invalid JSON: /);
    expect((await server.api('GET', path)).body).toEqual(before);
  });

  it('refuses a suite naming another flow or a flow file, and a body mixing text and data, each by pointer', async () => {
    const other = await server.api('PUT', path, { source: 'flow: someone-else\ncases: []\n' });
    expect(other.status).toBe(422);
    expect(other.body.errors).toEqual([{ pointer: '/flow', message: `line 1, column 7: this suite is kept with flow "${flow.id}": leave "flow" out` }]);
    const file = await server.api('POST', `${path}/run`, { source: 'flowFile: flows/x.json\ncases: []\n' });
    expect(file.body.errors[0]).toMatchObject({ pointer: '/flowFile', message: expect.stringContaining('"flowFile" is for test files') });
    const problem = await server.api('PUT', path, { source: 'cases:\n  - name: no input\n' });
    expect(problem.body.errors).toEqual([{ pointer: '/cases/0/input', message: 'line 2, column 5: is required' }]);
    expect((await server.api('PUT', path, { source: yaml, cases: [] })).status).toBe(400);
    expect((await server.api('POST', `${path}/run`, { source: yaml, suite: { cases: [] } })).status).toBe(400);
  });
});
