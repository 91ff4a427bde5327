/** A flow test pins the environment variables the flow reads (suite `env`), through the same CLI path as CI. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTestFiles } from '../cli/flowtest.ts';
import { parseSuite } from './format.ts';
import type { SuiteResult } from './runner.ts';

const fixtures = path.join(import.meta.dirname, 'fixtures');

describe('flow tests with environment variables', () => {
  it('the flow reads the suite\'s env through $env and ${NAME} props', async () => {
    const printed: string[] = [];
    const [outcome] = await runTestFiles([path.join(fixtures, 'greet.flowtest.yaml')], {}, (line) => printed.push(line));
    const result = outcome as SuiteResult;
    expect(result.cases.map((c) => [c.name, c.passed, c.error])).toEqual([['greets with the environment\'s words', true, undefined]]);
  }, 60_000);

  it('a variable name that is not one is a file error at its line', () => {
    expect(() => parseSuite('flow: f\nenv:\n  1BAD: x\ncases:\n  - { name: a, input: { node: x } }', 'e.flowtest.yaml')).toThrow(/e\.flowtest\.yaml:3:\d+: .*/);
  });
});
