/**
 * The HTTP app: guards first (Host allow-list, security headers, CORS, rate limits, Origin check), then the REST API
 * generated from the route table (router.ts: authentication, permission gate, CSRF, validation, services), the
 * webhooks (public unless a webhook asks for authentication: webhook-http.ts) and the editor.
 */
import express from 'express';
import type { HttpGuards } from '../identity/http-guards.ts';
import type { Identity } from '../identity/identity.ts';
import type { Runtime } from '../runtime.ts';
import type { Services } from '../services/index.ts';
import { bodyDepthGuard } from './body-guard.ts';
import { mountEditor } from './editor-static.ts';
import { errorHandler } from './problem.ts';
import { buildApiRouter } from './router.ts';
import { ROUTES } from './routes/index.ts';
import { componentSchemas } from './schemas.ts';
import { webhookHttp } from './webhook-http.ts';

export interface AppParts {
  services: Services;
  identity: Identity;
  guards: HttpGuards;
}

export function createApp(runtime: Runtime, { services, identity, guards }: AppParts): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Which X-Forwarded-* headers to believe (client IP for the audit log and rate limits, https for cookies).
  app.set('trust proxy', runtime.config.http.trustProxy);
  app.use(guards.hostCheck, guards.helmet);

  const api = buildApiRouter(
    {
      routes: ROUTES,
      services,
      auth: identity,
      bodyLimit: runtime.config.bodyLimit,
      bodyGuard: bodyDepthGuard(runtime.config.maxDepth),
      loginLimit: guards.rateLimit.login,
    },
    componentSchemas,
  );
  app.use('/api/v1', guards.cors, guards.rateLimit.api, guards.originCheck, api);

  // Webhooks: authentication, strict content types and size limits per webhook (runtime/src/api/webhook-http.ts).
  app.use('/webhook', guards.rateLimit.webhook, webhookHttp(runtime));
  mountEditor(app);
  app.use(errorHandler(runtime.log, runtime.config.bodyLimit));
  return app;
}
