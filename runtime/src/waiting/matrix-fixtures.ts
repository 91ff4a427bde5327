/**
 * Route x role fixtures of the /waits routes (spread into api/route-matrix.fixtures.ts): a question in project
 * "alpha" is a run of a deployed flow parked on a human-input node. Answering closes a question, so each answer
 * gets a fresh one; reads share one per matrix run.
 */
import type { Fixture, MatrixSetup } from '../api/route-matrix.fixtures.ts';

const FLOW = 'm-waiting';
const shared = new WeakMap<MatrixSetup, Promise<string>>();

async function call(c: MatrixSetup, method: string, path: string, status: number, body?: unknown): Promise<any> {
  const res = await c.server.api(method, `/api/v1${path}`, body);
  if (res.status !== status) throw new Error(`matrix setup: ${method} ${path}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A new open question in alpha (its id). */
async function newQuestion(c: MatrixSetup): Promise<string> {
  if ((await c.server.api('GET', `/api/v1/flows/${FLOW}`)).status === 404) {
    const nodes = [
      { id: 'go', type: 'inject', wires: [['ask']] },
      { id: 'ask', type: 'human-input', props: { title: 'Matrix question' }, wires: [[], []] },
    ];
    await call(c, 'POST', '/flows', 201, { id: FLOW, name: FLOW, nodes, projectId: 'alpha' });
    await call(c, 'POST', `/flows/${FLOW}/deploy`, 200);
  }
  const { runId } = await call(c, 'POST', `/flows/${FLOW}/runs`, 202, {});
  const deadline = Date.now() + 10_000;
  for (;;) {
    const waits = await call(c, 'GET', `/waits?runId=${runId}`, 200);
    if (waits.length > 0) return waits[0].id as string;
    if (Date.now() > deadline) throw new Error(`matrix setup: run ${runId} did not park on its question`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const sharedQuestion = (c: MatrixSetup) => {
  let question = shared.get(c);
  if (!question) shared.set(c, (question = newQuestion(c)));
  return question;
};
const linkTo = async (c: MatrixSetup, id: string): Promise<string> => (await call(c, 'POST', `/waits/${encodeURIComponent(id)}/link`, 200)).token;
const approve = { answer: { approved: true } };

export const WAIT_FIXTURES: Record<string, Fixture> = {
  'GET /waits': { access: 'run:read', scope: 'any', prepare: () => ({ path: '/waits', expect: 200 }) },
  'GET /waits/{id}': { access: 'run:read', scope: 'project', prepare: async (c) => ({ path: `/waits/${encodeURIComponent(await sharedQuestion(c))}`, expect: 200 }) },
  'POST /waits/{id}/answer': { access: 'run:start', scope: 'project', prepare: async (c) => ({ path: `/waits/${encodeURIComponent(await newQuestion(c))}/answer`, body: approve, expect: 200 }) },
  'POST /waits/{id}/link': { access: 'run:start', scope: 'project', prepare: async (c) => ({ path: `/waits/${encodeURIComponent(await sharedQuestion(c))}/link`, expect: 200 }) },
  // The link is the permission: anyone holding one may read and answer that question.
  'GET /waits/link/{token}': { access: 'public', scope: 'any', prepare: async (c) => ({ path: `/waits/link/${await linkTo(c, await sharedQuestion(c))}`, expect: 200 }) },
  'POST /waits/link/{token}/answer': { access: 'public', scope: 'any', prepare: async (c) => ({ path: `/waits/link/${await linkTo(c, await newQuestion(c))}/answer`, body: approve, expect: 200 }) },
};
