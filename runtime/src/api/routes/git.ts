/** Git-backed projects: the link (repository, branch = environment, credential, bindings), push, pull, promote. */
import { actorOf, ok, problem, reply, strictObject, type Route } from '../route-table.ts';

const params = { id: 'Project id' };
const object = { type: 'object' };
const sync = ok('What was committed, stored, deleted and deployed', object);
const gitProblems = {
  '409': problem('Not linked, pull first, a merge conflict (answered as flow diffs), or the remote rejected the push'),
  '422': problem('Repository content or credential bindings not usable here'),
  '502': problem('The Git remote could not be reached or refused the credential'),
};

export const gitRoutes: Route[] = [
  {
    method: 'get',
    path: '/projects/{id}/git',
    tag: 'git',
    summary: "The project's Git link: repository, branch, environment, credential id (never a secret), bindings, last synchronised commit",
    access: 'flow:read',
    params,
    responses: { '200': ok('The link', object), '404': problem('No such project, or not linked') },
    handle: async (ctx) => reply.json(await ctx.services.git.getLink(actorOf(ctx), ctx.params.id!)),
  },
  {
    method: 'put',
    path: '/projects/{id}/git',
    tag: 'git',
    summary: 'Link the project to a branch of a Git repository (SSH key or token as a git-ssh / git-token credential)',
    access: 'project:manage',
    params,
    body: {
      required: true,
      schema: strictObject(
        {
          url: { type: 'string', minLength: 1, maxLength: 1000 },
          branch: { type: 'string', minLength: 1, maxLength: 100 },
          environment: { type: 'string', minLength: 1, maxLength: 100 },
          credentialId: { type: ['string', 'null'] },
          knownHosts: { type: ['string', 'null'], maxLength: 100_000 },
          credentialBindings: { type: 'object', additionalProperties: { type: 'string' } },
        },
        ['url', 'branch'],
      ),
    },
    responses: { '200': ok('The link', object), '404': problem('No such project'), '422': problem('Bad branch name or credential') },
    handle: async (ctx) => reply.json(await ctx.services.git.link(actorOf(ctx), ctx.params.id!, ctx.body as never)),
  },
  {
    method: 'delete',
    path: '/projects/{id}/git',
    tag: 'git',
    summary: 'Unlink the project from its repository (flows stay)',
    access: 'project:manage',
    params,
    responses: { '204': ok('Unlinked'), '404': problem('No such project, or not linked') },
    handle: async (ctx) => {
      await ctx.services.git.unlink(actorOf(ctx), ctx.params.id!);
      return reply.noContent();
    },
  },
  {
    method: 'post',
    path: '/projects/{id}/git/push',
    tag: 'git',
    summary: "Commit the project's flows and credential references to its branch and push",
    access: 'flow:write',
    params,
    body: { schema: strictObject({ message: { type: 'string', minLength: 1, maxLength: 2000 } }) },
    responses: { '200': sync, ...gitProblems },
    handle: async (ctx) => reply.json(await ctx.services.git.push(actorOf(ctx), ctx.params.id!, (ctx.body as { message?: string } | undefined)?.message)),
  },
  {
    method: 'post',
    path: '/projects/{id}/git/pull',
    tag: 'git',
    summary: "Merge the branch's new commits and store the changed flows (deployed only with deploy: true)",
    access: 'flow:write',
    params,
    body: { schema: strictObject({ deploy: { type: 'boolean' } }) },
    responses: { '200': sync, ...gitProblems },
    handle: async (ctx) => reply.json(await ctx.services.git.pull(actorOf(ctx), ctx.params.id!, { deploy: (ctx.body as { deploy?: boolean } | undefined)?.deploy })),
  },
  {
    method: 'post',
    path: '/projects/{id}/git/promote',
    tag: 'git',
    summary: "Promote another environment's branch into this one: merge, push, deploy the changed flows (instance admins)",
    access: 'flow:promote',
    params,
    body: { required: true, schema: strictObject({ from: { type: 'string', minLength: 1, maxLength: 100 } }, ['from']) },
    responses: { '200': sync, ...gitProblems },
    handle: async (ctx) => reply.json(await ctx.services.git.promote(actorOf(ctx), ctx.params.id!, (ctx.body as { from: string }).from)),
  },
];
