/**
 * The /webhook/* HTTP endpoint: match the route a trigger node registered, then, in this order, authenticate what
 * the headers allow (401), check the declared content type (415) and the size (413), read the raw body, verify an
 * HMAC signature over it (401), parse it strictly as its type (400), and only then start the run. A raw route
 * (WebhookRoute.raw) skips the type check and the parsing: the run gets the bytes.
 * ONE handler per app (its replay memory must be shared): the app mounts it (`webhookRouter`) and the server's
 * fast path (webhook-fast-path.ts) calls the same instance. It sees the path below /webhook in `req.path`.
 */
import express, { type Request, type Response } from 'express';
import bytes from 'bytes';
import { WEBHOOK_DEFAULT_ACCEPT, type TriggerReply, type WebhookFile, type WebhookRoute } from '@flowcrew/sdk';
import { ProblemError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import { checkBodyDepth } from './body-guard.ts';
import { declaredType, hasBody, mayBeTooDeep, parseBody, readBody } from './webhook-body.ts';
import { WebhookGuard, type WebhookGuardOptions } from './webhook-guard.ts';

function sendProblem(res: Response, status: number, title: string, detail: string, extra: Record<string, unknown> = {}): void {
  res.status(status).type('application/problem+json').send(JSON.stringify({ type: 'about:blank', title, status, detail, ...extra }));
}

/** The raw body of a request without one (read-only: nothing writes into a webhook's raw body). */
const EMPTY = Buffer.alloc(0);

export type WebhookHandler = (req: Request, res: Response) => Promise<void>;

/**
 * The run's reply, as Express's res.status / res.set / res.send / res.json write it. The common reply (a string or a
 * JSON value, no Content-Type or Transfer-Encoding of its own, to a request other than GET or HEAD, a status with a
 * body) is written here directly with the same headers in the same order and the same bytes: Express's send parses
 * and re-formats the Content-Type twice, looks up settings and tests freshness, ~2 % of a webhook request's CPU
 * (profile, session 11). Everything else (Buffers, a Content-Type of the flow's own, GET/HEAD freshness, 204/205/304,
 * JSON settings changed on the app) goes through Express as before.
 */
export function sendReply(req: Request, res: Response, reply: TriggerReply): void {
  res.status(reply.status ?? 200);
  const headers = reply.headers;
  if (headers) for (const name of Object.keys(headers)) res.set(name, String(headers[name]));
  const out = reply.body;
  if (out === undefined || out === null) {
    res.end();
    return;
  }
  if (typeof out === 'string') {
    if (!direct(req, res)) res.send(out);
    else write(res, 'text/html; charset=utf-8', out);
    return;
  }
  if (Buffer.isBuffer(out)) {
    res.send(out);
    return;
  }
  const settings = req.app.settings as Record<string, unknown>;
  const plain = !ArrayBuffer.isView(out) && !settings['json escape'] && !settings['json replacer'] && !settings['json spaces'];
  const json = plain && direct(req, res) ? JSON.stringify(out) : undefined;
  if (typeof json === 'string') write(res, 'application/json; charset=utf-8', json);
  else res.json(out);
}

/** Whether Express's send would only set Content-Type and Content-Length and end (see sendReply). */
function direct(req: Request, res: Response): boolean {
  const status = res.statusCode;
  return (
    status >= 200 &&
    status !== 204 &&
    status !== 205 &&
    status !== 304 &&
    req.method !== 'GET' &&
    req.method !== 'HEAD' &&
    !res.hasHeader('content-type') &&
    !res.hasHeader('transfer-encoding') &&
    !res.hasHeader('etag') &&
    !(req.app.settings as Record<string, unknown>)['etag fn']
  );
}

function write(res: Response, contentType: string, body: string): void {
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', String(Buffer.byteLength(body, 'utf8')));
  res.end(body, 'utf8');
}

/** The Express mount of the handler (requests the fast path leaves to the app, e.g. /WEBHOOK/... in other letter case). */
export function webhookRouter(handler: WebhookHandler): express.Router {
  const router = express.Router();
  router.all('/{*path}', handler);
  return router;
}

/** Handler and router in one (tests and callers without a fast path). */
export function webhookHttp(runtime: Pick<Runtime, 'webhooks' | 'config' | 'log'>, options: WebhookGuardOptions = {}): express.Router {
  return webhookRouter(webhookHandler(runtime, options));
}

/** 401 for a request whose authentication failed; which check failed goes to the log, never to the caller. */
function refuseAuth(runtime: Pick<Runtime, 'log'>, req: Request, res: Response, route: WebhookRoute, reason: string): void {
  runtime.log.warn(`webhook ${req.method} /webhook${req.path}: authentication failed from ${req.ip ?? 'unknown'}: ${reason}`);
  if (route.auth?.type === 'basic') res.set('WWW-Authenticate', 'Basic realm="flowcrew webhook", charset="UTF-8"');
  sendProblem(res, 401, 'Unauthorized', 'this webhook requires authentication');
}

export function webhookHandler(runtime: Pick<Runtime, 'webhooks' | 'config' | 'log'>, options: WebhookGuardOptions = {}): WebhookHandler {
  const runtimeLimit = bytes.parse(runtime.config.bodyLimit);
  if (runtimeLimit === null || !Number.isFinite(runtimeLimit)) throw new Error(`FLOWCREW_BODY_LIMIT is not a size (got "${runtime.config.bodyLimit}")`);
  const guard = new WebhookGuard(options);

  return async (req: Request, res: Response): Promise<void> => {
    const match = runtime.webhooks.match(req.method, req.path);
    if (!match) return sendProblem(res, 404, 'Not Found', `no deployed webhook at ${req.method} /webhook${req.path}`);
    if ('methodNotAllowed' in match) return sendProblem(res, 405, 'Method Not Allowed', `the webhook at /webhook${req.path} does not accept ${req.method}`);
    const { route, params } = match;
    res.locals.webhookRoute = `/webhook${route.path}`; // the metrics' handler label: the registered path, not the URL
    try {
      const early = guard.beforeBody(route.auth, req.headers);
      if (early) return refuseAuth(runtime, req, res, route, early);
      let raw: Buffer = EMPTY;
      let body: unknown;
      let files: WebhookFile[] | undefined;
      const limit = Math.min(route.maxBodyBytes ?? runtimeLimit, runtimeLimit);
      // A raw route (Node-RED's skipBodyParsing) takes the bytes of any type and parses nothing.
      const withBody = hasBody(req);
      const type = withBody && !route.raw ? declaredType(req, route.accept ?? WEBHOOK_DEFAULT_ACCEPT) : undefined;
      if (type || (route.raw && withBody)) raw = await readBody(req, limit);
      const late = route.auth?.type === 'hmac' ? guard.afterBody(route.auth, req.headers, raw, `${route.method} ${route.path}`) : null;
      if (late) return refuseAuth(runtime, req, res, route, late);
      if (type) {
        const parsed = parseBody(type, raw, limit);
        ({ body, files } = parsed instanceof Promise ? await parsed : parsed);
      }
      // A JSON body whose text is not too deep is not (no walk of the parsed value per request).
      if (type && mayBeTooDeep(type, raw, runtime.config.maxDepth)) {
        const tooDeep = checkBodyDepth(body, runtime.config.maxDepth);
        if (tooDeep) throw tooDeep;
      }

      const reply = await route.handle({
        method: req.method,
        path: req.path,
        params,
        query: req.query as Record<string, unknown>,
        headers: req.headers,
        body,
        rawBody: raw,
        ...(files ? { files } : {}),
      });
      sendReply(req, res, reply);
    } catch (error) {
      if (res.headersSent) return;
      if (error instanceof ProblemError) {
        if (error.status === 415) res.set('Accept-Post', (route.accept ?? WEBHOOK_DEFAULT_ACCEPT).join(', '));
        return sendProblem(res, error.status, error.title, error.message, { ...(error.issues.length ? { errors: error.issues } : {}), ...error.extra });
      }
      runtime.log.error(`webhook ${req.method} /webhook${req.path} failed: ${(error as Error).stack ?? String(error)}`);
      sendProblem(res, 500, 'Internal Server Error', 'the webhook failed unexpectedly; the runtime log has the details');
    }
  };
}
