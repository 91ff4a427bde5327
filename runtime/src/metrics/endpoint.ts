/**
 * GET /metrics, Prometheus' default path, outside /api/v1 (scrapers expect it there and speak no problem+json).
 * Who may read it: anyone when FLOWCREW_METRICS_PUBLIC=true (a scrape over a private network); else a bearer equal
 * to FLOWCREW_METRICS_TOKEN, which opens this endpoint and nothing else (what a Prometheus config should hold); else
 * an actor holding `metrics:read`, an instance-only permission: the series name every project's flows, which no
 * project role may see, so project API tokens (which cannot hold instance permissions) never read it.
 */
import type { RequestHandler } from 'express';
import type { Logger } from '@flowcrew/sdk';
import type { MetricsConfig } from '../config.ts';
import { ProblemError } from '../errors.ts';
import { can } from '../identity/actor.ts';
import { digest } from '../identity/admin-token.ts';
import { timingSafeEqual } from 'node:crypto';
import { sendProblem } from '../api/problem.ts';
import type { Authenticator } from '../api/router.ts';
import type { RuntimeMetrics } from './metrics.ts';

export function metricsEndpoint(metrics: RuntimeMetrics, options: { config: MetricsConfig; auth: Authenticator; log: Logger }): RequestHandler {
  const scrapeToken = options.config.token ? digest(options.config.token) : null;
  const bearer = (header: string | undefined) => (header && /^bearer\s+/i.test(header) ? header.replace(/^bearer\s+/i, '').trim() : undefined);

  return async (req, res) => {
    try {
      if (!options.config.public) {
        const presented = bearer(req.headers.authorization);
        // Digests of equal length, compared in constant time: neither the token nor its length leaks.
        const isScrapeToken = scrapeToken !== null && presented !== undefined && timingSafeEqual(digest(presented), scrapeToken);
        if (!isScrapeToken) {
          const actor = await options.auth.authenticate({ headers: req.headers, ip: req.ip, method: req.method });
          if (!actor) return sendProblem(res, 401, 'Unauthorized', 'metrics need FLOWCREW_METRICS_TOKEN or an instance admin as a bearer token (or FLOWCREW_METRICS_PUBLIC=true)');
          if (!can(actor, 'metrics:read')) return sendProblem(res, 403, 'Forbidden', 'this needs the metrics:read permission (instance admins) or FLOWCREW_METRICS_TOKEN');
        }
      }
      const text = await metrics.text();
      res.set('Cache-Control', 'no-store').type(metrics.contentType).send(text);
    } catch (error) {
      if (error instanceof ProblemError) return sendProblem(res, error.status, error.title, error.message);
      options.log.error(`GET /metrics failed: ${(error as Error).stack ?? String(error)}`);
      sendProblem(res, 500, 'Internal Server Error', 'metrics could not be collected; the runtime log has the details');
    }
  };
}
