/** Starts the HTTP server (REST API, webhooks, Socket.IO) over a runtime. */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server as IoServer } from 'socket.io';
import { watchAccepts } from './accept-burst.ts';
import { createApp } from './api/app.ts';
import { appClasses } from './api/webhook-fast-path.ts';
import type { RuntimeConfig } from './config.ts';
import { httpGuards } from './identity/http-guards.ts';
import { Identity } from './identity/identity.ts';
import { attachLive } from './live/live.ts';
import { Runtime } from './runtime.ts';
import type { Logger } from '@flowcrew/sdk';
import { moduleLogger } from './logging/logger.ts';
import { RuntimeMetrics } from './metrics/metrics.ts';
import { Services } from './services/index.ts';

export interface RunningServer {
  runtime: Runtime;
  identity: Identity;
  /** What every adapter goes through: each method takes the acting Actor and checks its permission. */
  services: Services;
  /** Prometheus metrics; null when FLOWCREW_METRICS=false. */
  metrics: RuntimeMetrics | null;
  http: HttpServer;
  io: IoServer;
  url: string;
  close(): Promise<void>;
}

export interface ServerOptions {
  loadExamples?: boolean;
  /** How often Socket.IO connections are re-authenticated (default 30 s; tests shorten it). */
  liveRecheckMs?: number;
  /** The logger (default: pino on stderr as configured); tests hand in one that collects lines. */
  log?: Logger;
}

export async function startServer(config: RuntimeConfig, options: ServerOptions = {}): Promise<RunningServer> {
  const runtime = await Runtime.create(config, options);
  const identity = await Identity.open(runtime.storage, config, moduleLogger(runtime.log, 'identity'));
  const services = new Services(runtime, identity);
  const guards = httpGuards(config, identity, { log: moduleLogger(runtime.log, 'api') });
  const metrics = config.metrics?.enabled === false ? null : RuntimeMetrics.attach(runtime);
  const app = createApp(runtime, { services, identity, guards, metrics });
  // The app behind the webhook fast path (api/webhook-fast-path.ts).
  const http = createServer(appClasses(app), app.listener);
  // Keep-alive longer than typical proxies/load generators so connections are reused.
  http.keepAliveTimeout = 65_000;
  // A burst of new connections keeps the executor's turns short until all are accepted (accept-burst.ts).
  const unwatchAccepts = watchAccepts(http);
  const io = attachLive(http, runtime, services, identity, { recheckMs: options.liveRecheckMs });
  // WebSocket endpoints of nodes (Node-RED's websocket listener) live under /webhook; Socket.IO keeps /socket.io.
  http.on('upgrade', (request, socket, head) => {
    if (runtime.websockets.handles(request)) runtime.websockets.upgrade(request, socket, head);
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  // Only now that the server answers: a run that stalls or crashes the runtime cannot keep it from starting, and after
  // FLOWCREW_MAX_INTERRUPTIONS crashes on the same node invocation it is failed instead of replayed again.
  try {
    await runtime.resumeRuns();
  } catch (error) {
    runtime.log.error(`interrupted runs could not be resumed: ${(error as Error).message}`);
  }
  let closed = false;
  return {
    runtime,
    identity,
    services,
    metrics,
    http,
    io,
    url,
    async close() {
      if (closed) return;
      closed = true;
      unwatchAccepts();
      await new Promise<void>((resolve) => {
        void io.close(() => resolve());
        http.closeAllConnections();
      });
      identity.close();
      metrics?.detach();
      await runtime.close();
    },
  };
}
