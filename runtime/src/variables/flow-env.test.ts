/**
 * A flow's own variables evaluated as Node-RED evaluates a tab's env at flow start (flow-env.ts), and read where no
 * project variables exist: `flowcrew test` on flow files (an in-memory sandbox, no stored project). The comparison of
 * the same variables with a real Node-RED is in flow/node-red-env.test.ts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ContextStore, EnvReader, Logger } from '@flowcrew/sdk';
import { envReader } from '@flowcrew/sdk/util';
import { afterAll, describe, expect, it } from 'vitest';
import { runTestFiles } from '../cli/flowtest.ts';
import type { FlowDocument } from '../flow/types.ts';
import type { SuiteResult } from '../flowtest/runner.ts';
import { flowEnvReader, flowVariablesOnly } from './flow-env.ts';

function recordingLog(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const log = { warnings, debug: () => {}, info: () => {}, error: () => {}, warn: (message: string) => warnings.push(message), child: () => log } as unknown as Logger & { warnings: string[] };
  return log;
}

const flowWith = (env: FlowDocument['env']): FlowDocument => ({ id: 'typed-flow', name: 'Typed', version: 1, nodes: [], env }) as FlowDocument;
const project: EnvReader = envReader({ HOST: 'project-host', N: 'from the project' });

describe('a flow\'s own variables, evaluated at deploy', () => {
  it('types values as Node-RED does; env references read the tab first, then the project', async () => {
    const log = recordingLog();
    const env = await flowEnvReader(
      flowWith({
        N: { type: 'num', value: '3' },
        B: { type: 'bool', value: 'True' },
        J: { type: 'json', value: '{"a":[1]}' },
        SELF: { type: 'env', value: 'HOST' },
        HOST: { type: 'env', value: 'HOST' },
        BOTH: { type: 'env', value: '${N}@${HOST}' },
        UP: { type: 'env', value: '$parent.N' },
        MISSING: { type: 'env', value: 'NOPE' },
      }),
      project,
      log,
    );
    expect([env.value('N'), env.value('B'), env.value('J')]).toEqual([3, false, { a: [1] }]);
    // HOST names itself: the project's; SELF names HOST, which is evaluated after it (in order): the project's too
    expect([env.value('HOST'), env.value('SELF'), env.value('BOTH'), env.value('UP'), env.value('MISSING')]).toEqual(['project-host', 'project-host', '3@project-host', 'from the project', '']);
    expect([env.get('N'), env.get('J'), env.value('NR_FLOW_NAME'), env.value('NR_FLOW_ID')]).toEqual(['3', '{"a":[1]}', 'Typed', 'typed-flow']);
    const first = env.value('J') as { a: number[] };
    first.a.push(2);
    expect(env.value('J')).toEqual({ a: [1] });
    expect(log.warnings).toEqual([]);
  });

  it("a jsonata variable reads the flow's and global context given at deploy ($flowContext, $globalContext, nested keys)", async () => {
    const log = recordingLog();
    const store = (values: Record<string, unknown>): ContextStore => ({ get: (k) => values[k], set: () => {}, keys: () => Object.keys(values) });
    const contexts = { flow: store({ factor: 4, limits: { max: 9 } }), global: store({ site: 'plant' }) };
    const env = await flowEnvReader(flowWith({ S: { type: 'jsonata', value: '$flowContext("factor") * 2' }, G: { type: 'jsonata', value: '$globalContext("site") & "-x"' }, D: { type: 'jsonata', value: '$flowContext("limits.max")' }, U: { type: 'jsonata', value: '$flowContext("unset") * 2' } }), project, log, contexts);
    expect([env.value('S'), env.value('G'), env.value('D'), env.value('U')]).toEqual([8, 'plant-x', 9, undefined]);
    expect(log.warnings).toEqual([]);
  });

  it('a value that cannot be evaluated is left unset with a warning naming flow and variable, not read from the project', async () => {
    const log = recordingLog();
    const env = await flowEnvReader(flowWith({ N: { type: 'json', value: '{"open' }, C: { type: 'jsonata', value: '$flowContext("x")' }, S: { type: 'jsonata', value: '$env("HOST") & "!"' } }), project, log);
    expect([env.value('N'), env.value('C'), env.value('S')]).toEqual([undefined, undefined, 'project-host!']);
    expect(log.warnings).toHaveLength(2);
    expect(log.warnings[0]).toMatch(/flow "typed-flow": variable N \(json\) could not be evaluated/);
    expect(log.warnings[1]).toMatch(/variable C \(jsonata\).*\$flowContext\(\) cannot be used in a flow variable/);
  });

  it('without project variables: the flow\'s own, then only the names passed through', async () => {
    const environment = flowVariablesOnly({ passthrough: ['FC_TEST_*'], log: recordingLog(), processEnv: { FC_TEST_A: 'a', OTHER: 'hidden' } });
    const { env } = await environment(flowWith({ N: { type: 'num', value: '7' } }));
    expect([env.value('N'), env.get('FC_TEST_A'), env.get('OTHER')]).toEqual([7, 'a', undefined]);
  });
});

let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('flowcrew test on a flow file (no stored project)', () => {
  it('the flow reads its own typed variables', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-flow-env-'));
    const flow = {
      id: 'own-env', name: 'Own variables', version: 1,
      env: { N: { type: 'num', value: '3' }, WORD: 'hi' },
      nodes: [
        { id: 'in', type: 'inject', wires: [['set']] },
        { id: 'set', type: 'change', props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '$env("N") + 1', tot: 'jsonata' }, { t: 'set', p: 'word', pt: 'msg', to: '${WORD}', tot: 'str' }] }, wires: [['out']] },
        { id: 'out', type: 'debug' },
      ],
    };
    await writeFile(path.join(dir, 'own.json'), JSON.stringify(flow));
    await writeFile(path.join(dir, 'own.flowtest.yaml'), 'name: own\nflowFile: own.json\ncases:\n  - name: reads N as a number\n    input: { node: in, msg: {} }\n    expect:\n      - node: set\n        match: { payload: 4, word: hi }\n');
    const [outcome] = await runTestFiles([path.join(dir, 'own.flowtest.yaml')], {}, () => {});
    expect((outcome as SuiteResult).cases.map((c) => [c.name, c.passed, c.error, c.assertions.filter((a) => !a.passed).map((a) => a.message)])).toEqual([['reads N as a number', true, undefined, []]]);
  }, 60_000);
});
