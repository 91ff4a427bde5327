/**
 * Observability of queue mode across real processes: a main (`flowcrew start --mode main`) and a worker
 * (`flowcrew worker`) as child processes on the real PostgreSQL and Redis, set up only through the environment an
 * operator would use (OTEL_EXPORTER_OTLP_ENDPOINT, FLOWCREW_METRICS_TOKEN, FLOWCREW_LOG_FORMAT=json).
 * - Traces: a run accepted by the main and executed by the worker is one trace at an OTLP/HTTP receiver: one root
 *   "run" span, every node invocation a child span of it, sent by the worker.
 * - Metrics: every metric the Grafana dashboards, the alert rules and the Helm chart's worker autoscaler (HPA or KEDA) query is
 *   exported by a queue-mode main or worker (the embedded runtime of monitoring-config.test.ts has no queue metrics).
 * - Logs: what a node logs on the worker is a JSON line carrying the run, flow and node ids.
 * - A worker killed (-9) in the middle of a run: the worker that takes the run over adds its spans to the same trace,
 *   under the same run span. Real processes and a takeover: this file runs over a minute on a loaded machine.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { freePort } from '@flowcrew/sdk/testing';
import { startFlowcrew, type FlowcrewProcess } from '../cluster/processes.test-helper.ts';
import { clearQueue, onPg, until } from '../testing/queue-cluster.ts';
import { TEST_DATABASE_URL } from '../testing/storage-backends.ts';
import { OtlpReceiver } from '../tracing/otlp-receiver.ts';
import { SPAN_ATTRIBUTES, runSpanIdOf, traceIdOf } from '../tracing/tracing.ts';
import { METRIC_NAMES } from './metrics.ts';
import { dockerDir, isExported, metricNames, metricTypes, queriedMetrics } from './monitoring-files.ts';
import { TEST_REDIS_DB } from '../testing/redis-databases.ts';

const REDIS_DB = TEST_REDIS_DB.queueModeObservability;
const schema = `qobs_${randomBytes(3).toString('hex')}`;
const adminToken = `qobs-admin-${randomBytes(16).toString('hex')}`;
const metricsToken = `qobs-metrics-${randomBytes(16).toString('hex')}`;
const receiver = new OtlpReceiver();
const processes: FlowcrewProcess[] = [];
let dir: string;
let mainUrl: string;
let workerUrl: string;
let worker: FlowcrewProcess;
let env: (instance: string) => Record<string, string>;

const api = async (method: string, url: string, body?: unknown) => {
  const res = await fetch(mainUrl + url, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
};

/** A flow of `nodes` saved and deployed through the main's API, and one run of it started; its run id. */
async function startRunOf(id: string, nodes: unknown[]): Promise<string> {
  expect((await api('POST', '/api/v1/flows', { id, name: id, version: 0, nodes })).status).toBe(201);
  expect((await api('POST', `/api/v1/flows/${id}/deploy`)).status).toBe(200);
  const started = await api('POST', `/api/v1/flows/${id}/runs`, {});
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  return started.body.runId as string;
}

/** The run once it has finished (as the main's API reports it). */
const finishedRun = (id: string, timeoutMs: number) =>
  until(`run ${id} to finish`, async () => {
    const { body } = await api('GET', `/api/v1/runs/${id}`);
    return ['succeeded', 'failed', 'cancelled'].includes(body?.status) ? body : undefined;
  }, timeoutMs);

