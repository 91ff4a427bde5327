/** Credentials: metadata only (field names); values go in, never out. */
import { CredentialService, type CredentialPatch } from '../../services/credentials.ts';
import { actorOf, arrayOf, ok, problem, ref, reply, strictObject, type Route } from '../route-table.ts';

const credentialId = { id: 'Credential id' };
const fields = { type: 'object', description: 'Field values (write-only)' };
const testResult = {
  type: 'object',
  required: ['ok', 'message', 'type', 'durationMs'],
  properties: { ok: { type: 'boolean' }, message: { type: 'string' }, type: { type: 'string' }, durationMs: { type: 'integer' } },
};
const credentialType = {
  type: 'object',
  required: ['name', 'pack', 'label', 'schema', 'secretFields', 'testable'],
  properties: {
    name: { type: 'string' },
    pack: { type: 'string' },
    label: { type: 'string' },
    description: { type: 'string' },
    schema: { type: 'object', description: 'JSON Schema of the fields; secret ones are writeOnly' },
    secretFields: { type: 'array', items: { type: 'string' } },
    testable: { type: 'boolean', description: 'Whether a connection test is offered' },
  },
};

export const credentialRoutes: Route[] = [
  {
    method: 'get',
    path: '/credentials',
    tag: 'credentials',
    summary: 'List the credentials of the projects where you read them (names and field names only; values never leave the runtime)',
    access: 'credential:read',
    responses: { '200': ok('Credentials', arrayOf(ref('Credential'))) },
    handle: async (ctx) => reply.json(await ctx.services.credentials.list(actorOf(ctx))),
  },
  {
    method: 'post',
    path: '/credentials',
    tag: 'credentials',
    summary: 'Store a credential (encrypted at rest) in a project (default "default")',
    access: 'credential:write',
    body: {
      required: true,
      schema: strictObject({ name: { type: 'string', minLength: 1 }, type: { type: 'string', minLength: 1 }, fields, projectId: { type: 'string', minLength: 1 } }, ['name', 'type', 'fields']),
    },
    responses: { '201': ok('Stored', ref('Credential')), '404': problem('No such project, or not one you may see'), '422': problem('Invalid') },
    handle: async (ctx) => {
      const { projectId, ...input } = ctx.body as { projectId?: string; name: string; type: string; fields: Record<string, unknown> };
      const created = await ctx.services.credentials.create(actorOf(ctx), CredentialService.checkNew(input), projectId);
      return reply.created(created, `/api/v1/credentials/${encodeURIComponent(created.id)}`);
    },
  },
  {
    method: 'get',
    path: '/credential-types',
    tag: 'credentials',
    summary: 'Credential types the node packs declare (field schemas for the forms; which fields are secret; whether they can be tested)',
    access: 'pack:read',
    responses: { '200': ok('Credential types', arrayOf(credentialType)) },
    handle: (ctx) => reply.json(ctx.services.packs.credentialTypes(actorOf(ctx))),
  },
  {
    method: 'post',
    path: '/credentials/test',
    tag: 'credentials',
    summary: 'Test connection with fields not stored yet (nothing is stored; the answer holds no secret)',
    access: 'credential:write',
    body: { required: true, schema: strictObject({ type: { type: 'string', minLength: 1 }, fields }, ['type', 'fields']) },
    responses: { '200': ok('The test ran: ok or not, and what happened', testResult), '422': problem('Unknown or untestable type, or fields that do not fit it') },
    handle: async (ctx) => reply.json(await ctx.services.credentials.test(actorOf(ctx), ctx.body as { type: string; fields: Record<string, unknown> })),
  },
  {
    method: 'post',
    path: '/credentials/{id}/test',
    tag: 'credentials',
    summary: 'Test connection with a stored credential, optionally with some fields replaced (a field given null is left out)',
    access: 'credential:write',
    params: credentialId,
    body: { required: false, schema: strictObject({ fields }) },
    responses: { '200': ok('The test ran: ok or not, and what happened', testResult), '422': problem('Untestable type, or fields that do not fit it') },
    handle: async (ctx) => reply.json(await ctx.services.credentials.test(actorOf(ctx), { id: ctx.params.id!, fields: (ctx.body as { fields?: Record<string, unknown> } | undefined)?.fields })),
  },
  {
    method: 'get',
    path: '/credentials/{id}',
    tag: 'credentials',
    summary: 'One credential (field names only)',
    access: 'credential:read',
    params: credentialId,
    responses: { '200': ok('Credential', ref('Credential')) },
    handle: async (ctx) => reply.json(await ctx.services.credentials.get(actorOf(ctx), ctx.params.id!)),
  },
  {
    method: 'patch',
    path: '/credentials/{id}',
    tag: 'credentials',
    summary: 'Change a credential: a field given a value replaces it, a field given null is removed, others keep their value',
    access: 'credential:write',
    params: credentialId,
    body: { required: true, schema: strictObject({ name: { type: 'string', minLength: 1 }, type: { type: 'string', minLength: 1 }, fields }) },
    responses: { '200': ok('Changed', ref('Credential')), '422': problem('Invalid') },
    handle: async (ctx) => reply.json(await ctx.services.credentials.update(actorOf(ctx), ctx.params.id!, ctx.body as CredentialPatch)),
  },
  {
    method: 'delete',
    path: '/credentials/{id}',
    tag: 'credentials',
    summary: 'Delete a credential',
    access: 'credential:write',
    params: credentialId,
    responses: { '204': ok('Deleted') },
    handle: async (ctx) => {
      await ctx.services.credentials.delete(actorOf(ctx), ctx.params.id!);
      return reply.noContent();
    },
  },
];
