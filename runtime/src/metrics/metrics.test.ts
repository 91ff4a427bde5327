import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { METRIC_NAMES } from './metrics.ts';

const SCRAPE_TOKEN = 'scrape-token-0123456789abcdef';

/** The value of one series in Prometheus text, e.g. series(text, 'flowcrew_runs_finished_total', { flow: 'orders' }). */
export function series(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).match(/^\{(.*)\}/)?.[1] ?? '';
    const has = Object.entries(labels).every(([k, v]) => labelText.split(/,(?=\w+=)/).includes(`${k}="${v}"`));
    if (has) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('GET /metrics', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({}, { loadExamples: true, env: { FLOWCREW_METRICS_TOKEN: SCRAPE_TOKEN } });
  });
  afterAll(async () => server?.stop());

  const scrape = async () => {
    const res = await server.apiAs({ token: SCRAPE_TOKEN }, 'GET', '/metrics');
    expect(res.status).toBe(200);
    return res.body as string;
  };

  it('counts webhook runs by flow and status, node durations by type, HTTP latency by webhook path, commits', async () => {
    for (const id of ['M-1', 'M-2', 'M-3']) {
      const answer = await server.apiAs(null, 'POST', '/webhook/orders', { id, customer: 'Ada', items: [{ qty: 1, price: 10 }] });
      expect(answer.status).toBe(200);
    }
    const [run] = (await server.api('GET', '/api/v1/runs?flowId=orders')).body;
    await server.waitRun(run.id);
    const text = await scrape();
    expect(series(text, METRIC_NAMES.runsStarted, { flow: 'orders' })).toBe(3);
    expect(series(text, METRIC_NAMES.runsFinished, { flow: 'orders', status: 'succeeded' })).toBe(3);
    // Totals, not counts since the last scrape, and not added up again by it.
    const again = await scrape();
    expect(series(again, METRIC_NAMES.runsStarted, { flow: 'orders' })).toBe(3);
    expect(series(again, METRIC_NAMES.runsFinished, { flow: 'orders', status: 'succeeded' })).toBe(3);
    expect(series(text, `${METRIC_NAMES.runDuration}_count`, { flow: 'orders', status: 'succeeded' })).toBe(3);
    expect(series(text, `${METRIC_NAMES.nodeDuration}_count`, { type: 'webhook-response', status: 'succeeded' })).toBe(3);
    expect(series(text, `${METRIC_NAMES.nodeDuration}_bucket`, { type: 'switch', status: 'succeeded', le: '+Inf' })).toBe(3);
    expect(series(text, `${METRIC_NAMES.httpDuration}_count`, { handler: '/webhook/orders', method: 'POST', status: '200' })).toBe(3);
    expect(series(text, `${METRIC_NAMES.httpDuration}_count`, { handler: '/api/v1/runs', method: 'GET', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(series(text, `${METRIC_NAMES.httpDuration}_count`, { handler: '/api/v1/runs/{id}', method: 'GET', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(series(text, `${METRIC_NAMES.commitDuration}_count`)).toBeGreaterThan(0);
    expect(series(text, `${METRIC_NAMES.commitBatch}_sum`)).toBeGreaterThanOrEqual(series(text, `${METRIC_NAMES.commitBatch}_count`)!);
    expect(series(text, METRIC_NAMES.runsActive)).toBe(0);
    expect(series(text, METRIC_NAMES.oldestActiveRun)).toBe(0);
    expect(series(text, METRIC_NAMES.flowsDeployed)).toBeGreaterThanOrEqual(1);
    expect(series(text, METRIC_NAMES.info, { storage: 'sqlite' })).toBe(1);
    // The process's own metrics.
    expect(series(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(series(text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(series(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('labels unknown paths without their URL (no series per request)', async () => {
    await server.apiAs(null, 'POST', '/webhook/nothing-here-123', {});
    await server.api('GET', '/api/v1/no-such-route-456');
    const text = await scrape();
    expect(text).not.toContain('nothing-here-123');
    expect(text).not.toContain('no-such-route-456');
    expect(series(text, `${METRIC_NAMES.httpDuration}_count`, { handler: '/webhook (unmatched)', status: '404' })).toBe(1);
    expect(series(text, `${METRIC_NAMES.httpDuration}_count`, { handler: '/api/v1 (unmatched)', status: '404' })).toBe(1);
  });

  it('answers the scrape token and instance admins; 401 anonymous, 403 for project roles; the token opens nothing else', async () => {
    expect((await server.apiAs(null, 'GET', '/metrics')).status).toBe(401);
    expect((await server.apiAs({ token: 'wrong-token-0123456789abcdef' }, 'GET', '/metrics')).status).toBe(401);
    const owner = await server.userWith('metrics-owner', { projects: { default: 'owner' } });
    const refused = await server.apiAs(owner.credentials, 'GET', '/metrics');
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toMatch(/metrics:read/);
    const admin = await server.userWith('metrics-admin', { instanceRole: 'admin' });
    const asAdmin = await server.apiAs(admin.credentials, 'GET', '/metrics');
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect((await server.api('GET', '/metrics')).status).toBe(200); // FLOWCREW_ADMIN_TOKEN
    // The scrape token is not an API credential.
    expect((await server.apiAs({ token: SCRAPE_TOKEN }, 'GET', '/api/v1/flows')).status).toBe(401);
    // A project API token cannot be given metrics:read (instance-only).
    const token = await server.api('POST', '/api/v1/tokens', { name: 'scraper', projectId: 'default', permissions: ['metrics:read'] });
    expect(token.status).toBe(422);
  });
});

describe('metrics settings', () => {
  it('FLOWCREW_METRICS_PUBLIC=true opens /metrics to anyone', async () => {
    const server = await startTestServer({}, { env: { FLOWCREW_METRICS_PUBLIC: 'true' } });
    try {
      const res = await server.apiAs(null, 'GET', '/metrics');
      expect(res.status).toBe(200);
      expect(res.body).toContain('# TYPE flowcrew_runs_started_total counter');
    } finally {
      await server.stop();
    }
  });

  it('FLOWCREW_METRICS=false collects nothing and answers 404', async () => {
    const server = await startTestServer({}, { env: { FLOWCREW_METRICS: 'false' } });
    try {
      expect(server.metrics).toBeNull();
      const res = await server.api('GET', '/metrics');
      expect(res.status).toBe(404);
      expect(res.body.detail).toMatch(/FLOWCREW_METRICS=false/);
    } finally {
      await server.stop();
    }
  });

  it('refuses a short FLOWCREW_METRICS_TOKEN', async () => {
    await expect(startTestServer({}, { env: { FLOWCREW_METRICS_TOKEN: 'short' } })).rejects.toThrow(/FLOWCREW_METRICS_TOKEN must be at least 16 characters/);
  });
});
