/**
 * Route x role fixtures of the evaluation routes (spread into api/route-matrix.fixtures.ts): the matrix's flow in
 * project "alpha" gets two stored evaluations (versions 1 and 2 on one dataset, as flowcrew eval stores them) once.
 */
import type { Fixture, MatrixSetup } from '../api/route-matrix.fixtures.ts';
import { EvalStore } from '../cli/eval-store.ts';

const seeded = new WeakMap<MatrixSetup, Promise<string>>();

function evaluatedFlow(c: MatrixSetup): Promise<string> {
  let flow = seeded.get(c);
  if (!flow) {
    flow = (async () => {
      const store = EvalStore.of(c.server.runtime.storage);
      for (const [version, score] of [[1, 0.5], [2, 1]] as const) {
        const cases = [{ name: 'case', runId: c.run, status: 'succeeded', score, checks: [{ name: 'check', passed: score === 1 }] }];
        await store.add({ at: new Date(Date.now() + version).toISOString(), dataset: 'matrix.yaml', flowId: c.flow, flowVersion: version, score, cases });
      }
      return c.flow;
    })();
    seeded.set(c, flow);
  }
  return flow;
}

export const EVAL_FIXTURES: Record<string, Fixture> = {
  'GET /flows/{id}/evals': { access: 'run:read', scope: 'project', prepare: async (c) => ({ path: `/flows/${await evaluatedFlow(c)}/evals`, expect: 200 }) },
  'GET /flows/{id}/evals/compare': { access: 'run:read', scope: 'project', prepare: async (c) => ({ path: `/flows/${await evaluatedFlow(c)}/evals/compare?dataset=matrix.yaml`, expect: 200 }) },
};
