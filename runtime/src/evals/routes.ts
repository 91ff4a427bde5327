/** Evaluation scores of a flow (flowcrew eval): list per version and dataset, compare two versions case by case. */
import { actorOf, arrayOf, ok, problem, reply, type JsonSchema, type Route } from '../api/route-table.ts';

const flowId = { id: 'Flow id' };
const CHECK: JsonSchema = { type: 'object', required: ['name', 'passed'], properties: { name: { type: 'string' }, passed: { type: 'boolean' }, detail: { type: 'string' } } };
const EVALUATION: JsonSchema = {
  type: 'object',
  required: ['id', 'at', 'dataset', 'flowId', 'flowVersion', 'score', 'cases'],
  properties: {
    id: { type: 'string' },
    at: { type: 'string', format: 'date-time' },
    dataset: { type: 'string' },
    flowId: { type: 'string' },
    flowVersion: { type: 'integer' },
    score: { type: 'number', minimum: 0, maximum: 1 },
    cases: arrayOf({ type: 'object', required: ['name', 'runId', 'status', 'score', 'checks'], properties: { name: { type: 'string' }, runId: { type: 'string' }, status: { type: 'string' }, score: { type: 'number' }, checks: arrayOf(CHECK) } }),
  },
};
const SIDE: JsonSchema = { type: 'object', required: ['version', 'evaluationId', 'at', 'score'], properties: { version: { type: 'integer' }, evaluationId: { type: 'string' }, at: { type: 'string' }, score: { type: 'number' } } };
const COMPARISON: JsonSchema = {
  type: 'object',
  required: ['flowId', 'dataset', 'base', 'head', 'delta', 'cases'],
  properties: {
    flowId: { type: 'string' },
    dataset: { type: 'string' },
    base: SIDE,
    head: SIDE,
    delta: { type: 'number', description: 'head score minus base score' },
    cases: arrayOf({
      type: 'object',
      required: ['name', 'base', 'head', 'change', 'failedChecks'],
      properties: {
        name: { type: 'string' },
        base: { type: ['number', 'null'] },
        head: { type: ['number', 'null'] },
        change: { enum: ['improved', 'regressed', 'same', 'added', 'removed'] },
        failedChecks: arrayOf({ type: 'string' }),
      },
    }),
  },
};
const version = { schema: { type: 'integer', minimum: 0 } as JsonSchema };

export const evalRoutes: Route[] = [
  {
    method: 'get',
    path: '/flows/{id}/evals',
    tag: 'evals',
    summary: 'Evaluations of a flow (flowcrew eval), newest first',
    access: 'run:read',
    params: flowId,
    query: { dataset: { schema: { type: 'string' } }, version },
    responses: { '200': ok('Evaluations', arrayOf(EVALUATION)) },
    handle: async (ctx) => {
      const q = ctx.query as { dataset?: string; version?: number };
      return reply.json(await ctx.services.evals.list(actorOf(ctx), ctx.params.id!, { dataset: q.dataset || undefined, version: q.version }));
    },
  },
  {
    method: 'get',
    path: '/flows/{id}/evals/compare',
    tag: 'evals',
    summary: "Two versions of a flow on one dataset, case by case (default: the newest evaluated version against the one before)",
    access: 'run:read',
    params: flowId,
    query: { dataset: { schema: { type: 'string' } }, base: version, head: version },
    responses: { '200': ok('Comparison', COMPARISON), '404': problem('No such flow, or no evaluation of that version'), '422': problem('Several datasets and none named, or only one version evaluated') },
    handle: async (ctx) => {
      const q = ctx.query as { dataset?: string; base?: number; head?: number };
      return reply.json(await ctx.services.evals.compare(actorOf(ctx), ctx.params.id!, { dataset: q.dataset || undefined, base: q.base, head: q.head }));
    },
  },
];
