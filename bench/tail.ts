/**
 * Where the webhook's tail waits: Flowcrew (its CLI, history kept) and Node-RED 4 serve the order flow in alternating
 * load rounds, each with bench/tail-probe.mjs preloaded, which timestamps every request inside the server (socket
 * accepted → headers parsed → reply written), every GC pause, the event loop's busy share per 10 ms and every SQLite
 * transaction. Per round it prints the first burst (the first request on each new connection: from the round's start
 * to its socket's accept, to its headers, to its reply), the server-side latency of all requests, and a timeline of
 * the round's first second in 100 ms steps, so what the slowest requests waited on can be read beside the same burst
 * on Node-RED.
 *
 * Usage: node --import tsx bench/tail.ts [--rounds 3] [--duration 5] [--connections 50] [--tool wrk|autocannon]
 *        [--rev <git rev>]... [--root <checkout dir>]... [--variant "ENV=value ..."] [--only flowcrew] [--flowcrew-node-args "<node flags>"] [--timeline 1000]
 *        [--warmup <s>] (a longer warm-up at the rounds' connections, for A/B of CPU per request)
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { autocannonLoad, wrk, wrkAvailable, type LoadResult } from './load.ts';
import { checkout } from './checkout.ts';
import { startFlowcrew, startNodeRed, type BenchServer } from './node-red.ts';

const args = process.argv.slice(2);
const values = (name: string) => args.flatMap((a, i) => (a === `--${name}` && args[i + 1] !== undefined ? [args[i + 1]!] : []));
const option = (name: string, fallback: string) => values(name)[0] ?? fallback;
const rounds = Number(option('rounds', '3'));
const duration = Number(option('duration', '5'));
const connections = Number(option('connections', '50'));
const tool = option('tool', wrkAvailable() ? 'wrk' : 'autocannon');
const timelineMs = Number(option('timeline', '1000'));
const warmup = Number(option('warmup', '0'));
const extraFlowcrewArgs = option('flowcrew-node-args', '').split(' ').filter(Boolean);
const body = JSON.stringify({ id: 'B-1', customer: 'Bench', items: [{ sku: 'a', qty: 2, price: 60 }, { sku: 'b', qty: 1, price: 3.5 }] });
const probe = path.join(import.meta.dirname, 'tail-probe.mjs');

interface Dump {
  requests: Array<{ accepted: number; parsed: number; finished: number; connection: number; onConnection: number }>;
  gcs: Array<{ at: number; ms: number; kind: number }>;
  /** [when, event-loop busy %, process CPU µs so far] every 10 ms. */
  busy: Array<[number, number, number]>;
  commits: Array<{ at: number; ms: number; statements: number }>;
}

interface Probed {
  server: BenchServer;
  out: string;
}

const wall = () => performance.timeOrigin + performance.now();
const pct = (values: number[], p: number) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const f = (ms: number) => (Number.isNaN(ms) ? '   -  ' : ms.toFixed(1).padStart(6));

/** Ask the probe for what it recorded since the last dump (SIGWINCH) and read it. */
async function dump(probed: Probed): Promise<Dump> {
  const before = existsSync(probed.out) ? readFileSync(probed.out, 'utf8').length : 0;
  process.kill(probed.server.pid, 'SIGWINCH');
  for (let i = 0; i < 200; i++) {
    await new Promise((r) => setTimeout(r, 25));
    const text = existsSync(probed.out) ? readFileSync(probed.out, 'utf8') : '';
    if (text.length > before && text.endsWith('\n')) return JSON.parse(text.slice(before)) as Dump;
  }
  throw new Error(`${probed.server.name}: the probe wrote nothing (is bench/tail-probe.mjs preloaded?)`);
}

