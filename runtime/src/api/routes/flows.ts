/** Flows: list, create, validate, import, read, save revisions, delete, deploy, export, debug buffer, manual runs. */
import { ProblemError } from '../../errors.ts';
import { actorOf, arrayOf, ok, problem, ref, reply, strictObject, type Route } from '../route-table.ts';

const flowId = { id: 'Flow id' };
const projectQuery = { schema: { type: 'string', minLength: 1 }, description: 'Project of the new flows (default: "default")' };

/** If-Match: "3", W/"3" or 3. Absent is fine; anything else that is not a version is a 400. */
function ifMatch(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(String(value).replace(/^W\/|"/g, ''));
  if (!Number.isInteger(parsed) || parsed < 0) throw new ProblemError(400, 'Invalid parameter', 'If-Match must be a flow version, e.g. "3"', [{ pointer: '/', message: 'If-Match must be a non-negative integer' }]);
  return parsed;
}

function bodyVersion(body: unknown): number | undefined {
  const version = (body as { version?: unknown } | undefined)?.version;
  if (version === undefined) return undefined;
  if (!Number.isInteger(version) || (version as number) < 0) throw new ProblemError(400, 'Invalid parameter', 'version must be a non-negative integer', [{ pointer: '/version', message: 'must be a non-negative integer' }]);
  return version as number;
}

const bodyProject = (body: unknown): string | undefined => {
  const projectId = (body as { projectId?: unknown } | null)?.projectId;
  if (projectId === undefined) return undefined;
  if (typeof projectId !== 'string' || !projectId) throw new ProblemError(400, 'Invalid body', 'projectId must be a project id', [{ pointer: '/projectId', message: 'must be a non-empty string' }]);
  return projectId;
};

export const flowRoutes: Route[] = [
  {
    method: 'get',
    path: '/flows',
    tag: 'flows',
    summary: 'List the flows of the projects where you read flows',
    access: 'flow:read',
    responses: { '200': ok('Flows', arrayOf(ref('FlowView'))) },
    handle: async (ctx) => reply.json(await ctx.services.flows.list(actorOf(ctx))),
  },
  {
    method: 'post',
    path: '/flows',
    tag: 'flows',
    summary: 'Create a flow (in body.projectId, default "default")',
    access: 'flow:write',
    body: { schema: ref('FlowCreate'), required: true, validate: false },
    responses: { '201': ok('Created', ref('FlowView')), '404': problem('No such project, or not one you may see'), '409': problem('A flow with this id exists'), '422': problem('Invalid flow') },
    handle: async (ctx) => {
      const flow = await ctx.services.flows.create(actorOf(ctx), ctx.body, bodyProject(ctx.body));
      return reply.created(flow, `/api/v1/flows/${encodeURIComponent(flow.id)}`);
    },
  },
  {
    method: 'post',
    path: '/flows/validate',
    tag: 'flows',
    summary: 'Validate a flow without storing it',
    access: 'flow:write',
    body: { schema: ref('Flow'), required: true, validate: false },
    responses: {
      '200': ok('Valid', ref('ValidationResult')),
      '422': { description: 'Invalid', schema: ref('ValidationResult') },
    },
    handle: async (ctx) => {
      const result = await ctx.services.flows.validate(actorOf(ctx), ctx.body);
      return reply.json(result, result.valid ? 200 : 422);
    },
  },
  {
    method: 'post',
    path: '/flows/import',
    tag: 'flows',
    summary: 'Import Flowcrew JSON or a Node-RED export (detected); all or nothing',
    access: 'flow:write',
    query: { deploy: { schema: { type: 'boolean' } }, replace: { schema: { type: 'boolean' } }, projectId: projectQuery },
    body: {
      required: true,
      validate: false,
      schema: {
        oneOf: [
          { type: 'object', required: ['nodes'], description: 'One Flowcrew flow' },
          { type: 'array', items: { type: 'object' }, description: 'Several Flowcrew flows, or a Node-RED export (nodes with "type" and "z")' },
          { type: 'object', required: ['flows'], description: 'Node-RED admin API form' },
        ],
      },
    },
    responses: { '201': ok('Imported', ref('ImportResult')), '404': problem('No such project, or not one you may see'), '409': problem('A flow exists'), '422': problem('Invalid flows') },
    handle: async (ctx) => {
      const { deploy, replace, projectId } = ctx.query as { deploy?: boolean; replace?: boolean; projectId?: string };
      return reply.json(await ctx.services.flows.import(actorOf(ctx), ctx.body, { deploy, replace, projectId }), 201);
    },
  },
  {
    method: 'get',
    path: '/flows/{id}',
    tag: 'flows',
    summary: 'Get a flow',
    access: 'flow:read',
    params: flowId,
    responses: { '200': ok('Flow', ref('FlowView')) },
    handle: async (ctx) => {
      const flow = await ctx.services.flows.get(actorOf(ctx), ctx.params.id!);
      return reply.json(flow, 200, { ETag: `"${flow.version}"` });
    },
  },
  {
    method: 'put',
    path: '/flows/{id}',
    tag: 'flows',
    summary: 'Save a new revision (If-Match or body version for optimistic locking)',
    access: 'flow:write',
    params: flowId,
    headers: { 'If-Match': { description: 'The version you edited, e.g. "3"', schema: { type: 'string', pattern: '^(W/)?"?[0-9]+"?$' } } },
    body: { schema: ref('FlowView'), required: true, validate: false },
    responses: { '200': ok('Saved', ref('FlowView')), '409': problem('Version conflict'), '422': problem('Invalid flow') },
    handle: async (ctx) => {
      const expected = ifMatch(ctx.headers['if-match']) ?? bodyVersion(ctx.body);
      const flow = await ctx.services.flows.update(actorOf(ctx), ctx.params.id!, ctx.body, expected);
      return reply.json(flow, 200, { ETag: `"${flow.version}"` });
    },
  },
  {
    method: 'delete',
    path: '/flows/{id}',
    tag: 'flows',
    summary: 'Undeploy and delete a flow',
    access: 'flow:write',
    params: flowId,
    responses: { '204': ok('Deleted') },
    handle: async (ctx) => {
      await ctx.services.flows.delete(actorOf(ctx), ctx.params.id!);
      return reply.noContent();
    },
  },
  {
    method: 'post',
    path: '/flows/{id}/deploy',
    tag: 'flows',
    summary: 'Deploy the stored revision',
    access: 'flow:deploy',
    params: flowId,
    responses: { '200': ok('Deployed', ref('FlowView')), '422': problem('Cannot deploy') },
    handle: async (ctx) => reply.json(await ctx.services.flows.deploy(actorOf(ctx), ctx.params.id!)),
  },
  {
    method: 'post',
    path: '/flows/{id}/undeploy',
    tag: 'flows',
    summary: 'Stop a deployed flow',
    access: 'flow:deploy',
    params: flowId,
    responses: { '200': ok('Undeployed', ref('FlowView')) },
    handle: async (ctx) => reply.json(await ctx.services.flows.undeploy(actorOf(ctx), ctx.params.id!)),
  },
  {
    method: 'get',
    path: '/flows/{id}/export',
    tag: 'flows',
    summary: 'Export a flow as Flowcrew JSON',
    access: 'flow:read',
    params: flowId,
    responses: { '200': ok('Flow', ref('Flow')) },
    handle: async (ctx) => {
      const flow = await ctx.services.flows.export(actorOf(ctx), ctx.params.id!);
      return reply.json(flow, 200, { 'Content-Disposition': `attachment; filename="${flow.id}.flow.json"` });
    },
  },
  {
    method: 'get',
    path: '/flows/{id}/debug',
    tag: 'flows',
    summary: 'Recent debug messages of a flow (in memory, newest 500), for a client catching up after a lost connection',
    access: 'flow:read',
    params: flowId,
    query: { after: { schema: { type: 'integer', minimum: 0 }, description: 'Only messages with a greater seq' } },
    responses: { '200': ok('Debug messages, oldest first (the shape of the live "debug" event)', arrayOf(ref('DebugMessage'))), '400': problem('Bad parameter') },
    handle: async (ctx) => reply.json(await ctx.services.flows.debug(actorOf(ctx), ctx.params.id!, (ctx.query.after as number | undefined) ?? 0)),
  },
  {
    method: 'post',
    path: '/flows/{id}/runs',
    tag: 'runs',
    summary: "Start a run manually (at the flow's inject node, or nodeId)",
    access: 'run:start',
    params: flowId,
    body: { schema: strictObject({ input: { type: 'object' }, nodeId: { type: 'string' } }) },
    responses: { '202': ok('Accepted (durably stored)', ref('AcceptedRun')), '409': problem('Flow not deployed'), '422': problem('No entry node') },
    handle: async (ctx) => {
      const body = (ctx.body ?? {}) as { input?: Record<string, unknown>; nodeId?: string };
      const { runId } = await ctx.services.runs.start(actorOf(ctx), ctx.params.id!, body);
      return reply.accepted(runId);
    },
  },
];
