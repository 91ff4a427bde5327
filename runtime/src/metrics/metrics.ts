/**
 * Prometheus metrics of one runtime (prom-client): runs, node durations, HTTP and webhook latency, storage commits,
 * and the process's own metrics. Everything on the hot path is a counter increment or a histogram observation made
 * from events the executor and the group-commit writer already produce (the per-node, per-run and per-request
 * histograms count into pre-resolved series: counting-histogram.ts); gauges (active runs, oldest active run, deployed
 * flows) are read only when Prometheus scrapes. bench/metrics-overhead.ts measures the cost.
 */
import { performance } from 'node:perf_hooks';
import type { RequestHandler, Request, Response } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { NodeFinishedEvent } from '../executor/events.ts';
import type { Runtime } from '../runtime.ts';
import type { RunRecord } from '../storage/types.ts';
import { CountingHistogram, type Observe } from './counting-histogram.ts';
import type { QueueBacklog, QueueMode } from '../queue/mode.ts';

/** The names the dashboards and alert rules in docker/ use (the test checks they are all exported). */
export const METRIC_NAMES = {
  runsStarted: 'flowcrew_runs_started_total',
  runsFinished: 'flowcrew_runs_finished_total',
  runDuration: 'flowcrew_run_duration_seconds',
  runsActive: 'flowcrew_runs_active',
  oldestActiveRun: 'flowcrew_run_oldest_active_seconds',
  nodeDuration: 'flowcrew_node_duration_seconds',
  httpDuration: 'flowcrew_http_request_duration_seconds',
  commitDuration: 'flowcrew_storage_commit_duration_seconds',
  commitBatch: 'flowcrew_storage_commit_batch_writes',
  commitFailures: 'flowcrew_storage_commit_failures_total',
  flowsDeployed: 'flowcrew_flows_deployed',
  queueWaiting: 'flowcrew_queue_waiting_jobs',
  queueActive: 'flowcrew_queue_active_jobs',
  queueOldest: 'flowcrew_queue_oldest_waiting_seconds',
  queueOutboxOldest: 'flowcrew_queue_outbox_oldest_seconds',
  clusterLeader: 'flowcrew_cluster_leader',
  runsReconciled: 'flowcrew_runs_reconciled_total',
  info: 'flowcrew_info',
} as const;

/** What the group-commit writer reports per transaction (SqlStorage.observeCommits). */
export interface CommitObservation {
  /** Write calls that shared the transaction. */
  writes: number;
  seconds: number;
  ok: boolean;
}