function report(name: string, start: number, load: LoadResult, d: Dump): void {
  const done = d.requests.filter((r) => r.finished > 0);
  const firsts = done.filter((r) => r.onConnection === 1 && r.accepted >= start - 50);
  const service = done.map((r) => r.finished - r.parsed);
  console.log(
    `${name.padEnd(26)} ${load.tool} ${load.rps.toFixed(0).padStart(5)} req/s  client p99 ${f(load.p99)} max ${f(load.max)} ms | in the server: ` +
      `p50 ${f(pct(service, 50))} p99 ${f(pct(service, 99))} max ${f(Math.max(...service))} ms (headers parsed → reply written)`,
  );
  if (firsts.length > 0) {
    const accept = firsts.map((r) => r.accepted - start);
    const read = firsts.map((r) => r.parsed - r.accepted);
    const serve = firsts.map((r) => r.finished - r.parsed);
    const total = firsts.map((r) => r.finished - start);
    console.log(
      `  first burst (${firsts.length} new connections): round start → accept p50 ${f(pct(accept, 50))} max ${f(Math.max(...accept))} | accept → headers p50 ${f(pct(read, 50))} max ${f(Math.max(...read))} | ` +
        `headers → reply p50 ${f(pct(serve, 50))} max ${f(Math.max(...serve))} | start → reply max ${f(Math.max(...total))} ms`,
    );
    // CPU, not wall time (the machine is shared): what the server spent until the burst was answered, per request
    // answered by then, against the same over the whole round.
    const burstEnd = start + Math.max(...total);
    const cpuAt = (at: number) => d.busy.reduce((best, b) => (b[0] <= at ? b : best), d.busy[0]!)[2];
    const burstCpu = cpuAt(burstEnd + 10) - cpuAt(start);
    const burstServed = done.filter((r) => r.finished <= burstEnd).length;
    const roundCpu = cpuAt(Math.max(...done.map((r) => r.finished)) + 10) - cpuAt(start);
    console.log(
      `  CPU until the burst was answered: ${(burstCpu / 1000).toFixed(1)} ms for ${burstServed} replies = ${(burstCpu / Math.max(1, burstServed)).toFixed(0)} µs/reply; ` +
        `whole round ${(roundCpu / Math.max(1, done.length)).toFixed(0)} µs/reply`,
    );
  }
  // The slowest 1 % in the server: when were their headers parsed, relative to the round's start?
  const slow = [...done].sort((a, b) => b.finished - b.parsed - (a.finished - a.parsed)).slice(0, Math.max(1, Math.floor(done.length / 100)));
  const slowAt = slow.map((r) => r.parsed - start);
  console.log(`  slowest 1 % (${slow.length}): parsed at ${f(pct(slowAt, 0))} … ${f(Math.max(...slowAt))} ms after the start; first-on-connection ${slow.filter((r) => r.onConnection === 1).length}`);
  console.log('  t(ms)   parsed  replied  busy%   gc ms (n)   sqlite ms (n, max)');
  for (let t = 0; t < timelineMs; t += 100) {
    const within = (at: number) => at >= start + t && at < start + t + 100;
    const busy = d.busy.filter(([at]) => within(at)).map(([, u]) => u);
    const gcs = d.gcs.filter((g) => within(g.at));
    const commits = d.commits.filter((c) => within(c.at));
    console.log(
      `  ${String(t).padStart(5)}  ${String(d.requests.filter((r) => within(r.parsed)).length).padStart(6)}  ${String(done.filter((r) => within(r.finished)).length).padStart(7)}  ` +
        `${(busy.length ? busy.reduce((a, b) => a + b, 0) / busy.length : NaN).toFixed(0).padStart(5)}  ${gcs.reduce((a, g) => a + g.ms, 0).toFixed(1).padStart(7)} (${gcs.length})  ` +
        `${commits.reduce((a, c) => a + c.ms, 0).toFixed(1).padStart(8)} (${commits.length}, ${f(Math.max(0, ...commits.map((c) => c.ms)))})`,
    );
  }
  const gcMs = d.gcs.reduce((a, g) => a + g.ms, 0);
  const worstGc = Math.max(0, ...d.gcs.map((g) => g.ms));
  const commitMs = d.commits.reduce((a, c) => a + c.ms, 0);
  const checkpoints = d.commits.filter((c) => c.statements < 0);
  console.log(
    `  whole round: gc ${gcMs.toFixed(0)} ms in ${d.gcs.length} pauses (max ${worstGc.toFixed(1)}), sqlite ${commitMs.toFixed(0)} ms in ${d.commits.length} transactions (max ${f(Math.max(0, ...d.commits.map((c) => c.ms)))})` +
      (checkpoints.length ? `, of which checkpoints on the loop ${checkpoints.reduce((a, c) => a + c.ms, 0).toFixed(0)} ms in ${checkpoints.length} (max ${f(Math.max(...checkpoints.map((c) => c.ms)))})` : ''),
  );
}

const dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-tail-'));
const servers: Probed[] = [];
try {
  const probeArgs = ['--import', probe];
  // Flowcrew from each --rev (git archive checkouts: others' uncommitted edits stay out), else this working tree;
  // --variant "ENV=value ..." adds the first of them again with these variables (an experiment), measured alike.
  // --root <dir>: a prepared checkout (e.g. an experiment's edits on one of them).
  const roots: Array<{ label: string; root: string | undefined }> = [...values('rev').map((rev) => ({ label: rev, root: checkout(rev, dir) })), ...values('root').map((root) => ({ label: path.basename(path.dirname(root)) + '/' + path.basename(root), root }))];
  if (roots.length === 0) roots.push({ label: 'tree', root: undefined });
  const variant = option('variant', '');
  const env = variant ? Object.fromEntries(variant.split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])) : undefined;
  const flowcrews = [...roots.map((r) => ({ ...r, env: {} })), ...(env ? [{ ...roots[0]!, label: `${roots[0]!.label} ${variant}`, env }] : [])];
  for (const [i, fc] of flowcrews.entries()) {
    const out = path.join(dir, `flowcrew-${i}.jsonl`);
    const server = await startFlowcrew(body, { root: fc.root, retention: 'all', nodeArgs: [...probeArgs, ...extraFlowcrewArgs], env: { ...fc.env, FLOWCREW_TAIL_PROBE_OUT: out } });
    servers.push({ server: { ...server, name: flowcrews.length > 1 ? `flowcrew ${fc.label}` : server.name }, out });
  }
  if (option('only', '') !== 'flowcrew') {
    const nrOut = path.join(dir, 'node-red.jsonl');
    servers.push({ server: await startNodeRed(body, { nodeArgs: probeArgs, env: { FLOWCREW_TAIL_PROBE_OUT: nrOut } }), out: nrOut });
  }
  for (const s of servers) {
    // The same warm-up as bench/run.ts (2 s at 10 connections), or --warmup <s> at the rounds' connections: a
    // server's first rounds after 2 s are still JIT-cold (CPU per request falling round after round).
    if (warmup > 0) await autocannonLoad({ url: s.server.url, body }, connections, warmup);
    else await autocannonLoad({ url: s.server.url, body }, 10, 2);
    await dump(s);
  }
  console.log(`${tool}, ${connections} connections, ${duration} s rounds; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  for (let round = 0; round < rounds; round++) {
    for (const s of round % 2 === 0 ? servers : [...servers].reverse()) {
      const start = wall();
      const cpu = s.server.cpuSeconds();
      const load = tool === 'wrk' ? await wrk({ url: s.server.url, body }, connections, duration) : await autocannonLoad({ url: s.server.url, body }, connections, duration);
      const cpuUs = ((s.server.cpuSeconds() - cpu) * 1e6) / Math.max(1, load.requests);
      report(`${s.server.name} r${round + 1}`, start, load, await dump(s));
      console.log(`  server CPU ${cpuUs.toFixed(0)} µs/request; load average ${loadavg()[0]!.toFixed(1)}`);
    }
  }
} finally {
  for (const s of servers) await s.server.stop();
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
