/**
 * Route x role fixture of the re-run from a step (spread into api/route-matrix.fixtures.ts). The route works for
 * any invocation with steps, so the matrix's own run in project "alpha" serves: its debug node's invocation gets two
 * steps stored once (as a crew's tasks would be), and each allowed call starts a new run from the second.
 */
import type { Fixture, MatrixSetup } from '../api/route-matrix.fixtures.ts';
import { stepInvocation } from '../storage/steps.ts';
import { stepStoreOf } from './journal.ts';

const seeded = new WeakMap<MatrixSetup, Promise<string>>();

async function invocationWithSteps(c: MatrixSetup): Promise<string> {
  const storage = c.server.runtime.storage;
  const parent = (await storage.listInvocations(c.run)).find((i) => i.nodeId === 'out');
  if (!parent) throw new Error(`matrix setup: run ${c.run} has no invocation of node "out"`);
  const at = Date.now();
  const steps = ['first', 'second'].map((key, i) => stepInvocation(parent, { key, kind: 'task', label: key, output: `${key} done`, startedAt: at }, 1000 + i));
  await stepStoreOf(storage)!.insert(steps);
  return parent.id;
}

export const STEP_FIXTURES: Record<string, Fixture> = {
  'POST /runs/{id}/invocations/{invocationId}/rerun': {
    access: 'run:start',
    scope: 'project',
    prepare: async (c) => {
      let parent = seeded.get(c);
      if (!parent) seeded.set(c, (parent = invocationWithSteps(c)));
      return { path: `/runs/${c.run}/invocations/${encodeURIComponent(await parent)}/rerun`, body: { fromStep: 'second' }, expect: 202 };
    },
  },
};
