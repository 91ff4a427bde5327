/** Starts the HTTP server (REST API, webhooks, Socket.IO) over a runtime. */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server as IoServer } from 'socket.io';
import { createApp } from './api/app.ts';
import type { RuntimeConfig } from './config.ts';
import { attachLive } from './live/live.ts';
import { Runtime } from './runtime.ts';

export interface RunningServer {
  runtime: Runtime;
  http: HttpServer;
  io: IoServer;
  url: string;
  close(): Promise<void>;
}

export async function startServer(config: RuntimeConfig, options: { loadExamples?: boolean } = {}): Promise<RunningServer> {
  const runtime = await Runtime.create(config, options);
  const app = createApp(runtime);
  const http = createServer(app);
  // Keep-alive longer than typical proxies/load generators so connections are reused.
  http.keepAliveTimeout = 65_000;
  const io = attachLive(http, runtime);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  let closed = false;
  return {
    runtime,
    http,
    io,
    url,
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => {
        void io.close(() => resolve());
        http.closeAllConnections();
      });
      await runtime.close();
    },
  };
}
