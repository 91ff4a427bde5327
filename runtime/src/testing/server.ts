/** Test helpers: a real runtime server on an ephemeral port with a throwaway data directory. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type RuntimeConfig } from '../config.ts';
import { startServer, type RunningServer } from '../server.ts';

export interface TestServer extends RunningServer {
  dataDir: string;
  api<T = any>(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T; headers: Headers }>;
  /** Poll a run until it reaches a final state. */
  waitRun(runId: string, timeoutMs?: number): Promise<any>;
  stop(): Promise<void>;
}

export async function startTestServer(overrides: Partial<RuntimeConfig> = {}, options: { loadExamples?: boolean } = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'flowcrew-test-')));
  const config = loadConfig({ ...process.env, DATABASE_URL: '' }, { port: 0, dataDir, logLevel: 'error', ...overrides });
  const server = await startServer(config, { loadExamples: options.loadExamples ?? false });
  const api: TestServer['api'] = async (method, url, body, headers = {}) => {
    const res = await fetch(server.url + url, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed as any, headers: res.headers };
  };
  return {
    ...server,
    dataDir,
    api,
    async waitRun(runId, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { body } = await api('GET', `/api/v1/runs/${runId}`);
        if (body && ['succeeded', 'failed', 'cancelled'].includes(body.status)) return body;
        if (Date.now() > deadline) throw new Error(`run ${runId} still ${body?.status} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      await server.close();
      if (!overrides.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
