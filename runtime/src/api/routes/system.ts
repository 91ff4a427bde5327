/** Health, this API's own description, node types and packs, dashboard stats. */
import { openApiDocument } from '../openapi.ts';
import { actorOf, arrayOf, ok, problem, ref, reply, type Route } from '../route-table.ts';

const CHECK = { type: 'object', required: ['ok'], properties: { ok: { type: 'boolean' }, detail: { type: 'string' } } };
const READINESS = {
  type: 'object',
  required: ['status', 'checks'],
  properties: {
    status: { enum: ['ready', 'not ready'] },
    checks: {
      type: 'object',
      required: ['storage', 'flows', 'resume'],
      properties: {
        storage: { ...CHECK, properties: { ...CHECK.properties, ms: { type: 'number' } } },
        flows: { ...CHECK, properties: { ...CHECK.properties, deployed: { type: 'integer' } } },
        resume: { ...CHECK, properties: { ...CHECK.properties, state: { enum: ['pending', 'running', 'done', 'failed'] } } },
        // Queue mode only: Redis answers; the backlog is information (scale workers on it), not a readiness condition.
        queue: { ...CHECK, properties: { ...CHECK.properties, redisMs: { type: 'number' }, backlog: { type: 'object' } } },
      },
    },
  },
};

export const systemRoutes: Route[] = [
  {
    method: 'get',
    path: '/health',
    tag: 'system',
    summary: 'Liveness; storage and active runs for signed-in callers; node packs and webhooks for instance admins',
    access: 'public',
    responses: { '200': ok('Healthy', ref('Health')) },
    handle: (ctx) => reply.json(ctx.services.packs.health(ctx.actor)),
  },
  {
    method: 'get',
    path: '/health/live',
    tag: 'system',
    summary: 'Liveness probe: the process answers (restart it when this fails)',
    access: 'public',
    responses: { '200': ok('Alive', { type: 'object', required: ['status'], properties: { status: { const: 'ok' }, uptimeSeconds: { type: 'integer' } } }) },
    handle: (ctx) => reply.json(ctx.services.operations.live()),
  },
  {
    method: 'get',
    path: '/health/ready',
    tag: 'system',
    summary: 'Readiness probe: storage answers within 2 s, deployed flows are loaded, interrupted runs resumed (send traffic only when 200); error texts for instance admins',
    access: 'public',
    responses: { '200': ok('Ready', READINESS), '503': ok('Not ready (the body says which check failed)', READINESS) },
    handle: async (ctx) => {
      const readiness = await ctx.services.operations.ready(ctx.actor);
      return reply.json(readiness, readiness.status === 'ready' ? 200 : 503);
    },
  },
  {
    method: 'get',
    path: '/openapi.json',
    tag: 'system',
    summary: 'This document',
    access: 'public',
    responses: { '200': ok('OpenAPI 3.1', { type: 'object' }) },
    handle: () => reply.json(openApiDocument()),
  },
  {
    method: 'get',
    path: '/node-types',
    tag: 'packs',
    summary: 'Installed node types with their props JSON Schemas',
    access: 'pack:read',
    responses: { '200': ok('Node types', arrayOf(ref('NodeType'))) },
    handle: (ctx) => reply.json(ctx.services.packs.nodeTypes(actorOf(ctx))),
  },
  {
    method: 'get',
    path: '/node-packs',
    tag: 'packs',
    summary: 'Loaded node packs, with load errors',
    access: 'pack:read',
    responses: { '200': ok('Node packs', arrayOf({ type: 'object' })) },
    handle: (ctx) => reply.json(ctx.services.packs.packs(actorOf(ctx))),
  },
  {
    method: 'get',
    path: '/stats',
    tag: 'runs',
    summary: 'Dashboard figures per minute over the projects where you read runs: runs, failures, p95 run duration; active flows',
    access: 'run:read',
    query: { minutes: { schema: { type: 'integer', minimum: 1, maximum: 1440, default: 60 } } },
    responses: { '200': ok('Stats', ref('Stats')), '400': problem('Bad parameter') },
    handle: async (ctx) => reply.json(await ctx.services.runs.stats(actorOf(ctx), (ctx.query.minutes as number | undefined) ?? 60)),
  },
];
