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
import type { RequestListener } from 'node:http';
import { withWebhookFastPath } from './webhook-fast-path.ts';
import { webhookHandler, webhookRouter } from './webhook-http.ts';

export interface AppParts {
  services: Services;
  identity: Identity;
  guards: HttpGuards;
  /** Prometheus metrics (null when FLOWCREW_METRICS=false): times every request, serves /metrics. */
  metrics?: RuntimeMetrics | null;
}

/** The app, and the server's request listener: the app behind the webhook fast path (webhook-fast-path.ts). */
export type FlowcrewApp = express.Express & { listener: RequestListener };

export function createApp(runtime: Runtime, { services, identity, guards, metrics }: AppParts): FlowcrewApp {
  const app = express();
  const log = moduleLogger(runtime.log, 'api');
  // Metrics first, so refused requests (Host check, rate limits) are timed too. The webhook fast path runs these same
  // guards, in this order.
  const front = [...(metrics ? [metrics.httpTimer] : []), guards.hostCheck, guards.helmet];
  app.disable('x-powered-by');
  app.set('etag', false);
  // Which X-Forwarded-* headers to believe (client IP for the audit log and rate limits, https for cookies).
  app.set('trust proxy', runtime.config.http.trustProxy);
  app.use(front);
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
  const webhooks = webhookHandler({ webhooks: runtime.webhooks, config: runtime.config, log: moduleLogger(runtime.log, 'webhook') });
  app.use('/webhook', guards.rateLimit.webhook, webhookRouter(webhooks));
  // config.editorDist (FLOWCREW_EDITOR_DIST): another build of the editor (bench/editor-canvas.ts compares two builds).
  mountEditor(app, runtime.config.editorDist);
  const onError = errorHandler(log, runtime.config.bodyLimit);
  app.use(onError);
  return Object.assign(app, { listener: withWebhookFastPath(app, { guards: [...front, guards.rateLimit.webhook], handler: webhooks, onError }) });
}
