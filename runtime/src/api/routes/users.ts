/** Users and instance roles (instance admins). */
import type { NewUser, UserPatch } from '../../identity/types.ts';
import { actorOf, arrayOf, ok, problem, ref, reply, strictObject, type Route } from '../route-table.ts';

const userId = { id: 'User id' };
const instanceRole = { enum: ['admin', 'member'] };
const password = { type: 'string', minLength: 1, maxLength: 1024 };
const name = { type: 'string', minLength: 1, maxLength: 200 };

export const userRoutes: Route[] = [
  {
    method: 'get',
    path: '/users',
    tag: 'users',
    summary: 'List users with their instance and project roles',
    access: 'user:manage',
    responses: { '200': ok('Users', arrayOf(ref('User'))) },
    handle: async (ctx) => reply.json(await ctx.services.users.list(actorOf(ctx))),
  },
  {
    method: 'post',
    path: '/users',
    tag: 'users',
    summary: 'Create a user (a password for local sign-in; none for OIDC-only users)',
    access: 'user:manage',
    body: { required: true, schema: strictObject({ username: { type: 'string', minLength: 1, maxLength: 64 }, password, name, instanceRole }, ['username']) },
    responses: { '201': ok('Created', ref('User')), '409': problem('Username taken'), '422': problem('Invalid user') },
    handle: async (ctx) => {
      const user = await ctx.services.users.create(actorOf(ctx), ctx.body as NewUser);
      return reply.created(user, `/api/v1/users/${encodeURIComponent(user.id)}`);
    },
  },
  {
    method: 'get',
    path: '/users/{id}',
    tag: 'users',
    summary: 'One user',
    access: 'user:manage',
    params: userId,
    responses: { '200': ok('User', ref('User')) },
    handle: async (ctx) => reply.json(await ctx.services.users.get(actorOf(ctx), ctx.params.id!)),
  },
  {
    method: 'patch',
    path: '/users/{id}',
    tag: 'users',
    summary: 'Rename, change the instance role, disable (ends sessions, stops tokens) or reset the password',
    access: 'user:manage',
    params: userId,
    body: { required: true, schema: strictObject({ name, instanceRole, disabled: { type: 'boolean' }, password }) },
    responses: { '200': ok('Changed', ref('User')), '409': problem('It would leave no enabled admin'), '422': problem('Invalid change') },
    handle: async (ctx) => reply.json(await ctx.services.users.update(actorOf(ctx), ctx.params.id!, ctx.body as UserPatch)),
  },
  {
    method: 'delete',
    path: '/users/{id}',
    tag: 'users',
    summary: 'Delete a user with their sessions, tokens and memberships',
    access: 'user:manage',
    params: userId,
    responses: { '204': ok('Deleted'), '409': problem('The last enabled admin') },
    handle: async (ctx) => {
      await ctx.services.users.delete(actorOf(ctx), ctx.params.id!);
      return reply.noContent();
    },
  },
];
