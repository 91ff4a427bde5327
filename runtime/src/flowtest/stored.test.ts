/**
 * `flowcrew test -d <data dir>` with a suite naming a STORED flow that uses a library sub-flow: the flow and the
 * sub-flow version it pins come from the data directory (through the services, as the CLI actor), run in a sandbox,
 * and the stored flow's own runs are untouched.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runTestFiles } from '../cli/flowtest.ts';
import { cliActor, withServices } from '../cli/local.ts';
import { loadConfig } from '../config.ts';
import type { SuiteResult } from './runner.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowtest-stored-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

it('tests a stored flow and the library sub-flow it uses from the data directory', async () => {
  const config = loadConfig({ ...process.env, DATABASE_URL: '' }, { dataDir: dir, flowsDir: null, logLevel: 'error' });
  const actor = cliActor();
  await withServices(config, async (services) => {
    await services.subflows.publish(actor, {
      id: 'greet',
      name: 'Greet',
      properties: { type: 'object', properties: { greeting: { type: 'string' } } },
      nodes: [
        { id: 'in', type: 'subflow-in', wires: [['say']] },
        { id: 'say', type: 'change', props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'subflow.props.greeting & ", " & payload', tot: 'jsonata' }] }, wires: [['out']] },
        { id: 'out', type: 'subflow-out' },
      ],
    });
    await services.flows.create(actor, {
      id: 'hello',
      name: 'hello',
      nodes: [
        { id: 'go', type: 'inject', wires: [['greet']] },
        { id: 'greet', type: 'subflow:greet', props: { version: 1, greeting: 'Hello' }, wires: [['out']] },
        { id: 'out', type: 'debug' },
      ],
    });
  });
  const file = path.join(dir, 'hello.flowtest.yaml');
  await writeFile(file, ['flow: hello', 'cases:', '  - name: greets', '    input: { node: go, msg: { payload: Ada } }', '    expect:', '      - { node: out, on: input, match: { payload: "Hello, Ada" } }', ''].join('\n'));
  const printed: string[] = [];
  const [outcome] = await runTestFiles([file], { dataDir: dir }, (line) => printed.push(line));
  expect((outcome as SuiteResult).cases.map((c) => [c.name, c.passed, c.error])).toEqual([['greets', true, undefined]]);
  expect(printed[0]).toMatch(/^PASS hello\.flowtest\.yaml \(flow hello v1, \d+ ms\)$/);
  // Nothing ran in the data directory itself.
  await withServices(config, async (services) => expect(await services.runs.list(actor, {})).toEqual([]));
}, 90_000);
