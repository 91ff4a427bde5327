/**
 * Benchmarks (figures printed, never asserted):
 * 1. per-node overhead: messages through a 10-node chain, durable storage on, history kept and not kept;
 * 2. the example webhook order flow (Flowcrew's CLI, run history kept) under wrk and autocannon at 50 connections;
 * 3. with --node-red: the same order flow on Node-RED 4 (installed into .cache/node-red from npm) in the same run,
 *    with the ratios of the targets and both servers' RSS right after their 20,000th request (first, from a fresh
 *    start, with the same load: autocannon at the same connections) and at the end of the run.
 *
 * Usage: node --import tsx bench/run.ts [--duration 5] [--rounds 3] [--connections 50] [--only chain|webhook|node-red] [--node-red]
 *        [--postgres <empty-db-url>]
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import type { RetentionMode } from '../runtime/src/storage/types.ts';
import { measureChain } from './chain.ts';
import { autocannonLoad, wrk, wrkAvailable, type LoadResult, type LoadTarget } from './load.ts';
import { startFlowcrew, startNodeRed, type BenchServer } from './node-red.ts';
import { rssUnderLoad, type RssUnderLoad } from './rss-load.ts';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const duration = Number(option('duration', '5'));
const only = option('only', '');
const repoRoot = path.resolve(import.meta.dirname, '..');

/** The request count of issue 11's RSS target ("RSS after 20,000 requests"). */
const RSS_REQUESTS = 20_000;

const order = { id: 'B-1', customer: 'Bench', items: [{ sku: 'a', qty: 2, price: 60 }, { sku: 'b', qty: 1, price: 3.5 }] };

/** Per-node overhead: N messages through inject → 9 change nodes, with at most `inFlight` runs at once (bench/chain.ts). */
async function chainBenchmark(retention: RetentionMode, where: 'disk' | 'memory', messages = 20_000, inFlight = 256): Promise<void> {
  const r = await measureChain(repoRoot, retention, where, messages, inFlight);
  console.log(
    `chain  sqlite=${where.padEnd(6)} history=${retention.padEnd(4)}  ${messages} msgs x 10 nodes in ${r.seconds.toFixed(2)} s  ` +
      `→ ${(messages / r.seconds).toFixed(0)} runs/s, ${r.wallUs.toFixed(1)} µs per node (wall), ${r.cpuUs.toFixed(1)} µs CPU per node, heap +${r.heapMb.toFixed(1)} MB`,
  );
}

const target = (url: string): LoadTarget => ({ url, body: JSON.stringify(order) });
const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

function printLoad(label: string, connections: number, r: LoadResult): void {
  console.log(
    `${r.tool.padEnd(10)} ${label.padEnd(26)} c=${String(connections).padStart(2)}  ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(1).padStart(6)} ms  p99 ${r.p99.toFixed(1).padStart(7)} ms  max ${r.max.toFixed(1).padStart(7)} ms` +
      (r.cpuUsPerRequest !== undefined ? `  server CPU ${r.cpuUsPerRequest.toFixed(0).padStart(5)} µs/request` : '') +
      (r.failures ? `  (failures ${r.failures})` : ''),
  );
}

/**
 * The order webhook on Flowcrew (its CLI, run history kept) and, with --node-red, the same flow on Node-RED 4, each
 * in its own process, measured in the same run: first each server's RSS right after its 20,000th request from a
 * fresh start (the RSS target; the readiness request counts), then alternating rounds per load generator (wrk, then
 * autocannon), the ratios the targets are stated in, and each server's RSS at the end of the run.
 */
