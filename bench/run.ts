/**
 * Benchmarks (figures printed, never asserted):
 * 1. per-node overhead: messages through a 10-node chain, durable storage on, history kept and not kept;
 * 2. the example webhook order flow under autocannon at 1 and 50 connections, run history on and off;
 * 3. with --node-red: the same order flow on Node-RED (installed into .cache/node-red from npm) on this machine.
 *
 * Usage: node --import tsx bench/run.ts [--duration 10] [--only chain|webhook|node-red] [--node-red] [--postgres <empty-db-url>]
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, cpus } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { loadConfig } from '../runtime/src/config.ts';
import { Runtime } from '../runtime/src/runtime.ts';
import { startServer } from '../runtime/src/server.ts';
import type { RetentionMode } from '../runtime/src/storage/types.ts';
import { deployChain } from './chain.ts';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const duration = Number(option('duration', '10'));
const only = option('only', '');
const repoRoot = path.resolve(import.meta.dirname, '..');

const order = { id: 'B-1', customer: 'Bench', items: [{ sku: 'a', qty: 2, price: 60 }, { sku: 'b', qty: 1, price: 3.5 }] };

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'flowcrew-bench-'));
}

/** Per-node overhead: N messages through inject → 9 change nodes, with at most `inFlight` runs at once. */
async function chainBenchmark(retention: RetentionMode, where: 'disk' | 'memory', messages = 20_000, inFlight = 256): Promise<void> {
  const dataDir = where === 'memory' ? ':memory:' : await tempDir();
  const runtime = await Runtime.create(loadConfig({ ...process.env, DATABASE_URL: '' }, { dataDir, flowsDir: null, logLevel: 'error', retention: { mode: retention, maxAgeMs: 0 } }), {
    loadExamples: false,
  });
  const runOne = await deployChain(runtime);
  // Warm up JIT and caches.
  await Promise.all(Array.from({ length: 500 }, runOne));
  const memBefore = process.memoryUsage().heapUsed;
  const start = process.hrtime.bigint();
  let started = 0;
  const worker = async () => {
    while (started < messages) {
      started++;
      await runOne();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsedNs = Number(process.hrtime.bigint() - start);
  const perNodeUs = elapsedNs / 1000 / (messages * 10);
  console.log(
    `chain  sqlite=${where.padEnd(6)} history=${retention.padEnd(4)}  ${messages} msgs x 10 nodes in ${(elapsedNs / 1e9).toFixed(2)} s  ` +
      `→ ${(messages / (elapsedNs / 1e9)).toFixed(0)} runs/s, ${perNodeUs.toFixed(1)} µs per node, heap +${((process.memoryUsage().heapUsed - memBefore) / 1e6).toFixed(1)} MB`,
  );
  await runtime.close();
  if (where === 'disk') await rm(dataDir, { recursive: true, force: true });
}

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

function load(url: string, connections: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    autocannon(
      { url, connections, duration, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(order) },
      (error, result) => {
        if (error) return reject(error);
        resolve({ rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors });
      },
    );
  });
}

function printLoad(label: string, connections: number, r: LoadResult): void {
  console.log(
    `${label.padEnd(34)} c=${String(connections).padStart(2)}  ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms` +
      (r.non2xx || r.errors ? `  (non-2xx ${r.non2xx}, errors ${r.errors})` : ''),
  );
}

/** The example order webhook; on SQLite in a temp dir, or on PostgreSQL when `databaseUrl` is given (an empty database). */
async function webhookBenchmark(retention: RetentionMode, databaseUrl?: string): Promise<void> {
  const dataDir = await tempDir();
  const server = await startServer(
    loadConfig(
      { ...process.env, DATABASE_URL: databaseUrl ?? '' },
      { port: 0, dataDir, flowsDir: path.join(repoRoot, 'flows'), logLevel: 'error', retention: { mode: retention, maxAgeMs: 0 } },
    ),
  );
  const url = `${server.url}/webhook/orders`;
  await load(url, 10).catch(() => undefined); // warm-up (short: duration applies, so keep it)
  const label = `flowcrew orders ${databaseUrl ? 'postgres' : 'sqlite'} history=${retention}`;
  for (const connections of [1, 50]) printLoad(label, connections, await load(url, connections));
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
}

/** The same order flow on Node-RED (installed into .cache/node-red by `scripts/services nodered`). */
async function nodeRedBenchmark(): Promise<void> {
  const home = path.join(repoRoot, '.cache', 'node-red');
  if (!existsSync(path.join(home, 'node_modules', 'node-red'))) await run('bash', [path.join(repoRoot, 'scripts', 'services'), 'nodered']);
  const userDir = await tempDir();
  const port = 18800 + Math.floor(Math.random() * 100);
  const flows = [
    { id: 'tab', type: 'tab', label: 'orders' },
    { id: 'in', type: 'http in', z: 'tab', url: '/orders', method: 'post', wires: [['total']] },
    {
      id: 'total', type: 'change', z: 'tab',
      rules: [{ t: 'set', p: 'payload', pt: 'msg', to: "{ 'orderId': payload.id, 'customer': payload.customer, 'items': $count(payload.items), 'total': $round($sum(payload.items.(qty * price)), 2) }", tot: 'jsonata' }],
      wires: [['route']],
    },
    { id: 'route', type: 'switch', z: 'tab', property: 'payload.total', propertyType: 'msg', rules: [{ t: 'gte', v: '100', vt: 'num' }, { t: 'else' }], checkall: 'false', outputs: 2, wires: [['review'], ['auto']] },
    { id: 'review', type: 'change', z: 'tab', rules: [{ t: 'set', p: 'payload.status', pt: 'msg', to: 'review', tot: 'str' }], wires: [['out']] },
    { id: 'auto', type: 'change', z: 'tab', rules: [{ t: 'set', p: 'payload.status', pt: 'msg', to: 'approved', tot: 'str' }], wires: [['out']] },
    { id: 'out', type: 'http response', z: 'tab', statusCode: '', headers: {}, wires: [] },
  ];
  await writeFile(path.join(userDir, 'flows.json'), JSON.stringify(flows));
  await writeFile(path.join(userDir, 'settings.js'), `module.exports = { uiPort: ${port}, uiHost: '127.0.0.1', flowFile: 'flows.json', logging: { console: { level: 'warn' } }, editorTheme: { tours: false } };`);
  const child = spawn(process.execPath, [path.join(home, 'node_modules', 'node-red', 'red.js'), '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], { stdio: 'ignore' });
  try {
    const url = `http://127.0.0.1:${port}/orders`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ok = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(order) }).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error('Node-RED did not start');
      await new Promise((r) => setTimeout(r, 250));
    }
    await load(url, 10);
    for (const connections of [1, 50]) printLoad('node-red orders (no run history)', connections, await load(url, connections));
  } finally {
    child.kill('SIGTERM');
    await rm(userDir, { recursive: true, force: true });
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
if (!only || only === 'webhook') {
  await webhookBenchmark('all');
  await webhookBenchmark('none');
}
const postgresUrl = option('postgres', '');
if (postgresUrl && (!only || only === 'webhook')) await webhookBenchmark('all', postgresUrl);
if (flag('node-red') || only === 'node-red') await nodeRedBenchmark();
process.exit(0);
