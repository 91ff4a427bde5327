/** The editor's remote choices for a node's form (see service.ts). */
import { actorOf, arrayOf, ok, problem, reply, strictObject, type Route } from '../api/route-table.ts';

export const nodeOptionRoutes: Route[] = [
  {
    method: 'post',
    path: '/node-types/{type}/options/{source}',
    tag: 'packs',
    summary: "A node's dynamic choices for the editor's form (e.g. a GraphQL endpoint's operations, a WSDL's operations), fetched with the node's credential",
    access: 'flow:write',
    params: { type: 'Node type', source: 'Option source (the x-optionsSource of a prop)' },
    body: {
      schema: strictObject({
        props: { type: 'object', description: 'The props as the form has them now' },
        credentials: { type: 'string', description: 'The credential attached to the node' },
      }),
      required: false,
    },
    responses: {
      '200': ok('The choices', { type: 'object', required: ['options'], properties: { options: arrayOf({ type: 'object', required: ['value'], properties: { value: { type: 'string' }, label: { type: 'string' }, description: { type: 'string' } } }) } }),
      '404': problem('No such node type, option source or credential'),
      '422': problem('The source could not answer (what it said, without secrets)'),
    },
    handle: async (ctx) => {
      const body = (ctx.body ?? {}) as { props?: Record<string, unknown>; credentials?: string };
      return reply.json({ options: await ctx.services.nodeOptions.options(actorOf(ctx), ctx.params.type!, ctx.params.source!, body) });
    },
  },
];
