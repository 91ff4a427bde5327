/**
 * The server's request listener with a fast path for webhooks: a request under /webhook/ goes straight to the one
 * webhook handler (webhook-http.ts) through the same guard functions the app mounts for it, in the same order
 * (metrics timer, Host check, security headers, webhook rate limit; webhooks have no CORS and no API
 * authentication), without Express's router walking its layers for every request (~12 % of a webhook request's CPU
 * in a profile). Everything else goes to the app, and so does any webhook URL this prefix test does not take (other
 * letter case, `/webhook` alone): the app still mounts the same handler, so both ways answer alike.
 */
import { IncomingMessage, ServerResponse, type RequestListener } from 'node:http';
import type { ErrorRequestHandler, Express, NextFunction, Request, RequestHandler, Response } from 'express';
import type { WebhookHandler } from './webhook-http.ts';

const PREFIX = '/webhook/';

export interface WebhookFastPath {
  /** Guards, in order, as the app mounts them for /webhook. */
  guards: readonly RequestHandler[];
  handler: WebhookHandler;
  /** What the app does with an error a guard passes on (its last error handler). */
  onError: ErrorRequestHandler;
}

/**
 * Request and response classes for `http.createServer` whose instances are born with the app's prototypes (Express's
 * req.ip, res.status, ...), so the fast path need not change each request's prototype: `Object.setPrototypeOf` on
 * every request and response was 1.9 % of the server's CPU under load (profile, session 9), and an object whose
 * prototype changed after it was made is slower to use for V8 afterwards. Express's own router still sets the same
 * prototypes on the requests it takes (harmless: they are already in the chain).
 */
export function appClasses(app: Express): { IncomingMessage: typeof IncomingMessage; ServerResponse: typeof ServerResponse } {
  class AppRequest extends IncomingMessage {}
  Object.setPrototypeOf(AppRequest.prototype, app.request);
  class AppResponse extends ServerResponse {}
  Object.setPrototypeOf(AppResponse.prototype, app.response);
  return { IncomingMessage: AppRequest, ServerResponse: AppResponse as typeof ServerResponse };
}

export function withWebhookFastPath(app: Express, fast: WebhookFastPath): RequestListener {
  const { guards, handler, onError } = fast;
  return (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const url = incoming.url ?? '';
    if (!url.startsWith(PREFIX)) {
      app(incoming, outgoing);
      return;
    }
    // What Express's app.handle does before routing (express/lib/application.js): its request and response methods
    // (req.ip with the trust-proxy setting, res.status, ...) for the guards, which are written as Express middleware.
    // A server made with appClasses has them already.
    const req = (app.request.isPrototypeOf(incoming) ? incoming : Object.setPrototypeOf(incoming, app.request)) as Request;
    const res = (app.response.isPrototypeOf(outgoing) ? outgoing : Object.setPrototypeOf(outgoing, app.response)) as Response;
    req.res = res;
    res.req = req;
    res.locals = Object.create(null) as Response['locals'];
    // What the app's mount at /webhook does: the handler and its route matching see the path below /webhook.
    req.originalUrl = url;
    req.baseUrl = '/webhook';
    req.url = url.slice(PREFIX.length - 1);
    let next = 0;
    const failed = (error: unknown) => onError(error, req, res, () => {});
    const proceed: NextFunction = (error?: unknown) => {
      if (error !== undefined && error !== null && error !== 'route' && error !== 'router') return failed(error);
      const guard = guards[next++];
      if (!guard) {
        handler(req, res).catch(failed);
        return;
      }
      try {
        // A guard may be async (the rate limiter): its rejection is an error like a thrown one.
        const result = guard(req, res, proceed) as unknown;
        if (result instanceof Promise) result.catch(failed);
      } catch (error) {
        failed(error);
      }
    };
    proceed();
  };
}
