/** Pinned node outputs of a flow (the editor's test data) and manual runs that use them. */
import { actorOf, ok, problem, reply, strictObject, type Route } from '../api/route-table.ts';
import type { PinnedOutput } from '../flowtest/pins.ts';
import type { FlowMessage } from '@flowcrew/sdk';

const params = { id: 'Flow id', nodeId: 'Node id' };
const pinSchema = strictObject({
  outputs: { type: 'array', items: strictObject({ port: { type: 'integer', minimum: 0 }, msg: { type: 'object' } }, ['msg']) },
  error: { type: 'string' },
  merge: { type: 'boolean' },
});

export const pinRoutes: Route[] = [
  {
    method: 'get',
    path: '/flows/{id}/pins',
    tag: 'pins',
    summary: 'Pinned node outputs of a flow (used by manual runs instead of calling the node)',
    access: 'flow:read',
    params: { id: params.id },
    responses: { '200': ok('Pins, one per node', { type: 'array', items: { type: 'object' } }), '404': problem('No such flow, or not one you may see') },
    handle: async (ctx) => reply.json(await ctx.services.pins.list(actorOf(ctx), ctx.params.id!)),
  },
  {
    method: 'put',
    path: '/flows/{id}/pins/{nodeId}',
    tag: 'pins',
    summary: "Pin a node's output: the messages it sends per input ({port, msg}), or an error it fails with",
    access: 'flow:write',
    params,
    body: { schema: pinSchema },
    responses: { '200': ok('The pin', { type: 'object' }), '400': problem('Malformed pin'), '404': problem('No such flow'), '413': problem('Pin too large') },
    handle: async (ctx) => reply.json(await ctx.services.pins.set(actorOf(ctx), ctx.params.id!, ctx.params.nodeId!, ctx.body as PinnedOutput)),
  },
  {
    method: 'delete',
    path: '/flows/{id}/pins/{nodeId}',
    tag: 'pins',
    summary: "Unpin a node: manual runs call it again",
    access: 'flow:write',
    params,
    responses: { '204': ok('Unpinned'), '404': problem('No such flow or pin') },
    handle: async (ctx) => {
      await ctx.services.pins.remove(actorOf(ctx), ctx.params.id!, ctx.params.nodeId!);
      return reply.noContent();
    },
  },
  {
    method: 'post',
    path: '/flows/{id}/pinned-runs',
    tag: 'pins',
    summary: 'Run the flow (saved, or the working copy sent) by hand with its pinned outputs, in an isolated deployment; answers when the run ends',
    access: 'run:start',
    params: { id: params.id },
    body: {
      schema: strictObject({
        input: { type: 'object' },
        nodeId: { type: 'string' },
        flow: { type: 'object', description: "The editor's unsaved working copy to run instead of the saved flow (needs flow:write; checked as a save)" },
        liveSocket: { type: 'string', maxLength: 100, description: "The caller's Socket.IO connection id: the run's live events (node states, status, debug; marked test) go there while it runs" },
      }),
    },
    responses: {
      '200': ok('The run, its invocations, and which pins were used', { type: 'object' }),
      '403': problem('A working copy was sent by someone who may not edit the flow'),
      '404': problem('No such flow'),
      '422': problem('No entry node, the working copy is invalid, or the flow cannot be deployed'),
    },
    handle: async (ctx) => {
      const { flow, ...body } = (ctx.body ?? {}) as { input?: FlowMessage; nodeId?: string; liveSocket?: string; flow?: unknown };
      const actor = actorOf(ctx);
      // The working copy is checked where saves are checked (permission, validity, credentials of its project).
      const draft = flow === undefined ? undefined : await ctx.services.flows.checkDraft(actor, ctx.params.id!, flow);
      return reply.json(await ctx.services.pins.run(actor, ctx.params.id!, body, draft));
    },
  },
];
