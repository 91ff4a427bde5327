/**
 * JUnit XML for CI (the de-facto schema Jenkins, GitLab and GitHub test reporters read): one <testsuite> per test
 * file, one <testcase> per case; a failed assertion is a <failure>, a case that could not run (deploy problem, bad
 * mock, timeout) or a file that did not parse is an <error>.
 */
import { XMLBuilder } from 'fast-xml-parser';
import type { SuiteResult } from './runner.ts';

/** A test file that could not be used at all (syntax error, unknown flow): reported as one errored case. */
export interface SuiteFailure {
  name: string;
  file?: string;
  error: string;
}

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@', format: true, suppressEmptyNode: true });
const seconds = (ms: number) => (ms / 1000).toFixed(3);

export function toJUnit(results: Array<SuiteResult | SuiteFailure>, name = 'flowcrew flow tests'): string {
  let tests = 0;
  let failures = 0;
  let errors = 0;
  let total = 0;
  const suites = results.map((r) => {
    if ('error' in r) {
      tests++;
      errors++;
      return {
        '@name': r.name,
        ...(r.file ? { '@file': r.file } : {}),
        '@tests': 1,
        '@failures': 0,
        '@errors': 1,
        '@time': '0.000',
        testcase: [{ '@classname': r.name, '@name': 'load test file', '@time': '0.000', error: { '@message': firstLine(r.error), '#text': r.error } }],
      };
    }
    let suiteFailures = 0;
    let suiteErrors = 0;
    const testcase = r.cases.map((c) => {
      const base = { '@classname': `${r.name} (${r.flowId})`, '@name': c.name, '@time': seconds(c.durationMs) };
      if (c.error !== undefined) {
        suiteErrors++;
        return { ...base, error: { '@message': firstLine(c.error), '#text': c.error } };
      }
      const failed = c.assertions.filter((a) => !a.passed);
      if (failed.length === 0) return base;
      suiteFailures++;
      const text = failed.map((a) => `${a.label}: ${a.message ?? 'failed'}`).join('\n');
      return { ...base, failure: { '@message': `${failed.length} of ${c.assertions.length} assertion(s) failed: ${firstLine(text)}`, '@type': 'AssertionError', '#text': text } };
    });
    tests += r.cases.length;
    failures += suiteFailures;
    errors += suiteErrors;
    total += r.durationMs;
    return {
      '@name': r.name,
      ...(r.file ? { '@file': r.file } : {}),
      '@tests': r.cases.length,
      '@failures': suiteFailures,
      '@errors': suiteErrors,
      '@time': seconds(r.durationMs),
      properties: { property: [{ '@name': 'flowId', '@value': r.flowId }, { '@name': 'flowVersion', '@value': r.flowVersion }] },
      testcase,
    };
  });
  const doc = { '?xml': { '@version': '1.0', '@encoding': 'UTF-8' }, testsuites: { '@name': name, '@tests': tests, '@failures': failures, '@errors': errors, '@time': seconds(total), testsuite: suites } };
  return builder.build(doc) as string;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 500);
}
