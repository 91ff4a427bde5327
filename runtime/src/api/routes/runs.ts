/** Run history: list, read, re-run, cancel. (Manual runs start at POST /flows/{id}/runs.) */
import type { RunStatus } from '../../storage/types.ts';
import { RUN_STATUSES } from '../schemas.ts';
import { actorOf, arrayOf, ok, problem, ref, reply, strictObject, type Route } from '../route-table.ts';

const runId = { id: 'Run id' };

export const runRoutes: Route[] = [
  {
    method: 'get',
    path: '/runs',
    tag: 'runs',
    summary: 'List runs of the projects where you read runs, newest first',
    access: 'run:read',
    query: {
      flowId: { schema: { type: 'string' } },
      status: { schema: { enum: [...RUN_STATUSES] } },
      limit: { schema: { type: 'integer', minimum: 0, maximum: 500 } },
      before: { schema: { type: 'string' }, description: 'Run id: return older runs (pagination)' },
      test: { schema: { type: 'boolean' }, description: "true: only the editor's test runs; false: only production runs; absent: both" },
    },
    responses: { '200': ok('Runs', arrayOf(ref('Run'))), '400': problem('Bad parameter') },
    handle: async (ctx) => {
      const q = ctx.query as { flowId?: string; status?: RunStatus; limit?: number; before?: string; test?: boolean };
      return reply.json(await ctx.services.runs.list(actorOf(ctx), { flowId: q.flowId || undefined, status: q.status, limit: q.limit ?? 50, before: q.before, test: q.test }));
    },
  },
  {
    method: 'get',
    path: '/runs/{id}',
    tag: 'runs',
    summary: 'One run with its node invocations',
    access: 'run:read',
    params: runId,
    responses: { '200': ok('Run', { allOf: [ref('Run'), { type: 'object', properties: { invocations: arrayOf(ref('Invocation')) } }] }) },
    handle: async (ctx) => reply.json(await ctx.services.runs.get(actorOf(ctx), ctx.params.id!)),
  },
  {
    method: 'post',
    path: '/runs/{id}/rerun',
    tag: 'runs',
    summary: "Start a new run with this run's original input, entering where it entered (trigger onInput or trigger output)",
    access: 'run:start',
    params: runId,
    responses: { '202': ok('Accepted (durably stored)', ref('AcceptedRun')), '409': problem('Flow not deployed'), '422': problem('The trigger is gone') },
    handle: async (ctx) => reply.accepted((await ctx.services.runs.rerun(actorOf(ctx), ctx.params.id!)).runId),
  },
  {
    method: 'post',
    path: '/runs/{id}/invocations/{invocationId}/rerun',
    tag: 'runs',
    summary: "Re-run from a chosen step of a node's invocation (an AI crew's task): a new run starting at that node, the steps before it reused",
    access: 'run:start',
    params: { ...runId, invocationId: 'Invocation id of the node (an ai-crew) whose steps to re-run from' },
    body: { required: true, schema: strictObject({ fromStep: { type: 'string', minLength: 1, maxLength: 500, description: 'Step key, e.g. "task:write" (see the step invocations of the run)' } }, ['fromStep']) },
    responses: {
      '202': ok('Accepted (durably stored)', { type: 'object', required: ['runId', 'status', 'reused'], properties: { runId: { type: 'string' }, status: { const: 'accepted' }, reused: arrayOf({ type: 'string' }) } }),
      '404': problem('No such run, invocation or step'),
      '409': problem('Flow not deployed'),
      '422': problem('The node is gone, or the invocation is itself a step'),
    },
    handle: async (ctx) => {
      const { runId: started, reused } = await ctx.services.runs.rerunFromStep(actorOf(ctx), ctx.params.id!, ctx.params.invocationId!, (ctx.body as { fromStep: string }).fromStep);
      return reply.json({ runId: started, status: 'accepted', reused }, 202, { Location: `/api/v1/runs/${started}` });
    },
  },
  {
    method: 'post',
    path: '/runs/{id}/cancel',
    tag: 'runs',
    summary: 'Cancel a queued or running run',
    access: 'run:cancel',
    params: runId,
    responses: { '200': ok('Cancelled', ref('Run')), '409': problem('Run already finished') },
    handle: async (ctx) => reply.json(await ctx.services.runs.cancel(actorOf(ctx), ctx.params.id!)),
  },
];
