/**
 * End to end (issue 14, flow tests from the editor): the Tests tab of a real editor runs a suite against the saved
 * flow on a real runtime and draws the picked case's outcome on the canvas; it takes YAML as `flowcrew test` does
 * (the runtime parses the text with the same parser) and keeps it as typed; a suite with a syntax error (line and
 * column), and one the runtime refuses, each get a clear message (where, what) and run nothing. Screenshots in test-artifacts/e2e/flowtest-*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { createAdmin, signedInEditor } from './auth.ts';
import { screenshot } from './browser.ts';
import { openFlow } from './editor-page.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
const shot = (name: string) => screenshot(page, 'e2e', `flowtest-${name}`);

const flow = {
  id: 'double',
  name: 'Double',
  nodes: [
    { id: 'go', type: 'inject', name: 'Go', position: { x: 100, y: 100 }, props: {}, wires: [['calc']] },
    { id: 'calc', type: 'change', name: 'Calc', position: { x: 360, y: 100 }, props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'payload * 2', tot: 'jsonata' }] }, wires: [['out']] },
    { id: 'out', type: 'debug', name: 'Out', position: { x: 620, y: 100 }, props: {}, wires: [] },
  ],
};
const suite = {
  cases: [
    { name: 'doubles', input: { node: 'go', msg: { payload: 21 } }, expect: [{ node: 'calc', match: { payload: 42 } }] },
    { name: 'wrong on purpose', input: { node: 'go', msg: { payload: 1 } }, expect: [{ node: 'calc', match: { payload: 3 } }] },
  ],
};

const yamlSuite = `# The same format as a flowcrew test file, in YAML
cases:
  - name: doubles in YAML
    input: { node: go, msg: { payload: 5 } }
    expect:
      - node: calc
        match: { payload: 10 }
`;

/** Replaces the suite box's text and presses Run. */
async function runSuite(text: string): Promise<void> {
  await page.fill('[data-test="flow-tests-suite"]', text);
  await page.click('[data-test="flow-tests-run"]');
}

describe('flow tests from the editor', () => {
  beforeAll(async () => {
    server = await startTestServer();
    await createAdmin(server);
    ({ browser, page } = await signedInEditor(server));
    await openFlow(server, page, flow);
    await page.click('[data-test="tab-tests"]');
    await page.locator('[data-test="flow-tests-suite"]').waitFor();
  }, 120_000);

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && page) await shot(`failed-${context.task.id}`);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('a suite with a syntax error says where (line and column), YAML or JSON, and runs nothing', async () => {
    await runSuite('cases:\n  - name: x\n    input: { node: go\n');
    const errors = page.locator('[data-test="flow-tests-errors"]');
    await errors.filter({ hasText: 'invalid YAML' }).waitFor();
    expect(await errors.innerText()).toMatch(/line \d+, column \d+: invalid YAML: /);
    expect(await page.locator('[data-test="flow-tests-result"]').count()).toBe(0);
    await shot('01-syntax-error');
    await runSuite('{\n  "cases": [ { "name": "x" oops } ]\n}');
    await errors.filter({ hasText: 'invalid JSON' }).waitFor();
    expect(await errors.innerText()).toMatch(/line 2, column \d+: invalid JSON: /);
    expect(await page.locator('[data-test="flow-tests-result"]').count()).toBe(0);
  });

  it('a suite the runtime refuses lists each problem by pointer', async () => {
    await runSuite(JSON.stringify({ cases: [{ name: 'no input', expect: [{ node: 'nowhere', match: {} }] }] }));
    const errors = page.locator('[data-test="flow-tests-errors"]');
    await errors.filter({ hasText: '/cases/0' }).waitFor();
    expect(await errors.innerText()).toMatch(/\/cases\/0/);
    expect(await page.locator('[data-test="flow-tests-result"]').count()).toBe(0);
    await shot('02-refused');
  });

  it('runs the suite on the saved flow and draws the picked case on the canvas', async () => {
    await runSuite(JSON.stringify(suite, null, 2));
    const result = page.locator('[data-test="flow-tests-result"]');
    await result.filter({ hasText: '1 of 2 passed' }).waitFor({ timeout: 60_000 });
    // The failing case is picked first: its assertion failed at calc, the nodes before it ran.
    await page.locator('[data-test="node-states"] [data-node="calc"]').filter({ hasText: 'test failed' }).waitFor();
    await page.locator('[data-test="node-states"] [data-node="go"]').filter({ hasText: /test (ran|passed)/ }).waitFor();
    expect(await page.locator('[data-test="flow-test-case-failed"]').innerText()).toContain('wrong on purpose');
    await shot('03-failed-case-on-canvas');
    await page.locator('[data-test="flow-test-case-passed"] button.case').click();
    await page.locator('[data-test="node-states"] [data-node="calc"]').filter({ hasText: 'test passed' }).waitFor();
    await shot('04-passed-case-on-canvas');
  });

  it('runs a YAML suite, saves it as typed, and shows it back after a reload', async () => {
    await runSuite(yamlSuite);
    await page.locator('[data-test="flow-tests-result"]').filter({ hasText: '1 of 1 passed' }).waitFor({ timeout: 60_000 });
    await page.click('[data-test="flow-tests-save"]');
    await expect.poll(async () => (await server.api('GET', '/api/v1/flows/double/tests')).body.source, { timeout: 10_000 }).toBe(yamlSuite);
    await page.reload();
    await page.click('[data-test="tab-tests"]');
    await expect.poll(() => page.inputValue('[data-test="flow-tests-suite"]'), { timeout: 20_000 }).toBe(yamlSuite);
    await shot('05-yaml-suite');
  });
});
