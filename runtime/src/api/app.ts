/**
 * The HTTP app: guards first (Host allow-list, security headers, CORS, rate limits, Origin check), then the REST API
 * generated from the route table (router.ts: authentication, permission gate, CSRF, validation, services), the
 * webhooks (public unless a webhook asks for authentication: webhook-http.ts) and the editor.
 */
import express from 'express';
import type { HttpGuards } from '../identity/http-guards.ts';
import type { Identity } from '../identity/identity.ts';
import type { Runtime } from '../runtime.ts';
import { moduleLogger } from '../logging/logger.ts';
import { metricsEndpoint } from '../metrics/endpoint.ts';
import type { RuntimeMetrics } from '../metrics/metrics.ts';
import type { Services } from '../services/index.ts';
import { bodyDepthGuard } from './body-guard.ts';
import { mountEditor } from './editor-static.ts';
import { errorHandler, sendProblem } from './problem.ts';
import { buildApiRouter } from './router.ts';
import { ROUTES } from './routes/index.ts';
import { componentSchemas } from './schemas.ts';
import { webhookHttp } from './webhook-http.ts';

export interface AppParts {
  services: Services;
  identity: Identity;
  guards: HttpGuards;
  /** Prometheus metrics (null when FLOWCREW_METRICS=false): times every request, serves /metrics. */
  metrics?: RuntimeMetrics | null;
}

export function createApp(runtime: Runtime, { services, identity, guards, metrics }: AppParts): express.Express {
  const app = express();
  const log = moduleLogger(runtime.log, 'api');
  // First, so refused requests (Host check, rate limits) are timed too.
  if (metrics) app.use(metrics.httpTimer);
  app.disable('x-powered-by');
  app.set('etag', false);
  // Which X-Forwarded-* headers to believe (client IP for the audit log and rate limits, https for cookies).
  app.set('trust proxy', runtime.config.http.trustProxy);
  app.use(guards.hostCheck, guards.helmet);
  if (metrics) app.get('/metrics', metricsEndpoint(metrics, { config: runtime.config.metrics ?? { enabled: true, public: false }, auth: identity, log: moduleLogger(runtime.log, 'metrics') }));
  else app.get('/metrics', (_req, res) => sendProblem(res, 404, 'Not Found', 'metrics are off (FLOWCREW_METRICS=false)'));

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
  app.use('/webhook', guards.rateLimit.webhook, webhookHttp({ webhooks: runtime.webhooks, config: runtime.config, log: moduleLogger(runtime.log, 'webhook') }));
  mountEditor(app);
  app.use(errorHandler(log, runtime.config.bodyLimit));
  return app;
}
