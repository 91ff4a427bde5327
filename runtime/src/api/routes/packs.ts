/**
 * The palette manager's routes (instance admins only, audited): search the npm registry for node packs, read one's
 * versions, readme and licence, install/upgrade, remove, disable and enable packs. Pack names travel in the query or
 * body (scoped names contain a slash). npm's output is streamed to admins' sockets as `pack:progress` events.
 */
import { ProblemError } from '../../errors.ts';
import { PackOperationError } from '../../packs/palette.ts';
import { RegistryUnavailableError } from '../../packs/npm-registry.ts';
import { PackLoadError } from '../../registry/registry.ts';
import { actorOf, arrayOf, ok, problem, reply, strictObject, type Route } from '../route-table.ts';

const name = { type: 'string', minLength: 1, maxLength: 214, description: 'npm package name, e.g. flowcrew-nodes-acme or @acme/flowcrew-nodes' };
const nameBody = { schema: strictObject({ name }, ['name']), required: true };
const result = { type: 'object', required: ['operationId', 'action', 'pack', 'removedTypes', 'affectedFlows'], description: 'What changed: the pack, the types removed, the flows using them' };
const change = { type: 'object', required: ['pack', 'removedTypes', 'affectedFlows'] };
const refused = {
  '400': problem('Not a package name or version'),
  '404': problem('No such package or version (on the registry), or no such installed pack'),
  '409': problem('Another pack operation is running, or the pack is built in'),
  '422': problem('Not a node pack, needs a newer SDK, clashes with an installed type, or failed to install or load: nothing was installed'),
  '502': problem('The npm registry could not be reached'),
};

/** The palette's refusals as problems an API client can act on (`code` says which). */
async function asProblem<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof PackOperationError) throw new ProblemError(error.status, 'Pack operation refused', error.message, [], { code: error.code });
    if (error instanceof PackLoadError) throw new ProblemError(422, 'Pack operation refused', error.message, [], { code: error.code });
    if (error instanceof RegistryUnavailableError) throw new ProblemError(502, 'npm registry unavailable', error.message, [], { code: 'registry-unavailable' });
    throw error;
  }
}

export const packRoutes: Route[] = [
  {
    method: 'get',
    path: '/node-packs/catalog',
    tag: 'packs',
    summary: 'Search the npm registry for node packs (keyword flowcrew-nodes)',
    access: 'pack:install',
    query: { q: { schema: { type: 'string', maxLength: 200, default: '' }, description: 'Words to match' } },
    responses: { '200': ok('Packs on the registry', arrayOf({ type: 'object', required: ['name', 'version'] })), '502': refused['502'] },
    handle: async (ctx) => reply.json(await asProblem(() => ctx.services.packs.search(actorOf(ctx), String(ctx.query.q ?? '')))),
  },
  {
    method: 'get',
    path: '/node-packs/catalog/details',
    tag: 'packs',
    summary: "A pack's versions (with SDK compatibility), readme and licence, from the npm registry",
    access: 'pack:install',
    query: { name: { schema: name, required: true } },
    responses: { '200': ok('Pack details', { type: 'object', required: ['name', 'versions', 'readme'] }), '400': refused['400'], '404': refused['404'], '502': refused['502'] },
    handle: async (ctx) => reply.json(await asProblem(() => ctx.services.packs.details(actorOf(ctx), String(ctx.query.name)))),
  },
  {
    method: 'post',
    path: '/node-packs/install',
    tag: 'packs',
    summary: 'Install a pack from the npm registry, or upgrade/downgrade an installed one (all or nothing)',
    access: 'pack:install',
    body: { schema: strictObject({ name, version: { type: 'string', minLength: 1, maxLength: 64, description: 'Version, range or tag (default: latest)' } }, ['name']), required: true },
    responses: { '200': ok('Installed', result), ...refused },
    handle: async (ctx) => {
      const body = ctx.body as { name: string; version?: string };
      return reply.json(await asProblem(() => ctx.services.packs.install(actorOf(ctx), body.name, body.version)));
    },
  },
  {
    method: 'post',
    path: '/node-packs/remove',
    tag: 'packs',
    summary: 'Uninstall a pack; the flows using its types are reported',
    access: 'pack:install',
    body: nameBody,
    responses: { '200': ok('Removed', result), ...refused },
    handle: async (ctx) => reply.json(await asProblem(() => ctx.services.packs.remove(actorOf(ctx), (ctx.body as { name: string }).name))),
  },
  {
    method: 'post',
    path: '/node-packs/disable',
    tag: 'packs',
    summary: "Switch a pack off without removing it: its types leave the palette; the flows using them are reported",
    access: 'pack:install',
    body: nameBody,
    responses: { '200': ok('Disabled', change), '404': refused['404'] },
    handle: async (ctx) => reply.json(await asProblem(() => ctx.services.packs.setEnabled(actorOf(ctx), (ctx.body as { name: string }).name, false))),
  },
  {
    method: 'post',
    path: '/node-packs/enable',
    tag: 'packs',
    summary: 'Switch a disabled pack on again',
    access: 'pack:install',
    body: nameBody,
    responses: { '200': ok('Enabled', change), '404': refused['404'] },
    handle: async (ctx) => reply.json(await asProblem(() => ctx.services.packs.setEnabled(actorOf(ctx), (ctx.body as { name: string }).name, true))),
  },
];
