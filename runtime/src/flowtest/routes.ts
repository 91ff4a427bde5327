/** Flow tests kept with a flow (the editor's test panel) and test runs in isolated sandboxes. */
import { actorOf, ok, problem, reply, strictObject, type Route } from '../api/route-table.ts';

const params = { id: 'Flow id' };
const object = { type: 'object' };

export const flowTestRoutes: Route[] = [
  {
    method: 'get',
    path: '/flows/{id}/tests',
    tag: 'flow tests',
    summary: "The flow's test suite (cases: input at a trigger or any node, mocks, assertions); empty when none was saved",
    access: 'flow:read',
    params,
    responses: { '200': ok('The suite, when and by whom it was saved', object), '404': problem('No such flow, or not one you may see') },
    handle: async (ctx) => reply.json(await ctx.services.flowTests.get(actorOf(ctx), ctx.params.id!)),
  },
  {
    method: 'put',
    path: '/flows/{id}/tests',
    tag: 'flow tests',
    summary: "Save the flow's test suite: as data (the test file format, without flow/flowFile) or as text { source } (YAML or JSON, kept as typed); problems answer 422 with pointers (and line/column for text)",
    access: 'flow:write',
    params,
    // The suite's own checks (parseSuite) give pointers per case and assertion.
    body: { schema: object, validate: false },
    responses: { '200': ok('The saved suite', object), '404': problem('No such flow'), '413': problem('Suite too large'), '422': problem('The suite has problems') },
    handle: async (ctx) => reply.json(await ctx.services.flowTests.set(actorOf(ctx), ctx.params.id!, ctx.body)),
  },
  {
    method: 'post',
    path: '/flows/{id}/tests/run',
    tag: 'flow tests',
    summary: 'Run the saved suite (or the one in the body: suite as data, source as YAML/JSON text) against the saved flow in isolated sandboxes; answers per case with node marks',
    access: 'run:start',
    params,
    body: { schema: strictObject({ suite: object, source: { type: 'string' }, case: { type: 'string', minLength: 1 } }) },
    responses: { '200': ok('Results per case: passed, assertions, run status, per-node marks', object), '404': problem('No such flow'), '422': problem('No test cases, or the suite has problems') },
    handle: async (ctx) => reply.json(await ctx.services.flowTests.run(actorOf(ctx), ctx.params.id!, (ctx.body ?? {}) as { suite?: unknown; source?: string; case?: string })),
  },
];
