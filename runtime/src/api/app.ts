/** REST API (/api/v1) and webhooks (/webhook/*): thin Express adapters over the runtime facade. */
import express, { type ErrorRequestHandler, type Request, type Response } from 'express';
import { ProblemError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import type { RunStatus } from '../storage/types.ts';
import { mountEditor } from './editor-static.ts';
import { openApiDocument } from './openapi.ts';
import { webhookHttp } from './webhook-http.ts';

const RUN_STATUSES: RunStatus[] = ['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'];

function sendProblem(res: Response, status: number, title: string, detail: string, extra: Record<string, unknown> = {}): void {
  res.status(status).type('application/problem+json').send(JSON.stringify({ type: 'about:blank', title, status, detail, ...extra }));
}

/** Parse an integer query/header value or fail with a 400 naming it. Absent is fine; present but empty is not. */
function optionalInteger(value: unknown, name: string, pointer: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(String(value).replace(/^W\/|"/g, ''));
  if (!Number.isInteger(parsed) || parsed < 0) throw new ProblemError(400, 'Invalid parameter', `${name} must be a non-negative integer`, [{ pointer, message: 'must be a non-negative integer' }]);
  return parsed;
}

/** Parse a boolean query flag: absent, 'true' or 'false'; anything else is a 400. */
function optionalBoolean(value: unknown, name: string): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new ProblemError(400, 'Invalid parameter', `${name} must be true or false`, [{ pointer: `/${name}`, message: 'must be true or false' }]);
}

export function createApp(runtime: Runtime): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const limit = runtime.config.bodyLimit;
  const api = express.Router();
  api.use(express.json({ limit, strict: false, type: ['application/json', 'application/*+json'] }));

  api.get('/health', (_req, res) => {
    res.json(runtime.health());
  });
  api.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  api.get('/node-types', (_req, res) => {
    res.json(runtime.nodeTypes());
  });
  api.get('/node-packs', (_req, res) => {
    res.json(runtime.registry.packs);
  });

  api.get('/flows', async (_req, res) => {
    res.json(await runtime.listFlows());
  });
  api.post('/flows', async (req, res) => {
    const flow = await runtime.createFlow(req.body);
    res.status(201).location(`/api/v1/flows/${encodeURIComponent(flow.id)}`).json(flow);
  });
  api.post('/flows/validate', (req, res) => {
    const result = runtime.validate(req.body);
    res.status(result.valid ? 200 : 422).json(result);
  });
  api.post('/flows/import', async (req, res) => {
    const result = await runtime.importFlows(req.body, { deploy: optionalBoolean(req.query.deploy, 'deploy'), replace: optionalBoolean(req.query.replace, 'replace') });
    res.status(201).json(result);
  });
  api.get('/flows/:id', async (req, res) => {
    const flow = await runtime.getFlow(req.params.id);
    res.set('ETag', `"${flow.version}"`).json(flow);
  });
  api.put('/flows/:id', async (req, res) => {
    const expected = optionalInteger(req.get('if-match'), 'If-Match', '/') ?? optionalInteger((req.body as { version?: unknown } | undefined)?.version, 'version', '/version');
    const flow = await runtime.updateFlow(req.params.id, req.body, expected);
    res.set('ETag', `"${flow.version}"`).json(flow);
  });
  api.delete('/flows/:id', async (req, res) => {
    await runtime.deleteFlow(req.params.id);
    res.status(204).end();
  });
  api.post('/flows/:id/deploy', async (req, res) => {
    res.json(await runtime.deployFlow(req.params.id));
  });
  api.post('/flows/:id/undeploy', async (req, res) => {
    res.json(await runtime.undeployFlow(req.params.id));
  });
  api.get('/flows/:id/export', async (req, res) => {
    const flow = await runtime.exportFlow(req.params.id);
    res.set('Content-Disposition', `attachment; filename="${flow.id}.flow.json"`).json(flow);
  });
  api.get('/flows/:id/debug', async (req, res) => {
    await runtime.getFlow(req.params.id); // 404 for an unknown flow
    res.json(runtime.debugLog.since(req.params.id, optionalInteger(req.query.after, 'after', '/after') ?? 0));
  });
  api.post('/flows/:id/runs', async (req, res) => {
    const body = (req.body ?? {}) as { input?: unknown; nodeId?: unknown };
    if (typeof body !== 'object' || Array.isArray(body)) throw new ProblemError(400, 'Invalid body', 'expected {"input": {...}, "nodeId"?: "..."}', [{ pointer: '/', message: 'must be an object' }]);
    const unknown = Object.keys(body).filter((k) => k !== 'input' && k !== 'nodeId');
    if (unknown.length > 0) throw new ProblemError(400, 'Invalid body', `unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; expected input and nodeId`, unknown.map((k) => ({ pointer: `/${k}`, message: 'is not a known property' })));
    if (body.nodeId !== undefined && typeof body.nodeId !== 'string') throw new ProblemError(400, 'Invalid body', 'nodeId must be a string', [{ pointer: '/nodeId', message: 'must be a string' }]);
    const { runId } = await runtime.startRun(req.params.id, body as { input?: Record<string, unknown>; nodeId?: string });
    res.status(202).location(`/api/v1/runs/${runId}`).json({ runId, status: 'accepted' });
  });

  api.get('/runs', async (req, res) => {
    const status = req.query.status as string | undefined;
    if (status !== undefined && !RUN_STATUSES.includes(status as RunStatus)) {
      throw new ProblemError(400, 'Invalid parameter', `status must be one of ${RUN_STATUSES.join(', ')}`, [{ pointer: '/status', message: 'unknown run status' }]);
    }
    const limit = optionalInteger(req.query.limit, 'limit', '/limit') ?? 50;
    if (limit > 500) throw new ProblemError(400, 'Invalid parameter', 'limit must be at most 500', [{ pointer: '/limit', message: 'must be <= 500' }]);
    const runs = await runtime.listRuns({
      flowId: typeof req.query.flowId === 'string' && req.query.flowId ? req.query.flowId : undefined,
      status: status as RunStatus | undefined,
      limit,
      before: typeof req.query.before === 'string' ? req.query.before : undefined,
    });
    res.json(runs);
  });
  api.get('/runs/:id', async (req, res) => {
    res.json(await runtime.getRun(req.params.id));
  });
  api.post('/runs/:id/rerun', async (req, res) => {
    const { runId } = await runtime.rerun(req.params.id);
    res.status(202).location(`/api/v1/runs/${runId}`).json({ runId, status: 'accepted' });
  });
  api.post('/runs/:id/cancel', async (req, res) => {
    res.json(await runtime.cancelRun(req.params.id));
  });

  api.get('/stats', async (req, res) => {
    const minutes = optionalInteger(req.query.minutes, 'minutes', '/minutes') ?? 60;
    if (minutes < 1 || minutes > 1440) throw new ProblemError(400, 'Invalid parameter', 'minutes must be between 1 and 1440', [{ pointer: '/minutes', message: 'out of range' }]);
    res.json(await runtime.stats(minutes));
  });

  api.get('/credentials', async (_req, res) => {
    res.json(await runtime.vault.list());
  });
  api.post('/credentials', async (req, res) => {
    const body = req.body as { name?: unknown; type?: unknown; fields?: unknown };
    const issues = [
      ...(typeof body?.name === 'string' && body.name ? [] : [{ pointer: '/name', message: 'is required' }]),
      ...(typeof body?.type === 'string' && body.type ? [] : [{ pointer: '/type', message: 'is required' }]),
      ...(body?.fields && typeof body.fields === 'object' && !Array.isArray(body.fields) ? [] : [{ pointer: '/fields', message: 'must be an object' }]),
    ];
    if (issues.length) throw new ProblemError(422, 'Invalid credential', 'the credential is incomplete', issues);
    res.status(201).json(await runtime.vault.save(body as { name: string; type: string; fields: Record<string, unknown> }));
  });
  api.delete('/credentials/:id', async (req, res) => {
    if (!(await runtime.vault.delete(req.params.id))) throw new ProblemError(404, 'Not Found', `credential "${req.params.id}" does not exist`);
    res.status(204).end();
  });

  // A known path with a method it does not support gets 405 and an Allow header, as HTTP says.
  const routes = Object.entries(openApiDocument().paths).map(([template, ops]) => ({
    pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
    allow: Object.keys(ops).filter((k) => k !== 'parameters').map((m) => m.toUpperCase()),
  }));
  api.use((req, res) => {
    const known = routes.find((r) => r.pattern.test(req.path));
    if (known) {
      res.set('Allow', known.allow.join(', '));
      return sendProblem(res, 405, 'Method Not Allowed', `${req.method} is not supported on ${req.path}; use ${known.allow.join(', ')}`);
    }
    sendProblem(res, 404, 'Not Found', `no API route ${req.method} ${req.originalUrl}`);
  });
  app.use('/api/v1', api);

  // Webhooks: authentication, strict content types and size limits per webhook (runtime/src/api/webhook-http.ts).
  app.use('/webhook', webhookHttp(runtime));
  mountEditor(app);

  const onError: ErrorRequestHandler = (error, req, res, _next) => {
    if (res.headersSent) return;
    if (error instanceof ProblemError) {
      return sendProblem(res, error.status, error.title, error.message, { ...(error.issues.length ? { errors: error.issues } : {}), ...error.extra });
    }
    const status = (error as { status?: number; statusCode?: number }).status ?? (error as { statusCode?: number }).statusCode;
    const type = (error as { type?: string }).type;
    if (type === 'entity.parse.failed') return sendProblem(res, 400, 'Malformed JSON', `the request body is not valid JSON: ${(error as Error).message}`, { errors: [{ pointer: '/', message: (error as Error).message }] });
    if (type === 'entity.too.large') return sendProblem(res, 413, 'Payload Too Large', `the request body exceeds the limit of ${limit}`);
    if (status && status >= 400 && status < 500) return sendProblem(res, status, 'Bad Request', (error as Error).message);
    runtime.log.error(`${req.method} ${req.originalUrl} failed: ${(error as Error).stack ?? String(error)}`);
    sendProblem(res, 500, 'Internal Server Error', (error as Error).message);
  };
  app.use(onError);
  return app;
}