let processRegistry: Registry | undefined;
/** Process metrics (CPU, memory, event-loop lag, GC, handles) are per process: collected once, whatever the runtimes. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

const RUN_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
const NODE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const COMMIT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

export class RuntimeMetrics {
  readonly registry = new Registry();
  private readonly runsStarted: Counter<'flow'>;
  private readonly runsFinished: Counter<'flow' | 'status'>;
  private readonly runDuration: CountingHistogram<'flow' | 'status'>;
  private readonly nodeDuration: CountingHistogram<'type' | 'status'>;
  private readonly httpDuration: CountingHistogram<'handler' | 'method' | 'status'>;
  private readonly commitDuration: Histogram;
  private readonly commitBatch: Histogram;
  private readonly commitFailures: Counter;
  /** Node series observers by type, then status: no string built per node event. */
  private readonly nodeSeries = new Map<string, Map<string, Observe>>();
  /**
   * Runs started by flow, finished by flow and status: plain counts on the hot path, handed to the two counters when
   * Prometheus scrapes (prom-client's Counter.inc validates and hashes its labels on every call).
   */
  private readonly startedCounts = new Map<string, { n: number }>();
  private readonly finishedCounts = new Map<string, Map<string, { n: number }>>();
  /** Series observers by their label values joined, so the hot path builds one string and does one Map lookup. */
  private readonly runSeries = new Map<string, Observe>();
  private readonly httpSeries = new Map<string, Observe>();
  private readonly detachers: Array<() => void> = [];

  private constructor(private readonly runtime: Runtime) {
    const registers = [this.registry];
    const startedCounts = this.startedCounts;
    const finishedCounts = this.finishedCounts;
    this.runsStarted = new Counter({ name: METRIC_NAMES.runsStarted, help: 'Runs started in this process, by flow (a run resumed after a restart counts again)', labelNames: ['flow'], registers, collect() {
      this.reset();
      for (const [flow, count] of startedCounts) this.inc({ flow }, count.n);
    } });
    this.runsFinished = new Counter({ name: METRIC_NAMES.runsFinished, help: 'Runs finished in this process, by flow and final status', labelNames: ['flow', 'status'], registers, collect() {
      this.reset();
      for (const [flow, byStatus] of finishedCounts) for (const [status, count] of byStatus) this.inc({ flow, status }, count.n);
    } });
    this.runDuration = new CountingHistogram(METRIC_NAMES.runDuration, 'Run duration from start to finish, by flow and final status', ['flow', 'status'], RUN_BUCKETS, this.registry);
    this.nodeDuration = new CountingHistogram(METRIC_NAMES.nodeDuration, 'Node invocation duration (all attempts), by node type and outcome', ['type', 'status'], NODE_BUCKETS, this.registry);
    this.httpDuration = new CountingHistogram(
      METRIC_NAMES.httpDuration,
      'HTTP request latency by handler (API route template, /webhook/<path>, /metrics, editor), method and status',
      ['handler', 'method', 'status'],
      HTTP_BUCKETS,
      this.registry,
    );
    this.commitDuration = new Histogram({ name: METRIC_NAMES.commitDuration, help: 'Group-commit transaction duration (one per batch)', buckets: COMMIT_BUCKETS, registers });
    this.commitBatch = new Histogram({ name: METRIC_NAMES.commitBatch, help: 'Writes sharing one group-commit transaction', buckets: BATCH_BUCKETS, registers });
    this.commitFailures = new Counter({ name: METRIC_NAMES.commitFailures, help: 'Group-commit transactions that failed (the batch is then retried item by item)', registers });
    const executor = runtime.executor;
    new Gauge({
      name: METRIC_NAMES.runsActive,
      help: 'Runs active (queued, running, waiting) in this process',
      registers,
      collect() {
        this.set(executor.activeRuns);
      },
    });
    new Gauge({
      name: METRIC_NAMES.oldestActiveRun,
      help: 'Age of the oldest run still active in this process (0 when none): a run stuck for hours shows here',
      registers,
      collect() {
        const oldest = executor.oldestActiveRunAt();
        this.set(oldest === null ? 0 : (Date.now() - oldest) / 1000);
      },
    });
    new Gauge({
      name: METRIC_NAMES.flowsDeployed,
      help: 'Flows deployed in this process',
      registers,
      collect() {
        this.set(executor.deployedFlows);
      },
    });
    if (runtime.queue) queueGauges(runtime.queue, registers);
    if (runtime.leader) {
      const leader = runtime.leader;
      new Gauge({ name: METRIC_NAMES.clusterLeader, help: '1 while this runtime is the elected leader that fires cron and repeating inject triggers', registers, collect() {
        this.set(leader.holds() ? 1 : 0);
      } });
    }
    if (runtime.leaseKeeper) {
      // The last line of defence (cluster/lease-keeper.ts): a run left open that it had to finish or resume. Should stay 0.
      const stats = runtime.leaseKeeper.stats;
      new Counter({ name: METRIC_NAMES.runsReconciled, help: 'Runs left open that the lease keeper had to finish (every invocation done) or resume (held, not executed); should stay 0', labelNames: ['action'], registers, collect() {
        this.reset();
        this.labels('finished').inc(stats.reconciled);
        this.labels('resumed').inc(stats.orphansResumed);
      } });
    }
    new Gauge({ name: METRIC_NAMES.info, help: 'Always 1: the storage this runtime uses', labelNames: ['storage'], registers }).labels(runtime.storage.dialect).set(1);
  }

  /** Start counting: listens to the executor's events and the storage's commits until `detach()`. */
  static attach(runtime: Runtime): RuntimeMetrics {
    const metrics = new RuntimeMetrics(runtime);
    metrics.detachers.push(
      runtime.events.add({
        runStarted: (run) => metrics.runStarted(run),
        runFinished: (run) => metrics.runFinished(run),
        nodeFinished: (event) => metrics.nodeFinished(event),
      }),
    );
    const observable = runtime.storage as { observeCommits?: (observer: ((c: CommitObservation) => void) | null) => void };
    if (observable.observeCommits) {
      observable.observeCommits((c) => metrics.commit(c));
      metrics.detachers.push(() => observable.observeCommits!(null));
    }
    return metrics;
  }

  detach(): void {
    for (const detach of this.detachers.splice(0)) detach();
  }

  runStarted(run: RunRecord): void {
    countUp(this.startedCounts, run.flowId);
  }

  runFinished(run: RunRecord): void {
    countUp(inner(this.finishedCounts, run.flowId), run.status);
    if (run.finishedAt !== null && run.finishedAt !== undefined) {
      const key = `${run.flowId}\u0000${run.status}`;
      let observe = this.runSeries.get(key);
      if (!observe) this.runSeries.set(key, (observe = this.runDuration.observer({ flow: run.flowId, status: run.status })));
      observe(Math.max(0, run.finishedAt - (run.startedAt ?? run.createdAt)) / 1000);
    }
  }

  nodeFinished(event: NodeFinishedEvent): void {
    const type = this.runtime.executor.nodeType(event.flowId, event.nodeId) ?? 'unknown';
    const byStatus = inner(this.nodeSeries, type);
    let observe = byStatus.get(event.status);
    if (!observe) byStatus.set(event.status, (observe = this.nodeDuration.observer({ type, status: event.status })));
    observe(event.durationMs / 1000);
  }

  commit(observation: CommitObservation): void {
    this.commitDuration.observe(observation.seconds);
    this.commitBatch.observe(observation.writes);
    if (!observation.ok) this.commitFailures.inc();
  }

  /** Express middleware (mounted first): times every request until its response is sent. */
  readonly httpTimer: RequestHandler = (req, res, next) => {
    const started = performance.now();
    // `on`, not `once`: a response finishes once, and once() wraps the listener in two more objects per request.
    res.on('finish', () => this.observeHttp(req, res, (performance.now() - started) / 1000));
    next();
  };

  private observeHttp(req: Request, res: Response, seconds: number): void {
    const handler = handlerOf(req, res);
    const key = `${handler}\u0000${req.method}\u0000${res.statusCode}`;
    let observe = this.httpSeries.get(key);
    // Bounded: handlers are route templates and registered webhook paths, never raw URLs.
    if (!observe) this.httpSeries.set(key, (observe = this.httpDuration.observer({ handler, method: req.method, status: String(res.statusCode) })));
    observe(seconds);
  }

  /** The Prometheus text exposition: this runtime's metrics, then the process's. */
  async text(): Promise<string> {
    return `${await this.registry.metrics()}\n${await processMetrics().metrics()}`;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** How long a scrape waits for Redis before reporting the queue gauges as unknown (absent) instead of hanging. */
/** The map under `key` in a map of maps, made on first use. */
function inner<V>(maps: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let map = maps.get(key);
  if (!map) maps.set(key, (map = new Map()));
  return map;
}

/** One more under `key` (a plain count, read at scrape). */
function countUp(counts: Map<string, { n: number }>, key: string): void {
  const count = counts.get(key);
  if (count) count.n++;
  else counts.set(key, { n: 1 });
}

const QUEUE_SCRAPE_TIMEOUT_MS = 2_000;

/**
 * Queue mode: the queue's backlog, read from Redis at scrape time (shared by every main and worker: aggregate with
 * max(), not sum()). The workers' HPA scales on flowcrew_queue_waiting_jobs.
 */
function queueGauges(queue: QueueMode, registers: Registry[]): void {
  let pending: Promise<QueueBacklog | null> | null = null;
  let at = 0;
  // One Redis read per scrape, shared by the four gauges (each collect() asks).
  const backlog = () => {
    if (!pending || Date.now() - at > 500) {
      at = Date.now();
      let timer: NodeJS.Timeout | undefined;
      pending = Promise.race([queue.backlog(), new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), QUEUE_SCRAPE_TIMEOUT_MS)))])
        .catch(() => null)
        .finally(() => clearTimeout(timer));
    }
    return pending;
  };
  const gauge = (name: string, help: string, read: (b: QueueBacklog) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const b = await backlog();
        // Redis unreachable: NaN (unknown) rather than a stale or made-up figure; an HPA then keeps its current scale.
        this.set(b ? read(b) : Number.NaN);
      },
    });
  gauge(METRIC_NAMES.queueWaiting, 'Runs waiting in the queue for a worker (waiting, delayed and prioritized jobs)', (b) => b.waiting);
  gauge(METRIC_NAMES.queueActive, 'Runs being executed by workers (active jobs)', (b) => b.active);
  gauge(METRIC_NAMES.queueOldest, 'How long the oldest run waiting for a worker has waited (0 when none waits)', (b) => b.oldestWaitingSeconds);
  gauge(METRIC_NAMES.queueOutboxOldest, 'Age of the oldest committed run not yet enqueued (Redis was unreachable); 0 when the outbox is empty', (b) => b.outboxOldestSeconds);
}

/** A bounded name for what answered a request: never the raw URL (ids in paths would make a series per request). */
function handlerOf(req: Request, res: Response): string {
  const path = req.originalUrl;
  if (path.startsWith('/api/v1')) {
    const route = (req as { route?: { path?: unknown } }).route;
    return typeof route?.path === 'string' ? `/api/v1${route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}` : '/api/v1 (unmatched)';
  }
  if (path.startsWith('/webhook')) return (res.locals.webhookRoute as string | undefined) ?? '/webhook (unmatched)';
  if (path === '/metrics' || path.startsWith('/metrics?')) return '/metrics';
  return 'editor';
}
