/**
 * OpenTelemetry traces of runs: a run is a trace (its root span "run"), a node invocation attempt a child span.
 * Built from the executor's events (like metrics.ts), exported over OTLP/HTTP (JSON) when an OTLP endpoint is set
 * (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); off otherwise, and then nothing is attached.
 *
 * Trace and run-span ids are derived from the run id, so spans of one run made by different processes (a main that
 * accepted it, the worker that ran it, another worker that took it over after a crash) land in one trace under one
 * run span without passing a context between them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { context, trace, SpanStatusCode, TraceFlags, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type IdGenerator } from '@opentelemetry/sdk-trace-base';
import type { NodeFinishedEvent, NodeStartedEvent } from '../executor/events.ts';
import type { Runtime } from '../runtime.ts';
import type { RunRecord } from '../storage/types.ts';

/** Span attribute names (one place: the test and any dashboard query use these). */
export const SPAN_ATTRIBUTES = {
  flowId: 'flowcrew.flow.id',
  runId: 'flowcrew.run.id',
  parentRunId: 'flowcrew.run.parent_id',
  nodeId: 'flowcrew.node.id',
  nodeType: 'flowcrew.node.type',
  invocationId: 'flowcrew.invocation.id',
  attempt: 'flowcrew.attempt',
  status: 'flowcrew.status',
  interrupted: 'flowcrew.interrupted',
} as const;

export interface TracingOptions {
  /** Full OTLP/HTTP traces URL (…/v1/traces). Default: the exporter's reading of the OTEL_EXPORTER_OTLP_* variables. */
  url?: string;
  headers?: Record<string, string>;
  /** service.name of the resource (default $OTEL_SERVICE_NAME or "flowcrew"). */
  serviceName?: string;
  /** Extra resource attributes, e.g. the instance id and mode of this process. */
  resource?: Record<string, string>;
}

/** The trace id of a run: its uuid's 32 hex digits, or a hash of any other id. */
export function traceIdOf(runId: string): string {
  const hex = runId.replace(/-/g, '').toLowerCase();
  return /^[0-9a-f]{32}$/.test(hex) && !/^0+$/.test(hex) ? hex : createHash('sha256').update(runId).digest('hex').slice(0, 32);
}

/** The span id of a run's root span (the same in every process). */
export function runSpanIdOf(runId: string): string {
  return createHash('sha256').update(`run:${runId}`).digest('hex').slice(0, 16);
}

/** Random ids, except for the one span the next startSpan call creates when `next` is set (the run's root span). */
class RunIdGenerator implements IdGenerator {
  next: { traceId: string; spanId: string } | null = null;
  generateTraceId(): string {
    return this.next?.traceId ?? randomBytes(16).toString('hex');
  }
  generateSpanId(): string {
    return this.next?.spanId ?? randomBytes(8).toString('hex');
  }
}

export class RunTracing {
  private readonly tracer: Tracer;
  /** Open run spans by run id, and open node attempt spans by invocation id: bounded by the active runs. */
  private readonly runs = new Map<string, Span>();
  private readonly nodes = new Map<string, Span>();
  private detachEvents: (() => void) | null = null;

  private constructor(
    private readonly provider: BasicTracerProvider,
    private readonly ids: RunIdGenerator,
    private readonly nodeType: (flowId: string, nodeId: string) => string | undefined,
  ) {
    this.tracer = provider.getTracer('flowcrew');
  }

