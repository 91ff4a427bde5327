/**
 * What metrics cost on the hot path (figures printed, never asserted):
 * 1. each hook alone, on a real runtime: a node finishing, a run finishing, a group commit, an HTTP request timed;
 * 2. the example order webhook (6 nodes) under autocannon with metrics on and off (FLOWCREW_METRICS=false),
 *    alternated so drift on a shared machine hits both alike;
 * 3. one /metrics scrape;
 * 4. the per-node overhead (bench/run.ts's 10-node chain, in-memory SQLite) with and without metrics attached.
 *
 *   node --import tsx bench/metrics-overhead.ts [--duration 5]      (about 50 s with the default)
 */
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import type { Request, Response } from 'express';
import { loadConfig } from '../runtime/src/config.ts';
import { RuntimeMetrics } from '../runtime/src/metrics/metrics.ts';
import { Runtime } from '../runtime/src/runtime.ts';
import { startServer, type RunningServer } from '../runtime/src/server.ts';
import { deployChain } from './chain.ts';
import type { RunRecord } from '../runtime/src/storage/types.ts';

const args = process.argv.slice(2);
const at = args.indexOf('--duration');
const duration = at >= 0 ? Number(args[at + 1]) : 5;
const repoRoot = path.resolve(import.meta.dirname, '..');
const order = { id: 'B-1', customer: 'Bench', items: [{ sku: 'a', qty: 2, price: 60 }, { sku: 'b', qty: 1, price: 3.5 }] };

async function server(metrics: boolean): Promise<{ server: RunningServer; dataDir: string }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-bench-metrics-'));
  const env = { ...process.env, DATABASE_URL: '', FLOWCREW_METRICS: String(metrics), FLOWCREW_METRICS_PUBLIC: 'true' };
  const running = await startServer(loadConfig(env, { port: 0, dataDir, flowsDir: path.join(repoRoot, 'flows'), logLevel: 'error', retention: { mode: 'all', maxAgeMs: 0 } }));
  return { server: running, dataDir };
}

function nsPer(fn: () => void, iterations: number): number {
  for (let i = 0; i < iterations / 10; i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - start) / iterations;
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

function load(url: string, connections: number, seconds: number): Promise<Load> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration: seconds, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(order) }, (error, r) => {
      if (error) return reject(error);
      resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx });
    });
  });
}

console.log(`metrics overhead — node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), ${duration} s per load point`);

// 1. The hooks alone.
{
  const { server: s, dataDir } = await server(true);
  const metrics = s.metrics!;
  const run = { id: 'r', flowId: 'orders', status: 'succeeded', createdAt: 0, startedAt: 1, finishedAt: 12 } as RunRecord;
  const node = { flowId: 'orders', runId: 'r', nodeId: 'total', invocationId: 'i', attempt: 1, status: 'succeeded' as const, outputs: [], error: null, durationMs: 1 };
  const hooks: Array<[string, () => void]> = [
    ['node finished (type lookup + histogram)', () => metrics.nodeFinished(node)],
    ['run finished (counter + histogram)', () => metrics.runFinished(run)],
    ['run started (counter)', () => metrics.runStarted(run)],
    ['group commit (2 histograms)', () => metrics.commit({ writes: 3, seconds: 0.0004, ok: true })],
  ];
  for (const [label, fn] of hooks) console.log(`  hook: ${label.padEnd(42)} ${nsPer(fn, 1_000_000).toFixed(0).padStart(5)} ns`);
  // The HTTP timer: a listener on 'finish' and, when it fires, one histogram observation.
  const req = { originalUrl: '/webhook/orders', method: 'POST' } as Request;
  const http = () => {
    const res = Object.assign(new EventEmitter(), { statusCode: 200, locals: { webhookRoute: '/webhook/orders' } }) as unknown as Response;
    metrics.httpTimer(req, res, () => {});
    res.emit('finish');
  };
  const bare = () => {
    const res = Object.assign(new EventEmitter(), { statusCode: 200, locals: { webhookRoute: '/webhook/orders' } });
    res.emit('finish');
  };
  const httpNs = nsPer(http, 300_000) - nsPer(bare, 300_000);
  console.log(`  hook: ${'HTTP request timed (finish listener + histogram)'.padEnd(42)} ${httpNs.toFixed(0).padStart(5)} ns`);
  const perRun = 6 * nsPer(() => metrics.nodeFinished(node), 300_000) + 2 * nsPer(() => metrics.runFinished(run), 300_000) + httpNs + nsPer(() => metrics.commit({ writes: 3, seconds: 0.0004, ok: true }), 300_000);
  console.log(`  → one 6-node webhook run: ≈ ${(perRun / 1000).toFixed(2)} µs of metrics work (at most one commit per run counted; commits are shared)`);

  // 3. A scrape, with the series of this run of the benchmark.
  const scrapes = 50;
  const t = process.hrtime.bigint();
  for (let i = 0; i < scrapes; i++) await metrics.text();
  console.log(`  scrape: ${(Number(process.hrtime.bigint() - t) / 1e6 / scrapes).toFixed(2)} ms per /metrics (${(await metrics.text()).length} bytes)`);
  await s.close();
  await rm(dataDir, { recursive: true, force: true });
}

