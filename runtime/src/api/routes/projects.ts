/** Projects and their members. */
import type { ProjectRole } from '../../identity/actor.ts';
import type { NewProject, ProjectPatch } from '../../identity/types.ts';
import { actorOf, arrayOf, ok, problem, ref, reply, strictObject, type Route } from '../route-table.ts';

const projectId = { id: 'Project id' };
const name = { type: 'string', minLength: 1, maxLength: 200 };
const description = { type: 'string', maxLength: 2000 };

export const projectRoutes: Route[] = [
  {
    method: 'get',
    path: '/projects',
    tag: 'projects',
    summary: 'The projects you are a member of, with your role (every project for instance admins)',
    access: 'authenticated',
    responses: { '200': ok('Projects', arrayOf(ref('Project'))) },
    handle: async (ctx) => reply.json(await ctx.services.projects.list(actorOf(ctx))),
  },
  {
    method: 'post',
    path: '/projects',
    tag: 'projects',
    summary: 'Create a project (a user creating it becomes its owner)',
    access: 'project:create',
    body: { required: true, schema: strictObject({ id: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }, name, description }, ['name']) },
    responses: { '201': ok('Created', ref('Project')), '409': problem('Id taken'), '422': problem('Invalid project') },
    handle: async (ctx) => {
      const project = await ctx.services.projects.create(actorOf(ctx), ctx.body as NewProject);
      return reply.created(project, `/api/v1/projects/${encodeURIComponent(project.id)}`);
    },
  },
  {
    method: 'get',
    path: '/projects/{id}',
    tag: 'projects',
    summary: 'One project you are a member of',
    access: 'authenticated',
    params: projectId,
    responses: { '200': ok('Project', ref('Project')) },
    handle: async (ctx) => reply.json(await ctx.services.projects.get(actorOf(ctx), ctx.params.id!)),
  },
  {
    method: 'patch',
    path: '/projects/{id}',
    tag: 'projects',
    summary: 'Rename or describe a project',
    access: 'project:manage',
    params: projectId,
    body: { required: true, schema: strictObject({ name, description }) },
    responses: { '200': ok('Changed', ref('Project')), '422': problem('Invalid change') },
    handle: async (ctx) => reply.json(await ctx.services.projects.update(actorOf(ctx), ctx.params.id!, ctx.body as ProjectPatch)),
  },
  {
    method: 'delete',
    path: '/projects/{id}',
    tag: 'projects',
    summary: 'Delete an empty project (its members and tokens go with it)',
    access: 'project:create',
    params: projectId,
    responses: { '204': ok('Deleted'), '409': problem('The default project, or one that still has flows or credentials') },
    handle: async (ctx) => {
      await ctx.services.projects.delete(actorOf(ctx), ctx.params.id!);
      return reply.noContent();
    },
  },
  {
    method: 'get',
    path: '/projects/{id}/members',
    tag: 'projects',
    summary: 'Members of a project and their roles',
    access: 'project:manage',
    params: projectId,
    responses: { '200': ok('Members', arrayOf(ref('Member'))) },
    handle: async (ctx) => reply.json(await ctx.services.projects.members(actorOf(ctx), ctx.params.id!)),
  },
  {
    method: 'put',
    path: '/projects/{id}/members/{userId}',
    tag: 'projects',
    summary: "Add a member or change a member's role",
    access: 'project:manage',
    params: { ...projectId, userId: 'User id' },
    body: { required: true, schema: strictObject({ role: ref('ProjectRole') }, ['role']) },
    responses: { '200': ok('Member', ref('Member')), '422': problem('Invalid role') },
    handle: async (ctx) => {
      const { role } = ctx.body as { role: ProjectRole };
      return reply.json(await ctx.services.projects.setMember(actorOf(ctx), ctx.params.id!, ctx.params.userId!, role));
    },
  },
  {
    method: 'delete',
    path: '/projects/{id}/members/{userId}',
    tag: 'projects',
    summary: 'Remove a member',
    access: 'project:manage',
    params: { ...projectId, userId: 'User id' },
    responses: { '204': ok('Removed') },
    handle: async (ctx) => {
      await ctx.services.projects.removeMember(actorOf(ctx), ctx.params.id!, ctx.params.userId!);
      return reply.noContent();
    },
  },
];
