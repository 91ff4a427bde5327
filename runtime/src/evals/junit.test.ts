/** The eval's JUnit report: one suite per dataset, a case per test, failed checks with their reasons. */
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { evalToJUnit } from './junit.ts';

describe('flowcrew eval --junit', () => {
  it('writes a suite for the dataset with a testcase per case; a case below 100 % is a failure naming each failed check', () => {
    const xml = evalToJUnit(
      {
        at: '2026-12-03T23:00:00.000Z',
        dataset: 'crew.eval.yaml',
        flowId: 'crew',
        flowVersion: 3,
        score: 0.75,
        cases: [
          { name: 'solar', runId: 'r1', status: 'succeeded', score: 1, checks: [{ name: 'three tasks ran', passed: true }] },
          { name: 'pgvector <&>', runId: 'r2', status: 'succeeded', score: 0.5, checks: [{ name: 'three tasks ran', passed: true }, { name: 'not cut', passed: false, detail: 'got false' }] },
        ],
      },
      0.9,
    );
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
    expect(doc.testsuites).toMatchObject({ name: 'flowcrew eval', tests: '2', failures: '1', errors: '0' });
    const suite = doc.testsuites.testsuite;
    expect(suite).toMatchObject({ name: 'crew.eval.yaml (crew v3)', tests: '2', failures: '1' });
    expect(suite.properties.property).toContainEqual({ name: 'passed', value: 'false' });
    expect(suite.testcase[0]).not.toHaveProperty('failure');
    expect(suite.testcase[1].name).toBe('pgvector <&>'); // escaped in the XML, read back as written
    expect(suite.testcase[1].failure).toMatchObject({ type: 'EvalCheckFailed', message: '1 of 2 check(s) failed (score 50%): not cut: got false', '#text': 'not cut: got false' });
    expect(suite.testcase[1].properties.property).toContainEqual({ name: 'runId', value: 'r2' });
  });
});