// 2. The webhook path, metrics off and on, alternated.
const results: Record<'off' | 'on', Record<number, Load[]>> = { off: { 1: [], 50: [] }, on: { 1: [], 50: [] } };
for (const round of [1, 2]) {
  for (const mode of round === 1 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
    const { server: s, dataDir } = await server(mode === 'on');
    const url = `${s.url}/webhook/orders`;
    await load(url, 10, 1); // warm-up
    for (const c of [1, 50]) results[mode][c]!.push(await load(url, c, duration));
    await s.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
for (const c of [1, 50]) {
  const off = results.off[c]!;
  const on = results.on[c]!;
  for (const [mode, rs] of [['off', off], ['on', on]] as const) {
    console.log(
      `  webhook orders c=${String(c).padStart(2)} metrics ${mode.padEnd(3)} ${rs.map((r) => r.rps.toFixed(0).padStart(5)).join(' / ')} req/s  ` +
        `p50 ${rs.map((r) => r.p50.toFixed(2)).join(' / ')} ms  p99 ${rs.map((r) => r.p99.toFixed(2)).join(' / ')} ms${rs.some((r) => r.errors) ? '  (errors!)' : ''}`,
    );
  }
  const delta = (1 / mean(on.map((r) => r.rps)) - 1 / mean(off.map((r) => r.rps))) * 1e6;
  const pct = (mean(on.map((r) => r.rps)) / mean(off.map((r) => r.rps)) - 1) * 100;
  console.log(`  → c=${c}: ${pct >= 0 ? '+' : ''}${pct.toFixed(1)}% throughput with metrics (${delta >= 0 ? '+' : ''}${delta.toFixed(1)} µs per request; the run-to-run spread on this machine is of the same order)`);
}

// 4. Per-node overhead: the chain of bench/run.ts (inject → 9 change nodes), metrics attached or not, alternated.
async function chain(withMetrics: boolean, messages = 10_000, inFlight = 256): Promise<number> {
  const runtime = await Runtime.create(loadConfig({ ...process.env, DATABASE_URL: '' }, { dataDir: ':memory:', flowsDir: null, logLevel: 'error', retention: { mode: 'all', maxAgeMs: 0 } }), { loadExamples: false });
  const metrics = withMetrics ? RuntimeMetrics.attach(runtime) : null;
  const runOne = await deployChain(runtime);
  await Promise.all(Array.from({ length: 500 }, runOne));
  let started = 0;
  const t = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (started < messages) {
        started++;
        await runOne();
      }
    }),
  );
  const perNodeUs = Number(process.hrtime.bigint() - t) / 1000 / (messages * 10);
  metrics?.detach();
  await runtime.close();
  return perNodeUs;
}
const perNode: Record<'off' | 'on', number[]> = { off: [], on: [] };
for (const order of [[false, true], [true, false], [false, true]] as const) for (const on of order) perNode[on ? 'on' : 'off'].push(await chain(on));
console.log(`  chain (10 nodes, sqlite memory) metrics off: ${perNode.off.map((v) => v.toFixed(1)).join(' / ')} µs per node`);
console.log(`  chain (10 nodes, sqlite memory) metrics on : ${perNode.on.map((v) => v.toFixed(1)).join(' / ')} µs per node`);
console.log(`  → ${(mean(perNode.on) - mean(perNode.off)).toFixed(2)} µs per node with metrics (means; the spread between runs of one mode shows the noise)`);
