/**
 * docker/'s monitoring files against the real thing: the alert rules pass `promtool check rules` and their own
 * `promtool test rules` cases (promtool from Debian's prometheus package, installed by `scripts/services`), and every
 * metric the Grafana dashboards and the alert rules query is one a running runtime really exports on /metrics.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { METRIC_NAMES } from './metrics.ts';
import { alertsFile, dashboards, dockerDir, isExported, metricTypes, panelQueries, queriedMetrics } from './monitoring-files.ts';

const run = promisify(execFile);
const docker = dockerDir;
const promtool = await run('promtool', ['--version']).then(
  () => true,
  () => false,
);
if (!promtool) console.warn('SKIPPED: promtool is not installed: run `bash scripts/services prometheus` (Debian package "prometheus") to check the alert rules.');

/** Exported in queue mode only (this test's server is embedded); queue-mode.test.ts scrapes a queue-mode main and worker. */
const QUEUE_MODE_ONLY = new Set<string>([METRIC_NAMES.queueWaiting, METRIC_NAMES.queueActive, METRIC_NAMES.queueOldest, METRIC_NAMES.queueOutboxOldest, METRIC_NAMES.clusterLeader]);
const exported = (name: string, types: Map<string, string>) => QUEUE_MODE_ONLY.has(name) || isExported(name, types);

describe.skipIf(!promtool)('alert rules (promtool)', () => {
  it('pass `promtool check rules`', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', alertsFile]);
    expect(stdout).toMatch(/SUCCESS: 6 rules found/);
  });

  it('fire on the series they should and stay silent on the others (`promtool test rules`)', async () => {
    const { stdout } = await run('promtool', ['test', 'rules', path.join(docker, 'prometheus', 'alerts.test.yml')]);
    expect(stdout).toMatch(/SUCCESS/);
  });

  it("every dashboard panel's query is valid PromQL (Prometheus' parser, through `promtool check rules`)", async () => {
    // Each query as a recording rule, with Grafana's variables as Grafana would fill them in.
    const rules = panelQueries.map(({ expr }, i) => ({ record: `flowcrew:dashboard_query_${i}`, expr: expr.replaceAll('$__rate_interval', '5m').replaceAll('$instance', '.*') }));
    const dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-dashboard-promql-'));
    try {
      const file = path.join(dir, 'dashboard-queries.yml');
      await writeFile(file, YAML.stringify({ groups: [{ name: 'dashboard-queries', rules }] }));
      const { stdout } = await run('promtool', ['check', 'rules', file]);
      expect(stdout).toContain(`SUCCESS: ${rules.length} rules found`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the Prometheus config is valid and names the rule file', async () => {
    const config = path.join(docker, 'prometheus', 'prometheus.yml');
    await run('promtool', ['check', 'config', '--syntax-only', config]);
    expect(readFileSync(config, 'utf8')).toContain('/etc/prometheus/alerts.yml');
  });
});

describe('monitoring files match what the runtime exports', () => {
  let server: TestServer;
  let types: Map<string, string>;
  beforeAll(async () => {
    server = await startTestServer({}, { loadExamples: true });
    // One webhook run, so every labelled series has samples too.
    await server.apiAs(null, 'POST', '/webhook/orders', { id: 'D-1', customer: 'Ada', items: [{ qty: 1, price: 5 }] });
    const res = await server.api('GET', '/metrics');
    expect(res.status).toBe(200);
    types = metricTypes(res.body as string);
  });
  afterAll(async () => server?.stop());

  it('every metric a dashboard panel or variable and an alert rule queries is exported (besides Prometheus\' own `up`)', () => {
    const queried = queriedMetrics();
    expect(queried.length).toBeGreaterThan(20);
    expect(queried.filter(({ name }) => !exported(name, types)).map(({ where, name }) => `${where}: ${name}`)).toEqual([]);
  });

  it('dashboards show runs, failures, p95 by flow, node durations and commit latency, from the provisioned datasource', () => {
    const exprs = panelQueries.map((q) => q.expr);
    expect(exprs.some((e) => /rate\(flowcrew_runs_finished_total/.test(e))).toBe(true);
    expect(exprs.some((e) => /status="failed"/.test(e))).toBe(true);
    expect(exprs.some((e) => /histogram_quantile\(0\.95, sum by \(le, flow\) \(rate\(flowcrew_run_duration_seconds_bucket/.test(e))).toBe(true);
    expect(exprs.some((e) => /flowcrew_node_duration_seconds_bucket/.test(e))).toBe(true);
    expect(exprs.some((e) => /flowcrew_storage_commit_duration_seconds_bucket/.test(e))).toBe(true);
    const datasource = YAML.parse(readFileSync(path.join(docker, 'grafana', 'provisioning', 'datasources', 'prometheus.yaml'), 'utf8')).datasources[0];
    for (const { json } of dashboards) {
      for (const panel of json.panels) expect(panel.datasource?.uid, `${json.title} "${panel.title}"`).toBe(datasource.uid);
    }
    expect(new Set(dashboards.map((d) => d.json.uid)).size).toBe(dashboards.length);
  });

  it('the compose monitoring profile mounts files that exist', () => {
    const compose = YAML.parse(readFileSync(path.join(docker, 'compose.yaml'), 'utf8')) as { services: Record<string, { volumes?: string[] }> };
    const mounted = ['prometheus', 'grafana'].flatMap((s) => (compose.services[s]?.volumes ?? []).filter((v) => v.startsWith('./')).map((v) => v.split(':')[0]!));
    expect(mounted.length).toBeGreaterThanOrEqual(4);
    for (const source of mounted) expect(existsSync(path.join(docker, source)), source).toBe(true);
    const provider = YAML.parse(readFileSync(path.join(docker, 'grafana', 'provisioning', 'dashboards', 'flowcrew.yaml'), 'utf8'));
    expect(compose.services.grafana!.volumes).toContain(`./grafana/dashboards:${provider.providers[0].options.path}:ro`);
  });
});
