/**
 * A worker's small HTTP port (FLOWCREW_WORKER_PORT, default 8421; a worker serves no API): liveness and readiness for
 * the orchestrator's probes, and /metrics for Prometheus (the runs and node durations of queue mode are counted on
 * the workers that execute them). Readiness is the mains' check (services/operations.ts: storage, flows, resume,
 * Redis), without error details: this port has no sign-in. /metrics needs FLOWCREW_METRICS_TOKEN as a bearer, or
 * FLOWCREW_METRICS_PUBLIC=true, like a main's for a scraper.
 */
import { createServer, type Server } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { digest } from '../identity/admin-token.ts';
import { RuntimeMetrics } from '../metrics/metrics.ts';
import type { Runtime } from '../runtime.ts';
import { OperationsService } from '../services/operations.ts';

export interface WorkerHealth {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export async function startWorkerHealth(runtime: Runtime, port: number, host: string): Promise<WorkerHealth> {
  const operations = new OperationsService(runtime);
  const config = runtime.config.metrics;
  const metrics = config?.enabled === false ? null : RuntimeMetrics.attach(runtime);
  const scrapeToken = config?.token ? digest(config.token) : null;
  const json = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
  };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return json(res, 405, { error: 'only GET' });
    if (path === '/health/live') return json(res, 200, operations.live());
    if (path === '/health/ready') {
      void operations.ready(null).then(
        (readiness) => json(res, readiness.status === 'ready' ? 200 : 503, readiness),
        () => json(res, 503, { status: 'not ready' }),
      );
      return;
    }
    if (path === '/metrics' && metrics) {
      const presented = /^bearer\s+/i.test(req.headers.authorization ?? '') ? req.headers.authorization!.replace(/^bearer\s+/i, '').trim() : undefined;
      const allowed = config?.public || (scrapeToken !== null && presented !== undefined && timingSafeEqual(digest(presented), scrapeToken));
      if (!allowed) return json(res, 401, { error: 'metrics need FLOWCREW_METRICS_TOKEN as a bearer token (or FLOWCREW_METRICS_PUBLIC=true)' });
      void metrics.text().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' }).end(text),
        (error: unknown) => json(res, 500, { error: `metrics could not be collected: ${(error as Error).message}` }),
      );
      return;
    }
    json(res, 404, { error: 'a worker serves /health/live, /health/ready and /metrics only' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new Error(`worker health port ${host}:${port}: ${error.code === 'EADDRINUSE' ? 'already in use (set FLOWCREW_WORKER_PORT)' : error.message}`)));
    server.listen(port, host, resolve);
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: async () => {
      metrics?.detach();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
