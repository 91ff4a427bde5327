import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTestFiles, summary } from '../cli/flowtest.ts';
import { compileSuite } from './assertions.ts';
import { FlowTestFileError, parseSuite } from './format.ts';
import type { SuiteResult } from './runner.ts';

const fixtures = path.join(import.meta.dirname, 'fixtures');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowtest-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const junit = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase'].includes(name) });

describe('test file errors name the line and column', () => {
  it('YAML syntax error', async () => {
    const text = await readFile(path.join(fixtures, 'syntax-error.flowtest.yaml'), 'utf8');
    let error: FlowTestFileError | undefined;
    try {
      parseSuite(text, 'syntax-error.flowtest.yaml');
    } catch (e) {
      error = e as FlowTestFileError;
    }
    expect(error).toBeInstanceOf(FlowTestFileError);
    expect(error!.message).toMatch(/^syntax-error\.flowtest\.yaml:5:1: invalid YAML: Flow map in block collection must be sufficiently indented and end with a }/);
  });

  it('JSON syntax error', () => {
    expect(() => parseSuite('{\n  "flow": "a",\n  "cases": [,]\n}', 'a.flowtest.json')).toThrow(/^a\.flowtest\.json:3:\d+: invalid JSON: Unexpected token ','$/);
  });

  it('schema problems, each at its place', () => {
    const text = ['flow: orders', 'cases:', '  - name: one', '    input: { node: a }', '    expect:', '      - node: b', '        count: -1', '  - name: one', '    input: { msg: {} }', '    mocks:', '      x: { merge: true }'].join('\n');
    let error: FlowTestFileError | undefined;
    try {
      parseSuite(text, 't.flowtest.yaml');
    } catch (e) {
      error = e as FlowTestFileError;
    }
    expect(error!.issues).toEqual(
      expect.arrayContaining([
        { pointer: '/cases/0/expect/0/count', line: 7, column: 16, message: 'must be >= 0' },
        { pointer: '/cases/1/input/node', line: 9, column: 12, message: 'is required' },
        { pointer: '/cases/1/mocks/x', line: 11, column: 10, message: 'a mock needs "outputs" (messages to send) or "error"' },
      ]),
    );
    expect(() => parseSuite('cases: [{ name: a, input: { node: b } }]', 'n.flowtest.yaml')).toThrow('n.flowtest.yaml:1:1: needs "flow" (a stored flow id) or "flowFile"');
  });

  it('duplicate case names', () => {
    expect(() => parseSuite('flow: f\ncases:\n  - { name: a, input: { node: x } }\n  - { name: a, input: { node: x } }', 'd.flowtest.yaml')).toThrow('d.flowtest.yaml:4:13: case name "a" is used twice (at /cases/1/name)');
  });
});

describe('assertions', () => {
  it('run user patterns in linear time: a catastrophic pattern just fails its check', async () => {
    const suite = parseSuite(JSON.stringify({ flow: 'f', cases: [{ name: 'c', input: { node: 'a' }, expect: [{ node: 'a', schema: { properties: { payload: { pattern: '^(a+)+$' } } } }] }] }), 'r.flowtest.json');
    const [check] = compileSuite(suite);
    const payload = `${'a'.repeat(5000)}!`;
    const invocations = [{ nodeId: 'a', outputs: [{ port: 0, msg: { payload } }] }] as never;
    const [result] = await check!({ invocations, run: {} as never, timedOut: false });
    expect(result).toMatchObject({ passed: false, message: '/payload must match pattern "^(a+)+$"' });
  });
});

describe('running test files (core nodes, mocked customer API)', () => {
  let outcomes: Awaited<ReturnType<typeof runTestFiles>>;
  const printed: string[] = [];
  beforeAll(async () => {
    const files = ['orders.flowtest.yaml', 'orders-broken.flowtest.yaml', 'syntax-error.flowtest.yaml'].map((f) => path.join(fixtures, f));
    outcomes = await runTestFiles(files, { junit: path.join(dir, 'out.xml') }, (line) => printed.push(line));
  }, 60_000);

  it('passes the good suite: outputs, inputs, port counts, schema, JSONata, replies and a mocked failure', () => {
    const good = outcomes[0] as SuiteResult;
    expect(good.cases.map((c) => [c.name, c.passed, c.error])).toEqual([
      ['a small order is approved', true, undefined],
      ['a large order goes to review', true, undefined],
      ['the customer API failing answers 502', true, undefined],
    ]);
    expect(good.cases[0]!.assertions.length).toBe(6);
    // Marks for the canvas: which nodes ran, failed, were mocked, and how their assertions went.
    expect(good.cases[0]!.nodes.customer).toEqual({ ran: 1, failed: 0, mocked: true, assertions: 'passed' });
    expect(good.cases[0]!.nodes.review).toEqual({ ran: 0, failed: 0, mocked: false, assertions: 'passed' });
    expect(good.cases[2]!.nodes.customer).toMatchObject({ ran: 1, failed: 1, mocked: true });
  });

  it('reports failed assertions with what came, and a bad mock as an error', () => {
    const bad = outcomes[1] as SuiteResult;
    expect(bad.passed).toBe(false);
    const [wrong, badMock] = bad.cases;
    expect(wrong!.assertions.filter((a) => !a.passed)).toEqual([
      { label: 'total output [0] match', node: 'total', passed: false, message: '/payload/total: expected 4, got 3' },
      { label: 'auto output [0] jsonata', node: 'auto', passed: false, message: 'payload.status = "review" gave false' },
    ]);
    expect(wrong!.nodes.total!.assertions).toBe('failed');
    expect(badMock!.error).toBe('pin for node "nope": flow "orders-test" has no such node');
    expect(outcomes[2]).toMatchObject({ error: expect.stringMatching(/syntax-error\.flowtest\.yaml:5:1: invalid YAML/) });
    expect(printed.join('\n')).toContain('FAIL expects the wrong total & "status"');
  });

  it('exits 0 only when every case of every file passed', () => {
    expect(summary([outcomes[0]!])).toEqual({ line: '3 passed, 0 failed or errored, 1 file(s)', exitCode: 0 });
    expect(summary(outcomes)).toEqual({ line: '3 passed, 3 failed or errored, 3 file(s)', exitCode: 1 });
    expect(summary([outcomes[2]!]).exitCode).toBe(1);
  });

  it('writes JUnit XML that parses back to the same counts and messages', async () => {
    const xml = junit.parse(await readFile(path.join(dir, 'out.xml'), 'utf8'));
    expect(xml.testsuites).toMatchObject({ tests: '6', failures: '1', errors: '2' });
    const [good, bad, broken] = xml.testsuites.testsuite;
    expect(good).toMatchObject({ name: 'order intake', tests: '3', failures: '0', errors: '0' });
    expect(good.testcase.map((c: any) => c.name)).toEqual(['a small order is approved', 'a large order goes to review', 'the customer API failing answers 502']);
    expect(bad.testcase[0].name).toBe('expects the wrong total & "status"');
    expect(bad.testcase[0].failure.message).toBe('2 of 2 assertion(s) failed: total output [0] match: /payload/total: expected 4, got 3');
    expect(bad.testcase[0].failure['#text']).toContain('payload.status = "review" gave false');
    expect(bad.testcase[1].error.message).toContain('has no such node');
    expect(broken).toMatchObject({ errors: '1' });
    expect(broken.testcase[0].error.message).toMatch(/invalid YAML/);
  });
});

