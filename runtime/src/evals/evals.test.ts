/**
 * Evaluation scores over the API: the records flowcrew eval keeps (cli/eval.test.ts runs the command itself) read
 * back per flow, version and dataset, and two versions compared case by case. A real runtime over HTTP (SQLite).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvalStore, type EvalRecord } from '../cli/eval-store.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';

let server: TestServer;

const evaluation = (flowVersion: number, dataset: string, scores: Record<string, number>, minute: number): EvalRecord => {
  const cases = Object.entries(scores).map(([name, score]) => ({ name, runId: `run-${name}-${flowVersion}`, status: 'succeeded', score, checks: [{ name: `${name} check`, passed: score === 1 }] }));
  return { at: new Date(Date.UTC(2026, 11, 3, 12, minute)).toISOString(), dataset, flowId: 'scored', flowVersion, score: cases.reduce((n, c) => n + c.score, 0) / cases.length, cases };
};

beforeAll(async () => {
  server = await startTestServer();
  const flow = { id: 'scored', name: 'scored', nodes: [{ id: 'go', type: 'inject', wires: [['out']] }, { id: 'out', type: 'debug' }] };
  expect((await server.api('POST', '/api/v1/flows', flow)).status).toBe(201);
  const store = EvalStore.of(server.runtime.storage);
  await store.add(evaluation(1, 'crew.yaml', { facts: 1, tone: 0 }, 0));
  await store.add(evaluation(2, 'crew.yaml', { facts: 0.5, tone: 1, length: 1 }, 1));
  // Version 2 again, later: the comparison takes a version's latest evaluation.
  await store.add(evaluation(2, 'crew.yaml', { facts: 0, tone: 1, length: 1 }, 2));
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe('evaluation scores API', () => {
  it('lists the evaluations of a flow newest first, by dataset and version', async () => {
    const all = await server.api('GET', '/api/v1/flows/scored/evals');
    expect(all.status).toBe(200);
    expect(all.body.map((e: EvalRecord) => [e.flowVersion, e.at.slice(11, 16)])).toEqual([
      [2, '12:02'],
      [2, '12:01'],
      [1, '12:00'],
    ]);
    expect(all.body[2]).toMatchObject({ id: expect.any(String), dataset: 'crew.yaml', score: 0.5, cases: [{ name: 'facts', score: 1 }, { name: 'tone', score: 0 }] });
    expect((await server.api('GET', '/api/v1/flows/scored/evals?version=1')).body).toHaveLength(1);
    expect((await server.api('GET', '/api/v1/flows/scored/evals?dataset=other.yaml')).body).toEqual([]);
    expect((await server.api('GET', '/api/v1/flows/nope/evals')).status).toBe(404);
  });

  it('compares the newest evaluated version with the one before, case by case', async () => {
    const res = await server.api('GET', '/api/v1/flows/scored/evals/compare');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ flowId: 'scored', dataset: 'crew.yaml', base: { version: 1, score: 0.5 }, head: { version: 2, score: 2 / 3 }, delta: 0.167 });
    expect(res.body.head.at).toBe('2026-12-03T12:02:00.000Z');
    expect(res.body.cases).toEqual([
      { name: 'facts', base: 1, head: 0, change: 'regressed', failedChecks: ['facts check'] },
      { name: 'tone', base: 0, head: 1, change: 'improved', failedChecks: [] },
      { name: 'length', base: null, head: 1, change: 'added', failedChecks: [] },
    ]);
    const reversed = await server.api('GET', '/api/v1/flows/scored/evals/compare?base=2&head=1');
    expect(reversed.body.cases.map((c: { change: string }) => c.change)).toEqual(['improved', 'regressed', 'removed']);
  });

  it('says what is missing: an unevaluated version, a single version, an unnamed dataset among several', async () => {
    const unknown = await server.api('GET', '/api/v1/flows/scored/evals/compare?head=7');
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toContain('version 7 on dataset "crew.yaml" (evaluated versions: 1, 2)');
    expect((await server.api('GET', '/api/v1/flows/scored/evals/compare?head=1')).body.detail).toContain('only version 1 of flow "scored" was evaluated');
    await EvalStore.of(server.runtime.storage).add(evaluation(2, 'smoke.yaml', { facts: 1 }, 3));
    const ambiguous = await server.api('GET', '/api/v1/flows/scored/evals/compare');
    expect(ambiguous.status).toBe(422);
    expect(ambiguous.body.detail).toContain('several datasets (crew.yaml, smoke.yaml): pass ?dataset=');
    expect((await server.api('GET', '/api/v1/flows/scored/evals/compare?dataset=crew.yaml')).status).toBe(200);
  });
});
