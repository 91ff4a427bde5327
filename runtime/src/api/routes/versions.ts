/** Flow versions: the list with the deployed marker, one version, the diff between two, restore, deploy history. */
import { ProblemError } from '../../errors.ts';
import { actorOf, ok, problem, reply, type Route } from '../route-table.ts';

const params = { id: 'Flow id', version: 'Version number' };
const object = { type: 'object' };
const versionQuery = (description: string, required = false) => ({ schema: { type: 'integer', minimum: 1 }, description, required });

/** A path segment that must be a version number: a clear 400 naming it otherwise. */
function versionParam(value: string | undefined, name = 'version'): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 1) {
    throw new ProblemError(400, 'Invalid parameter', `${name} must be a version number (1, 2, ...), got "${value}"`, [{ pointer: '/', message: `${name} must be a positive integer` }]);
  }
  return parsed;
}

export const versionRoutes: Route[] = [
  {
    method: 'get',
    path: '/flows/{id}/versions',
    tag: 'versions',
    summary: 'Saved versions of a flow, newest first, with who saved each and which one is deployed (and by whom)',
    access: 'flow:read',
    params: { id: params.id },
    query: { limit: { schema: { type: 'integer', minimum: 1, maximum: 1000 } }, before: versionQuery('Only versions older than this one (paging)') },
    responses: { '200': ok('Versions', object), '404': problem('No such flow, or not one you may see') },
    handle: async (ctx) =>
      reply.json(await ctx.services.versions.list(actorOf(ctx), ctx.params.id!, { limit: ctx.query.limit as number | undefined, before: ctx.query.before as number | undefined })),
  },
  {
    method: 'get',
    path: '/flows/{id}/versions/{version}',
    tag: 'versions',
    summary: "One saved version's document",
    access: 'flow:read',
    params,
    responses: { '200': ok('The version and its document', object), '400': problem('Not a version number'), '404': problem('No such flow or version') },
    handle: async (ctx) => reply.json(await ctx.services.versions.get(actorOf(ctx), ctx.params.id!, versionParam(ctx.params.version))),
  },
  {
    method: 'post',
    path: '/flows/{id}/versions/{version}/restore',
    tag: 'versions',
    summary: 'Restore a version: its document is saved as a new version (audited); deploy it as usual',
    access: 'flow:write',
    params,
    responses: {
      '200': ok('The flow after the restore', object),
      '400': problem('Not a version number'),
      '404': problem('No such flow or version'),
      '422': problem('The old version is no longer valid (a node type was removed, a credential is gone)'),
    },
    handle: async (ctx) => reply.json(await ctx.services.versions.restore(actorOf(ctx), ctx.params.id!, versionParam(ctx.params.version))),
  },
  {
    method: 'get',
    path: '/flows/{id}/diff',
    tag: 'versions',
    summary: 'What changed between two versions: nodes added, removed, changed (per property), wires, flow fields',
    access: 'flow:read',
    params: { id: params.id },
    query: { from: versionQuery('The older version', true), to: versionQuery('The newer version (default: the current one)') },
    responses: { '200': ok('The diff', object), '404': problem('No such flow or version') },
    handle: async (ctx) => reply.json(await ctx.services.versions.diff(actorOf(ctx), ctx.params.id!, ctx.query.from as number, ctx.query.to as number | undefined)),
  },
  {
    method: 'get',
    path: '/flows/{id}/deployments',
    tag: 'versions',
    summary: 'Deploy history of a flow, newest first: version (null = undeployed), when and by whom',
    access: 'flow:read',
    params: { id: params.id },
    query: { limit: { schema: { type: 'integer', minimum: 1, maximum: 1000 } } },
    responses: { '200': ok('Deployments', { type: 'array', items: object }), '404': problem('No such flow, or not one you may see') },
    handle: async (ctx) => reply.json(await ctx.services.versions.deployments(actorOf(ctx), ctx.params.id!, ctx.query.limit as number | undefined)),
  },
];
