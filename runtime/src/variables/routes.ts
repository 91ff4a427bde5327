/** Per-project environment variables: list (secret values never returned), set (plain or secret), delete. */
import { actorOf, ok, problem, reply, strictObject, type Route } from '../api/route-table.ts';

const params = { id: 'Project id', name: 'Variable name' };
const variable = ok('The variable (a secret one without its value)', { type: 'object' });

export const variableRoutes: Route[] = [
  {
    method: 'get',
    path: '/projects/{id}/variables',
    tag: 'variables',
    summary: "The project's environment variables on this instance (this environment); secret ones without their value",
    access: 'flow:read',
    params: { id: params.id },
    responses: { '200': ok('Variables by name', { type: 'array' }), '404': problem('No such project, or not one you may see') },
    handle: async (ctx) => reply.json(await ctx.services.variables.list(actorOf(ctx), ctx.params.id!)),
  },
  {
    method: 'put',
    path: '/projects/{id}/variables/{name}',
    tag: 'variables',
    summary: 'Set a variable (a secret one is kept in the vault and needs credential:write); applies at the next deploy of the flows',
    access: 'flow:write',
    params,
    body: {
      required: true,
      schema: strictObject({ value: { type: 'string', maxLength: 65536 }, secret: { type: 'boolean' }, description: { type: ['string', 'null'], maxLength: 1000 } }, ['value']),
    },
    responses: { '200': variable, '403': problem('A secret variable needs credential:write'), '404': problem('No such project'), '422': problem('Not a variable name') },
    handle: async (ctx) => reply.json(await ctx.services.variables.set(actorOf(ctx), ctx.params.id!, ctx.params.name!, ctx.body as never)),
  },
  {
    method: 'delete',
    path: '/projects/{id}/variables/{name}',
    tag: 'variables',
    summary: 'Delete a variable (a secret one also from the vault)',
    access: 'flow:write',
    params,
    responses: { '204': ok('Deleted'), '403': problem('A secret variable needs credential:write'), '404': problem('No such project or variable') },
    handle: async (ctx) => {
      await ctx.services.variables.remove(actorOf(ctx), ctx.params.id!, ctx.params.name!);
      return reply.noContent();
    },
  },
];