  /** Tracing as the environment asks for it, or null (nothing attached, no cost) when no OTLP endpoint is set. */
  static fromEnv(runtime: Runtime, env: NodeJS.ProcessEnv = process.env): RunTracing | null {
    const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
    if (!endpoint || env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return null;
    const cluster = runtime.config.cluster;
    return RunTracing.attach(runtime, {
      serviceName: env.OTEL_SERVICE_NAME || 'flowcrew',
      resource: { 'service.instance.id': cluster.instanceId, 'flowcrew.mode': cluster.mode },
    });
  }

  /** Start tracing the runtime's runs until `shutdown()`. */
  static attach(runtime: Runtime, options: TracingOptions = {}): RunTracing {
    const ids = new RunIdGenerator();
    const exporter = new OTLPTraceExporter({ ...(options.url ? { url: options.url } : {}), ...(options.headers ? { headers: options.headers } : {}) });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName ?? 'flowcrew', ...options.resource }),
      idGenerator: ids,
      spanProcessors: [new BatchSpanProcessor(exporter)],
    });
    const tracing = new RunTracing(provider, ids, (flowId, nodeId) => runtime.executor.nodeType(flowId, nodeId) ?? undefined);
    tracing.detachEvents = runtime.events.add({
      runStarted: (run) => tracing.runStarted(run),
      runFinished: (run) => tracing.runFinished(run),
      nodeStarted: (event) => tracing.nodeStarted(event),
      nodeFinished: (event) => tracing.nodeFinished(event),
    });
    return tracing;
  }

  runStarted(run: RunRecord): void {
    if (this.runs.has(run.id)) return;
    this.ids.next = { traceId: traceIdOf(run.id), spanId: runSpanIdOf(run.id) };
    try {
      const span = this.tracer.startSpan(
        'run',
        {
          root: true,
          startTime: run.startedAt ?? run.createdAt,
          attributes: { [SPAN_ATTRIBUTES.flowId]: run.flowId, [SPAN_ATTRIBUTES.runId]: run.id, ...(run.parentRunId ? { [SPAN_ATTRIBUTES.parentRunId]: run.parentRunId } : {}) },
        },
        context.active(),
      );
      this.runs.set(run.id, span);
    } finally {
      this.ids.next = null;
    }
  }

  runFinished(run: RunRecord): void {
    const span = this.runs.get(run.id);
    if (!span) return; // started in another process: that one (or none, if it crashed) ends the run span
    this.runs.delete(run.id);
    span.setAttribute(SPAN_ATTRIBUTES.status, run.status);
    if (run.status === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: run.error ?? 'failed' });
    else if (run.status === 'succeeded') span.setStatus({ code: SpanStatusCode.OK });
    span.end(run.finishedAt ?? undefined);
  }

  nodeStarted(event: NodeStartedEvent): void {
    // The executor reports a start per attempt but one finish per invocation: a new attempt means the last one failed.
    const previous = this.nodes.get(event.invocationId);
    if (previous) {
      previous.setAttribute(SPAN_ATTRIBUTES.status, 'failed');
      previous.setStatus({ code: SpanStatusCode.ERROR, message: 'attempt failed; retried' });
      previous.end();
    }
    this.nodes.set(event.invocationId, this.startNodeSpan(event, Date.now()));
  }

  private startNodeSpan(event: Pick<NodeStartedEvent, 'flowId' | 'runId' | 'nodeId' | 'invocationId' | 'attempt'>, startTime: number): Span {
    // The run span's context, whether this process holds the span or another one does.
    const parent: SpanContext = this.runs.get(event.runId)?.spanContext() ?? {
      traceId: traceIdOf(event.runId),
      spanId: runSpanIdOf(event.runId),
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    };
    const type = this.nodeType(event.flowId, event.nodeId) ?? 'unknown';
    return this.tracer.startSpan(
      `node ${type}`,
      {
        startTime,
        attributes: {
          [SPAN_ATTRIBUTES.flowId]: event.flowId,
          [SPAN_ATTRIBUTES.runId]: event.runId,
          [SPAN_ATTRIBUTES.nodeId]: event.nodeId,
          [SPAN_ATTRIBUTES.nodeType]: type,
          [SPAN_ATTRIBUTES.invocationId]: event.invocationId,
          [SPAN_ATTRIBUTES.attempt]: event.attempt,
        },
      },
      trace.setSpanContext(context.active(), parent),
    );
  }

  nodeFinished(event: NodeFinishedEvent): void {
    // A trigger's invocation is reported finished only (it ran before the run existed): its span is made here.
    const span = this.nodes.get(event.invocationId) ?? this.startNodeSpan(event, Date.now() - event.durationMs);
    this.nodes.delete(event.invocationId);
    span.setAttribute(SPAN_ATTRIBUTES.status, event.status);
    if (event.status === 'failed') {
      const error = event.error ?? 'failed';
      span.recordException({ name: 'NodeError', message: error });
      span.setStatus({ code: SpanStatusCode.ERROR, message: error });
    } else if (event.status === 'succeeded') span.setStatus({ code: SpanStatusCode.OK });
    span.end();
  }

  /** Spans open at shutdown end marked interrupted (the run goes on elsewhere or after a restart); then flush. */
  async shutdown(): Promise<void> {
    this.detachEvents?.();
    this.detachEvents = null;
    for (const span of [...this.nodes.values(), ...this.runs.values()]) {
      span.setAttribute(SPAN_ATTRIBUTES.interrupted, true);
      span.end();
    }
    this.nodes.clear();
    this.runs.clear();
    await this.provider.shutdown();
  }

  /** Sends what is buffered now (tests; the batch processor otherwise sends every few seconds). */
  async flush(): Promise<void> {
    await this.provider.forceFlush();
  }
}