async function webhookComparison(withNodeRed: boolean, databaseUrl?: string): Promise<void> {
  const connections = Number(option('connections', '50'));
  const rounds = Number(option('rounds', '3'));
  const body = JSON.stringify(order);
  if (withNodeRed && !existsSync(path.join(repoRoot, '.cache', 'node-red', 'node_modules', 'node-red', 'red.js'))) await run('bash', [path.join(repoRoot, 'scripts', 'services'), 'nodered']);
  if (!wrkAvailable()) await run('bash', [path.join(repoRoot, 'scripts', 'services'), 'wrk']).catch(() => console.log('(wrk could not be installed: autocannon only)'));
  const servers: BenchServer[] = [];
  try {
    servers.push(await startFlowcrew(body, { retention: 'all', databaseUrl }));
    if (withNodeRed) servers.push(await startNodeRed(body));
    // Each server has answered one request (the readiness check in node-red.ts) and nothing else yet.
    const served = new Map<BenchServer, number>(servers.map((s) => [s, 1]));
    const atStart = new Map<BenchServer, number>(servers.map((s) => [s, s.rssMb()]));
    // RSS right after exactly the 20,000th request, the same workload for both: the order flow, autocannon, the same
    // connections, from a fresh start. The servers take turns (one loaded at a time, the other idle).
    const at20k = new Map<BenchServer, RssUnderLoad>();
    for (const server of servers) {
      const r = await rssUnderLoad(server, target(server.url), connections, RSS_REQUESTS - served.get(server)!);
      served.set(server, served.get(server)! + r.served);
      at20k.set(server, r);
      console.log(
        `rss        ${server.name.padEnd(26)} start ${atStart.get(server)!.toFixed(0)} MB -> right after request ${served.get(server)} ${r.after.toFixed(0)} MB ` +
          `(during: mean ${r.mean.toFixed(0)}, 2nd half ${r.secondHalfMean.toFixed(0)}, max ${r.max.toFixed(0)} MB; ${(r.served / r.seconds).toFixed(0)} req/s)`,
      );
    }
    if (servers[1]) {
      const [f, n] = [at20k.get(servers[0]!)!, at20k.get(servers[1])!];
      console.log(`rss        after ${RSS_REQUESTS} requests each, flowcrew / node-red: ${(f.after / n.after).toFixed(2)}x (target <= 1.5)   mean ${(f.mean / n.mean).toFixed(2)}x   max ${(f.max / n.max).toFixed(2)}x`);
    }
    const results = new Map<string, LoadResult[]>();
    const roundSamples = new Map<BenchServer, number[]>(servers.map((s) => [s, []]));
    const tools = wrkAvailable() ? (['wrk', 'autocannon'] as const) : (['autocannon'] as const);
    for (const server of servers) served.set(server, served.get(server)! + (await autocannonLoad(target(server.url), 10, 2)).requests); // warm-up
    console.log(`load average before: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    for (const tool of tools) {
      for (let round = 0; round < rounds; round++) {
        for (const server of round % 2 === 0 ? servers : [...servers].reverse()) {
          const cpuBefore = server.cpuSeconds();
          const sampler = setInterval(() => roundSamples.get(server)!.push(server.rssMb()), 250);
          const r = await (tool === 'wrk' ? wrk(target(server.url), connections, duration) : autocannonLoad(target(server.url), connections, duration)).finally(() => clearInterval(sampler));
          r.cpuUsPerRequest = ((server.cpuSeconds() - cpuBefore) * 1e6) / Math.max(1, r.requests);
          served.set(server, served.get(server)! + r.requests);
          printLoad(server.name, connections, r);
          const key = `${tool} ${server.name}`;
          results.set(key, [...(results.get(key) ?? []), r]);
        }
      }
    }
    console.log(`load average after:  ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    const [flowcrew, nodeRed] = servers;
    for (const tool of tools) {
      const fc = results.get(`${tool} ${flowcrew!.name}`)!;
      const summary = (rs: LoadResult[]) => ({ rps: median(rs.map((r) => r.rps)), p99: median(rs.map((r) => r.p99)), max: median(rs.map((r) => r.max)), cpu: median(rs.map((r) => r.cpuUsPerRequest ?? 0)) });
      const f = summary(fc);
      if (!nodeRed) {
        console.log(`${tool}: flowcrew median of ${rounds}: ${f.rps.toFixed(0)} req/s, p99 ${f.p99.toFixed(1)} ms, max ${f.max.toFixed(1)} ms`);
        continue;
      }
      const n = summary(results.get(`${tool} ${nodeRed.name}`)!);
      console.log(
        `${tool.padEnd(10)} medians of ${rounds}: flowcrew ${f.rps.toFixed(0)} req/s p99 ${f.p99.toFixed(1)} max ${f.max.toFixed(1)} ms | node-red ${n.rps.toFixed(0)} req/s p99 ${n.p99.toFixed(1)} max ${n.max.toFixed(1)} ms\n` +
          `${''.padEnd(10)} throughput ${(f.rps / n.rps).toFixed(2)}x (target >= 2)   p99 ${(f.p99 / n.p99).toFixed(2)}x (target <= 1)   max ${(f.max / n.max).toFixed(2)}x (target <= 2)` +
          `   server CPU per request ${f.cpu.toFixed(0)} vs ${n.cpu.toFixed(0)} µs (${(f.cpu / n.cpu).toFixed(2)}x)`,
      );
    }
    // The end-of-run reading (one point of the old generation's cycle, after unequal request counts: the faster
    // server served more), with the mean and max RSS sampled while each server's rounds ran.
    const end = servers.map((s) => {
      const samples = roundSamples.get(s)!.length ? roundSamples.get(s)! : [s.rssMb()];
      return { name: s.name, served: served.get(s)!, mb: s.rssMb(), mean: samples.reduce((a, b) => a + b, 0) / samples.length, max: Math.max(...samples) };
    });
    for (const r of end) console.log(`rss        ${r.name.padEnd(26)} end of run, after ${r.served} requests: ${r.mb.toFixed(0)} MB   (during the rounds: mean ${r.mean.toFixed(0)}, max ${r.max.toFixed(0)} MB)`);
    if (end[1]) console.log(`rss        end of run, flowcrew / node-red: ${(end[0]!.mb / end[1].mb).toFixed(2)}x   mean ${(end[0]!.mean / end[1].mean).toFixed(2)}x   max ${(end[0]!.max / end[1].max).toFixed(2)}x`);
  } finally {
    for (const server of servers) await server.stop();
  }
}

function run(command: string, argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}`))));
  });
}

console.log(`Flowcrew benchmarks — node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), ${duration} s per load point`);
if (!only || only === 'chain') {
  await chainBenchmark('all', 'disk');
  await chainBenchmark('none', 'disk');
  await chainBenchmark('all', 'memory');
}
const postgresUrl = option('postgres', '');
if (!only || only === 'webhook' || only === 'node-red') await webhookComparison(flag('node-red') || only === 'node-red', postgresUrl || undefined);
process.exit(0);
