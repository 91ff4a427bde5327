/** Questions runs wait on (human in the loop): list, read, answer, hand out a signed link; answer through a link. */
import { actorOf, arrayOf, ok, problem, reply, strictObject, type JsonSchema, type Route } from '../route-table.ts';

const waitId = { id: 'Question id (<invocation id>:<key>)' };
const linkToken = { token: 'The signed link token' };

const WAIT: JsonSchema = {
  type: 'object',
  required: ['id', 'runId', 'flowId', 'nodeId', 'projectId', 'status', 'title', 'schema', 'mayAnswer'],
  properties: {
    id: { type: 'string' },
    runId: { type: 'string' },
    flowId: { type: 'string' },
    nodeId: { type: 'string' },
    projectId: { type: 'string' },
    status: { enum: ['open', 'answered', 'timed_out', 'cancelled'] },
    title: { type: 'string' },
    message: { type: 'string' },
    context: {},
    schema: { type: 'object', description: 'JSON Schema of the answer' },
    assignees: { type: 'object', properties: { users: arrayOf({ type: 'string' }), roles: arrayOf({ type: 'string' }) } },
    createdAt: { type: 'integer' },
    expiresAt: { type: ['integer', 'null'] },
    escalatedAt: { type: ['integer', 'null'] },
    answer: {},
    answeredBy: { type: ['string', 'null'] },
    answeredVia: { type: ['string', 'null'] },
    answeredAt: { type: ['integer', 'null'] },
    mayAnswer: { type: 'boolean' },
  },
};
const ANSWER_BODY = strictObject({ answer: { description: 'Must match the question\'s schema' } }, ['answer']);
const LINK: JsonSchema = { type: 'object', required: ['url', 'token', 'expiresAt'], properties: { url: { type: 'string' }, token: { type: 'string' }, expiresAt: { type: 'integer' } } };
const answerResponses = {
  '200': ok('Answered; the run resumes', WAIT),
  '409': problem('Already answered, timed out or cancelled (a question is answered once)'),
  '422': problem('The answer does not match the question\'s schema'),
};

export const waitRoutes: Route[] = [
  {
    method: 'get',
    path: '/waits',
    tag: 'waits',
    summary: 'Open questions runs wait on, in the projects where you read runs (all of one run\'s with runId)',
    access: 'run:read',
    query: { runId: { schema: { type: 'string' } } },
    responses: { '200': ok('Questions', arrayOf(WAIT)) },
    handle: async (ctx) => reply.json(await ctx.services.waits.list(actorOf(ctx), { runId: (ctx.query.runId as string | undefined) || undefined })),
  },
  {
    method: 'get',
    path: '/waits/link/{token}',
    tag: 'waits',
    summary: 'The question a signed link answers (no account needed)',
    access: 'public',
    params: linkToken,
    responses: { '200': ok('Question', WAIT), '401': problem('Not a valid link'), '410': problem('Link expired') },
    handle: async (ctx) => reply.json(await ctx.services.waits.byLink(ctx.params.token!)),
  },
  {
    method: 'post',
    path: '/waits/link/{token}/answer',
    tag: 'waits',
    summary: 'Answer through a signed link (single use: the question closes)',
    access: 'public',
    params: linkToken,
    body: { schema: ANSWER_BODY, required: true },
    responses: { ...answerResponses, '401': problem('Not a valid link'), '410': problem('Link expired') },
    handle: async (ctx) => reply.json(await ctx.services.waits.answerByLink(ctx.params.token!, (ctx.body as { answer: unknown }).answer, ctx.ip)),
  },
  {
    method: 'get',
    path: '/waits/{id}',
    tag: 'waits',
    summary: 'One question',
    access: 'run:read',
    params: waitId,
    responses: { '200': ok('Question', WAIT) },
    handle: async (ctx) => reply.json(await ctx.services.waits.get(actorOf(ctx), ctx.params.id!)),
  },
  {
    method: 'post',
    path: '/waits/{id}/answer',
    tag: 'waits',
    summary: 'Answer a question (run:start in its project, and one of its assignees when it names some); the run resumes',
    access: 'run:start',
    params: waitId,
    body: { schema: ANSWER_BODY, required: true },
    responses: { ...answerResponses, '403': problem('Not one of the question\'s assignees') },
    handle: async (ctx) => reply.json(await ctx.services.waits.answer(actorOf(ctx), ctx.params.id!, (ctx.body as { answer: unknown }).answer)),
  },
  {
    method: 'post',
    path: '/waits/{id}/link',
    tag: 'waits',
    summary: 'A signed, single-use link answering the question without an account (expires with the question, or in 7 days)',
    access: 'run:start',
    params: waitId,
    responses: { '200': ok('Link', LINK), '409': problem('The question is closed') },
    handle: async (ctx) => reply.json(await ctx.services.waits.link(actorOf(ctx), ctx.params.id!)),
  },
];
