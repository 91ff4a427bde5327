/**
 * `flowcrew eval --junit <file>`: an evaluation as JUnit XML, the report format CI systems read (Jenkins, GitLab,
 * GitHub test reporters), so a dataset's cases show as tests: one <testsuite> for the dataset, one <testcase> per
 * case, a case that failed a check is a <failure> listing each failed check and why. The exit code still gates on
 * --min-score (a dataset may pass with some cases below 100 %); the report says which cases fell short.
 */
import { XMLBuilder } from 'fast-xml-parser';
import type { EvalRecord } from '../cli/eval-store.ts';

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@', format: true, suppressEmptyNode: true });

export function evalToJUnit(record: EvalRecord, minScore: number): string {
  const suite = `${record.dataset} (${record.flowId} v${record.flowVersion})`;
  let failures = 0;
  const testcase = record.cases.map((c) => {
    const base = { '@classname': suite, '@name': c.name, '@time': '0' };
    const failed = c.checks.filter((check) => !check.passed);
    const properties = { property: [{ '@name': 'runId', '@value': c.runId }, { '@name': 'runStatus', '@value': c.status }, { '@name': 'score', '@value': c.score }] };
    if (failed.length === 0) return { ...base, properties };
    failures++;
    const text = failed.map((check) => `${check.name}: ${check.detail ?? 'failed'}`).join('\n');
    return {
      ...base,
      properties,
      failure: { '@message': `${failed.length} of ${c.checks.length} check(s) failed (score ${(c.score * 100).toFixed(0)}%): ${text.split('\n')[0]!.slice(0, 500)}`, '@type': 'EvalCheckFailed', '#text': text },
    };
  });
  const doc = {
    '?xml': { '@version': '1.0', '@encoding': 'UTF-8' },
    testsuites: {
      '@name': 'flowcrew eval',
      '@tests': record.cases.length,
      '@failures': failures,
      '@errors': 0,
      testsuite: {
        '@name': suite,
        '@tests': record.cases.length,
        '@failures': failures,
        '@errors': 0,
        '@timestamp': record.at,
        properties: {
          property: [
            { '@name': 'flowId', '@value': record.flowId },
            { '@name': 'flowVersion', '@value': record.flowVersion },
            { '@name': 'score', '@value': record.score },
            { '@name': 'minScore', '@value': minScore },
            { '@name': 'passed', '@value': record.score >= minScore },
          ],
        },
        testcase,
      },
    },
  };
  return builder.build(doc) as string;
}
