/** The sub-flow library: list, read versions, publish, import, and the definitions a flow uses (for export). */
import { ProblemError } from '../errors.ts';
import { actorOf, ok, problem, reply, strictObject, type Route } from '../api/route-table.ts';

const object = { type: 'object' };
const project = { project: { schema: { type: 'string', minLength: 1 }, description: 'Project that owns a new sub-flow (default "default")' } };

function versionParam(value: string | undefined): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 1) throw new ProblemError(400, 'Invalid parameter', `version must be a version number (1, 2, ...), got "${value}"`, [{ pointer: '/', message: 'version must be a positive integer' }]);
  return parsed;
}

export const subflowRoutes: Route[] = [
  {
    method: 'get',
    path: '/subflows',
    tag: 'sub-flows',
    summary: 'The sub-flow library: each sub-flow with its node type, latest version and all versions',
    access: 'pack:read',
    responses: { '200': ok('Sub-flows', { type: 'array', items: object }) },
    handle: (ctx) => reply.json(ctx.services.subflows.list(actorOf(ctx))),
  },
  {
    method: 'post',
    path: '/subflows',
    tag: 'sub-flows',
    summary: 'Publish the next version of a sub-flow (typed input, output, properties, inner flow); it appears in the palette',
    access: 'flow:write',
    query: project,
    // Checked by the library: the inner flow against the node types, with pointers.
    body: { schema: object, validate: false },
    responses: { '201': ok('The published version', object), '404': problem('No such project'), '409': problem('Version published concurrently'), '422': problem('Invalid definition') },
    handle: async (ctx) => {
      const published = await ctx.services.subflows.publish(actorOf(ctx), ctx.body, ctx.query.project as string | undefined);
      return reply.created(published, `/api/v1/subflows/${encodeURIComponent(published.definition.id)}/versions/${published.definition.version}`);
    },
  },
  {
    method: 'post',
    path: '/subflows/import',
    tag: 'sub-flows',
    summary: 'Import exported sub-flow definitions, keeping their version numbers (identical copies are unchanged)',
    access: 'flow:write',
    query: project,
    body: { schema: strictObject({ definitions: { type: 'array', items: object } }, ['definitions']), required: true },
    responses: { '200': ok('What was imported', { type: 'array', items: object }), '409': problem('A stored version differs'), '422': problem('Invalid definition') },
    handle: async (ctx) => reply.json(await ctx.services.subflows.import(actorOf(ctx), (ctx.body as { definitions: unknown[] }).definitions, ctx.query.project as string | undefined)),
  },
  {
    method: 'get',
    path: '/subflows/{id}',
    tag: 'sub-flows',
    summary: "A sub-flow's latest version",
    access: 'pack:read',
    params: { id: 'Sub-flow id' },
    responses: { '200': ok('The latest version', object), '404': problem('No such sub-flow') },
    handle: (ctx) => reply.json(ctx.services.subflows.get(actorOf(ctx), ctx.params.id!)),
  },
  {
    method: 'get',
    path: '/subflows/{id}/versions/{version}',
    tag: 'sub-flows',
    summary: 'One version of a sub-flow (its definition: open it in the editor, or export it)',
    access: 'pack:read',
    params: { id: 'Sub-flow id', version: 'Version number' },
    responses: { '200': ok('The version', object), '400': problem('Not a version number'), '404': problem('No such sub-flow or version') },
    handle: (ctx) => reply.json(ctx.services.subflows.get(actorOf(ctx), ctx.params.id!, versionParam(ctx.params.version))),
  },
  {
    method: 'get',
    path: '/flows/{id}/subflows',
    tag: 'sub-flows',
    summary: 'The library sub-flow definitions a flow uses (pinned versions, nested too): export them with the flow',
    access: 'flow:read',
    params: { id: 'Flow id' },
    responses: { '200': ok('Definitions', { type: 'array', items: object }), '404': problem('No such flow, or not one you may see') },
    handle: async (ctx) => reply.json(await ctx.services.subflows.usedBy(actorOf(ctx), ctx.params.id!)),
  },
];
