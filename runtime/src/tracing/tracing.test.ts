import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { OtlpReceiver } from './otlp-receiver.ts';
import { RunTracing, SPAN_ATTRIBUTES, runSpanIdOf, traceIdOf } from './tracing.ts';

describe('OpenTelemetry traces of runs (OTLP/HTTP)', () => {
  const receiver = new OtlpReceiver();
  let server: TestServer;
  let tracing: RunTracing;
  beforeAll(async () => {
    const base = await receiver.listen();
    server = await startTestServer({}, { loadExamples: false });
    tracing = RunTracing.attach(server.runtime, { url: `${base}/v1/traces`, serviceName: 'flowcrew-test' });
  });
  afterAll(async () => {
    await tracing?.shutdown();
    await server?.stop();
    await receiver.close();
  });

  it('sends a run as one trace: a root run span, one child span per node attempt, errors recorded', async () => {
    const doc = {
      id: 'traced',
      name: 'traced',
      nodes: [
        { id: 'start', type: 'inject', wires: [['double']] },
        { id: 'double', type: 'function', props: { func: 'msg.payload = 2; return msg;' }, wires: [['fails']] },
        { id: 'fails', type: 'function', retry: { maxAttempts: 2, backoffMs: 10 }, props: { func: "throw new Error('down for tracing')" }, wires: [] },
      ],
    };
    expect((await server.api('POST', '/api/v1/flows', doc)).status).toBe(201);
    expect((await server.api('POST', '/api/v1/flows/traced/deploy')).status).toBe(200);
    const started = await server.api('POST', '/api/v1/flows/traced/runs', {});
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const runId: string = started.body.runId;
    const finished = await server.waitRun(runId);
    await tracing.flush();

    const spans = receiver.spans.filter((s) => s.attrs[SPAN_ATTRIBUTES.runId] === runId);
    const runSpans = spans.filter((s) => s.name === 'run');
    expect(runSpans).toHaveLength(1);
    const run = runSpans[0]!;
    expect(run.traceId).toBe(traceIdOf(runId));
    expect(run.spanId).toBe(runSpanIdOf(runId));
    expect(run.parentSpanId ?? '').toBe('');
    expect(run.service).toBe('flowcrew-test');
    expect(run.attrs).toMatchObject({ [SPAN_ATTRIBUTES.flowId]: 'traced', [SPAN_ATTRIBUTES.status]: finished.status });

    const nodeSpans = spans.filter((s) => s.name !== 'run');
    // Every node attempt is a child of the run span, in the run's trace.
    for (const s of nodeSpans) expect([s.traceId, s.parentSpanId]).toEqual([run.traceId, run.spanId]);
    const byNode = (id: string) => nodeSpans.filter((s) => s.attrs[SPAN_ATTRIBUTES.nodeId] === id);
    expect(byNode('start')).toHaveLength(1);
    expect(byNode('double')[0]).toMatchObject({ name: 'node function', status: { code: 1 } });
    expect(byNode('double')[0]!.attrs).toMatchObject({ [SPAN_ATTRIBUTES.nodeType]: 'function', [SPAN_ATTRIBUTES.attempt]: 1, [SPAN_ATTRIBUTES.status]: 'succeeded' });
    const failures = byNode('fails');
    expect(failures.map((s) => s.attrs[SPAN_ATTRIBUTES.attempt]).sort()).toEqual([1, 2]);
    for (const f of failures) expect(f.status?.code).toBe(2); // ERROR
    const last = failures.find((s) => s.attrs[SPAN_ATTRIBUTES.attempt] === 2)!;
    expect(last.status?.message).toContain('down for tracing');
    expect(last.events?.map((e) => e.name)).toContain('exception');
    expect(finished.status).toBe('failed');
    expect(run.status?.code).toBe(2);
    expect([...receiver.contentTypes]).toEqual(['application/json']);
  });

  it('is off without an OTLP endpoint (nothing attached), on with one', async () => {
    expect(RunTracing.fromEnv(server.runtime, {})).toBeNull();
    expect(RunTracing.fromEnv(server.runtime, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_SDK_DISABLED: 'true' })).toBeNull();
    const on = RunTracing.fromEnv(server.runtime, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' });
    expect(on).toBeInstanceOf(RunTracing);
    await on!.shutdown();
  });
});
