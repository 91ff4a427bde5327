/** API tokens of a project: the secret is in the create response, once; lists never show it. */
import type { NewToken } from '../../identity/types.ts';
import { actorOf, arrayOf, ok, problem, ref, reply, strictObject, type Route } from '../route-table.ts';

export const tokenRoutes: Route[] = [
  {
    method: 'get',
    path: '/tokens',
    tag: 'tokens',
    summary: 'API tokens of the projects where you manage tokens (never their secrets)',
    access: 'token:manage',
    query: { projectId: { schema: { type: 'string', minLength: 1 }, description: 'Only this project' } },
    responses: { '200': ok('Tokens', arrayOf(ref('Token'))), '404': problem('No such project, or not one you may see') },
    handle: async (ctx) => reply.json(await ctx.services.tokens.list(actorOf(ctx), ctx.query.projectId as string | undefined)),
  },
  {
    method: 'post',
    path: '/tokens',
    tag: 'tokens',
    summary: 'Create an API token scoped to a project and permissions (never more than yours); the secret is shown this once',
    access: 'token:manage',
    body: {
      required: true,
      schema: strictObject(
        {
          name: { type: 'string', minLength: 1, maxLength: 200 },
          projectId: { type: 'string', minLength: 1 },
          permissions: { type: 'array', minItems: 1, items: ref('Permission') },
          expiresAt: { type: ['integer', 'null'], description: 'Epoch ms; null = never; default: the configured lifetime' },
        },
        ['name', 'projectId', 'permissions'],
      ),
    },
    responses: { '201': ok('Created: the secret is in this response only', ref('CreatedToken')), '404': problem('No such project, or not one you may see'), '422': problem('Invalid token') },
    handle: async (ctx) => {
      const created = await ctx.services.tokens.create(actorOf(ctx), ctx.body as NewToken);
      return { ...reply.created(created), headers: { 'Cache-Control': 'no-store' } };
    },
  },
  {
    method: 'delete',
    path: '/tokens/{id}',
    tag: 'tokens',
    summary: 'Revoke a token (at once)',
    access: 'token:manage',
    params: { id: 'Token id' },
    responses: { '204': ok('Revoked') },
    handle: async (ctx) => {
      await ctx.services.tokens.revoke(actorOf(ctx), ctx.params.id!);
      return reply.noContent();
    },
  },
];