const scrape = async (base: string) => {
  const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
  expect(res.status).toBe(200);
  return res.text();
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-qobs-'));
  const otlp = await receiver.listen();
  await clearQueue(REDIS_DB);
  await onPg(`CREATE SCHEMA ${schema}`);
  env = (instance: string) => ({
    DATABASE_URL: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    FLOWCREW_REDIS_URL: `redis://127.0.0.1:6379/${REDIS_DB}`,
    FLOWCREW_KEYRING_FILE: path.join(dir, 'keyring.json'),
    FLOWCREW_ADMIN_TOKEN: adminToken,
    FLOWCREW_METRICS_TOKEN: metricsToken,
    FLOWCREW_INSTANCE_ID: `${instance}-${schema}`,
    FLOWCREW_LOG_LEVEL: 'info',
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
    OTEL_SERVICE_NAME: 'flowcrew-qobs',
    OTEL_BSP_SCHEDULE_DELAY: '200', // the batch span processor sends every 200 ms instead of 5 s
    // A killed worker's runs are taken over within seconds (the last test).
    FLOWCREW_LEASE_TTL_MS: '3000',
    FLOWCREW_QUEUE_REQUEUE_MS: '3000',
  });
  const main = startFlowcrew('main', ['start', '--mode', 'main', '--port', '0', '--data-dir', path.join(dir, 'main')], env('main'));
  processes.push(main);
  // At load 20 on 2 cores starting the CLI took minutes (chaos.test.ts).
  mainUrl = /listening on (http:\/\/[^ "]+)/.exec(await main.waitFor(/Flowcrew listening on/, 300_000))![1]!;
  // The main migrated the schema and wrote the keyring: the worker starts on both.
  const port = await freePort(); // FLOWCREW_WORKER_PORT=0 means no probe port
  worker = startFlowcrew('worker', ['worker', '--concurrency', '4', '--data-dir', path.join(dir, 'worker')], { ...env('worker'), FLOWCREW_WORKER_PORT: String(port) });
  processes.push(worker);
  await worker.waitFor(/Flowcrew worker .* running/, 300_000);
  workerUrl = `http://127.0.0.1:${port}`;
}, 330_000);

afterAll(async () => {
  for (const p of processes) p.kill('SIGTERM');
  await Promise.all(processes.map((p) => Promise.race([p.exited, new Promise((resolve) => setTimeout(resolve, 30_000))])));
  for (const p of processes) p.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
  await receiver.close();
  await clearQueue(REDIS_DB).catch(() => {});
  await onPg(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  if (dir) await rm(dir, { recursive: true, force: true });
}, 90_000);

describe('queue mode observability across processes (main + worker as child processes)', () => {
  let runId: string;

  it('a run accepted by the main and executed by the worker is one trace: a root run span, node spans its children', async () => {
    runId = await startRunOf('observed', [
      { id: 'go', type: 'inject', wires: [['say']] },
      { id: 'say', type: 'function', props: { func: "node.warn('observed on the worker'); msg.payload = 2; return msg;" }, wires: [['mark']] },
      { id: 'mark', type: 'change', props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '3', tot: 'num' }] }, wires: [] },
    ]);
    const finished = await finishedRun(runId, 60_000);
    expect(finished.status).toBe('succeeded');

    const ofRun = () => receiver.spans.filter((s) => s.attrs[SPAN_ATTRIBUTES.runId] === runId);
    // Spans arrive in batches from both processes: wait for the run span and the three node spans.
    await until('the run and node spans at the receiver', async () => {
      const spans = ofRun();
      return spans.some((s) => s.name === 'run') && spans.filter((s) => s.name !== 'run').length >= 3 ? true : undefined;
    }, 30_000);
    const spans = ofRun();
    const runSpans = spans.filter((s) => s.name === 'run');
    expect(runSpans, JSON.stringify(runSpans.map((s) => s.resource))).toHaveLength(1);
    const run = runSpans[0]!;
    expect([run.traceId, run.spanId, run.parentSpanId ?? '']).toEqual([traceIdOf(runId), runSpanIdOf(runId), '']);
    expect(run.service).toBe('flowcrew-qobs');
    expect(run.attrs[SPAN_ATTRIBUTES.flowId]).toBe('observed');
    // Ended by the process that ran it, with the run's outcome (not cut short at a shutdown).
    expect(run.attrs[SPAN_ATTRIBUTES.status]).toBe('succeeded');
    expect(run.attrs[SPAN_ATTRIBUTES.interrupted]).toBeUndefined();
    expect(run.status?.code).toBe(1); // OK

    const nodeSpans = spans.filter((s) => s.name !== 'run');
    expect(nodeSpans.map((s) => s.attrs[SPAN_ATTRIBUTES.nodeId]).sort()).toEqual(['go', 'mark', 'say']);
    for (const s of nodeSpans) {
      expect([s.traceId, s.parentSpanId]).toEqual([run.traceId, run.spanId]);
      // Executed on the worker: its process sent the node spans.
      expect(s.resource).toMatchObject({ 'service.instance.id': `worker-${schema}`, 'flowcrew.mode': 'worker' });
    }
    expect(nodeSpans.find((s) => s.attrs[SPAN_ATTRIBUTES.nodeId] === 'say')).toMatchObject({ name: 'node function', status: { code: 1 } });
  }, 120_000);

  it("the worker's JSON log line of what a node logged carries the run, flow and node ids", async () => {
    expect(runId).toBeDefined();
    const line = JSON.parse(await worker.waitFor(/observed on the worker/, 30_000)) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'warn', module: 'nodes', runId, flowId: 'observed', nodeId: 'say' });
    // Every JSON line of either process that is about this run carries its ids as fields, not only in the text.
    const aboutRun = processes.flatMap((p) => p.lines).filter((l) => l.includes(runId) && l.startsWith('{'));
    for (const text of aboutRun) expect(JSON.parse(text), text).toMatchObject({ runId, flowId: 'observed' });
  });

  it('every metric the dashboards, alert rules and the workers\' autoscaler query is exported in queue mode', async () => {
    const mainTypes = metricTypes(await scrape(mainUrl));
    const workerText = await scrape(workerUrl);
    const workerTypes = metricTypes(workerText);
    const missing = queriedMetrics()
      .filter(({ name }) => !isExported(name, mainTypes) && !isExported(name, workerTypes))
      .map(({ where, name }) => `${where}: ${name}`);
    expect(missing).toEqual([]);
    // The queue figures are on every main and worker (the alert takes max()); the leader gauge on mains.
    for (const name of [METRIC_NAMES.queueWaiting, METRIC_NAMES.queueActive, METRIC_NAMES.queueOldest, METRIC_NAMES.queueOutboxOldest]) {
      expect(mainTypes.get(name), `main: ${name}`).toBe('gauge');
      expect(workerTypes.get(name), `worker: ${name}`).toBe('gauge');
    }
    expect(mainTypes.get(METRIC_NAMES.clusterLeader)).toBe('gauge');
    // ... and the queue dashboard graphs them.
    const queueDashboard = queriedMetrics().filter((q) => q.where.startsWith('flowcrew-queue.json')).map((q) => q.name);
    expect(queueDashboard).toEqual(expect.arrayContaining([METRIC_NAMES.queueWaiting, METRIC_NAMES.queueActive, METRIC_NAMES.queueOldest, METRIC_NAMES.queueOutboxOldest, METRIC_NAMES.clusterLeader]));
    // The Helm chart scales workers on a metric a worker exports.
    const values = YAML.parse(readFileSync(path.join(dockerDir, 'helm', 'flowcrew', 'values.yaml'), 'utf8')) as { worker: { autoscaling: { metricName: string; keda: { query: string } } } };
    expect(workerTypes.get(values.worker.autoscaling.metricName)).toBe('gauge');
    // ... and so does its KEDA ScaledObject's Prometheus query.
    const kedaMetrics = metricNames(values.worker.autoscaling.keda.query);
    expect(kedaMetrics.length).toBeGreaterThan(0);
    for (const name of kedaMetrics) expect(isExported(name, workerTypes), `keda query: ${name}`).toBe(true);
    // The run was counted where it ran.
    expect(workerText).toMatch(/^flowcrew_runs_finished_total\{[^}]*flow="observed"[^}]*status="succeeded"[^}]*\} 1$/m);
  });
  it('a run whose worker is killed (-9) mid-run stays one trace: the worker taking it over adds its spans under the same run span', async () => {
    const id = await startRunOf('taken-over', [
      { id: 'go', type: 'inject', wires: [['wait']] },
      { id: 'wait', type: 'delay', props: { pauseType: 'delay', timeout: 20, timeoutUnits: 'seconds' }, wires: [['mark']] },
      { id: 'mark', type: 'change', props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'done', tot: 'str' }] }, wires: [] },
    ]);
    const ofRun = () => receiver.spans.filter((s) => s.attrs[SPAN_ATTRIBUTES.runId] === id);
    // The first worker has run the inject (its span arrived) and holds the run in the 20 s delay (long enough for a
    // loaded machine; the second worker waits out only what is left of it): kill it there.
    await until('the first node span from the first worker', async () => (ofRun().some((s) => s.attrs[SPAN_ATTRIBUTES.nodeId] === 'go') ? true : undefined), 30_000);
    expect((await api('GET', `/api/v1/runs/${id}`)).body.status).toBe('running');
    worker.kill('SIGKILL');
    await worker.exited;
    const second = startFlowcrew('worker-2', ['worker', '--concurrency', '4', '--data-dir', path.join(dir, 'worker-2')], { ...env('worker-2'), FLOWCREW_WORKER_PORT: '0' });
    processes.push(second);
    const finished = await finishedRun(id, 300_000); // the second worker starts, takes the run over, waits out the delay
    expect(finished.status).toBe('succeeded');
    await until('the run span and the last node span at the receiver', async () => {
      const spans = ofRun();
      return spans.some((s) => s.name === 'run') && spans.some((s) => s.attrs[SPAN_ATTRIBUTES.nodeId] === 'mark') ? true : undefined;
    }, 30_000);

    const spans = ofRun();
    const described = JSON.stringify(spans.map((s) => [s.name, s.attrs[SPAN_ATTRIBUTES.nodeId], s.resource['service.instance.id'], s.parentSpanId]));
    // One run span (the killed worker's open one was never sent), sent by the worker that finished the run.
    const runSpans = spans.filter((s) => s.name === 'run');
    expect(runSpans, described).toHaveLength(1);
    expect([runSpans[0]!.traceId, runSpans[0]!.spanId]).toEqual([traceIdOf(id), runSpanIdOf(id)]);
    expect(runSpans[0]!.resource['service.instance.id']).toBe(`worker-2-${schema}`);
    expect(runSpans[0]!.attrs[SPAN_ATTRIBUTES.status]).toBe('succeeded');
    // Every node span, from either worker, is a child of that run span in that trace.
    for (const s of spans.filter((x) => x.name !== 'run')) expect([s.traceId, s.parentSpanId], described).toEqual([traceIdOf(id), runSpanIdOf(id)]);
    const by = (node: string) => spans.filter((s) => s.attrs[SPAN_ATTRIBUTES.nodeId] === node).map((s) => s.resource['service.instance.id']);
    expect(by('go')).toEqual([`worker-${schema}`]);
    expect(by('mark')).toEqual([`worker-2-${schema}`]);
  }, 420_000);
});
