/**
 * What the host-side limits of issue 7 cost (figures printed, never asserted), with and without them in the same
 * run, interleaved so that a busy machine affects both alike:
 * 1. per evaluation: JSONata (the order flow's expression, and one with a regex), a switch regex rule and a change
 *    regex replace, under the limits (time/depth/size hooks, RE2) and plain (JSONata and RegExp as before);
 * 2. the webhook path of flows/orders-webhook.json under autocannon (in its own process), against the same flow whose jsonata node
 *    evaluates plain JSONata (its switch and change rules use neither JSONata nor regexes: the limits cost them
 *    nothing), as server CPU per request (the figure a busy machine disturbs least), req/s and mean latency.
 *
 * Usage: node --import tsx bench/limits.ts [--duration 1] [--pairs 12] [--connections 10]   (loopback only, ~45 s)
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import jsonata from 'jsonata';
import { defineNode } from '../nodes/sdk/src/index.ts';
import { compileJsonata } from '@flowcrew/sdk/util';
import { setMessageProperty } from '@flowcrew/sdk/util';
import { SafeRegExp } from '@flowcrew/sdk/util';
import { MemoryContext } from '../nodes/sdk/src/testing.ts';
import { loadConfig } from '../runtime/src/config.ts';
import { startServer } from '../runtime/src/server.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const duration = Number(option('duration', '1'));
const pairs = Number(option('pairs', '12'));
const connections = Number(option('connections', '10'));
const repoRoot = path.resolve(import.meta.dirname, '..');
const order = { id: 'B-1', customer: 'Bench', note: 'two  mugs,\tone   pen', items: [{ sku: 'a', qty: 2, price: 60 }, { sku: 'b', qty: 1, price: 3.5 }] };
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const percent = (limited: number, plain: number) => `${((limited / plain - 1) * 100).toFixed(1).padStart(5)} %`;

/**
 * CPU µs per call of each variant and the cost of the limits. The machine is shared and its load changes by the
 * second: the process's own CPU time is counted (not wall time, which includes waiting for other processes), the
 * variants alternate in short chunks, and the figure is the median of the chunk-pair ratios.
 */
async function compare(label: string, variants: { limited: () => unknown; plain: () => unknown }, chunk: number, pairs = 40): Promise<{ limited: number; plain: number }> {
  const time = async (fn: () => unknown) => {
    const started = process.cpuUsage();
    for (let i = 0; i < chunk; i++) await fn();
    const used = process.cpuUsage(started);
    return (used.user + used.system) / chunk;
  };
  for (const fn of Object.values(variants)) await time(fn); // warm-up
  const limited: number[] = [];
  const plain: number[] = [];
  const ratios: number[] = [];
  for (let pair = 0; pair < pairs; pair++) {
    const first = pair % 2 ? 'plain' : 'limited';
    const a = await time(variants[first]);
    const b = await time(variants[first === 'plain' ? 'limited' : 'plain']);
    const [l, p] = first === 'limited' ? [a, b] : [b, a];
    limited.push(l);
    plain.push(p);
    ratios.push(l / p);
  }
  const result = { limited: median(limited), plain: median(plain) };
  const cost = (median(ratios) - 1) * 100;
  console.log(`${label.padEnd(44)} limited ${result.limited.toFixed(2).padStart(7)} µs   plain ${result.plain.toFixed(2).padStart(7)} µs   ${cost >= 0 ? '+' : ''}${cost.toFixed(1)} %`);
  return result;
}

async function perEvaluation(): Promise<number> {
  const contexts = { flow: new MemoryContext(), global: new MemoryContext() };
  const msg = { payload: order };
  const ordersSource = "{ 'orderId': payload.id, 'customer': payload.customer, 'items': $count(payload.items), 'total': $round($sum(payload.items.(qty * price)), 2) }";
  const limitedOrders = compileJsonata(ordersSource, contexts);
  const plainOrders = jsonata(ordersSource);
  const jsonataCost = await compare('JSONata: the order flow expression', { limited: () => limitedOrders.evaluate(msg), plain: () => plainOrders.evaluate(msg) }, 500);

  const regexSource = '$replace(payload.note, /\\s+/, " ")';
  const limitedRegex = compileJsonata(regexSource, contexts);
  const plainRegex = jsonata(regexSource);
  await compare('JSONata: $replace with a regex literal', { limited: () => limitedRegex.evaluate(msg), plain: () => plainRegex.evaluate(msg) }, 500);

  // The switch node's regex rule: compiled at deploy, tested per message.
  const safeRule = new SafeRegExp('^[A-Z]-\\d+$', 'i');
  const nativeRule = new RegExp('^[A-Z]-\\d+$', 'i');
  await compare('switch: regex rule ^[A-Z]-\\d+$ (test)', { limited: () => safeRule.test(order.id), plain: () => nativeRule.test(order.id) }, 5_000);

  // The change node's regex replace (global).
  const safeFrom = new SafeRegExp('\\s+', 'g');
  const nativeFrom = new RegExp('\\s+', 'g');
  await compare('change: replace /\\s+/g', { limited: () => order.note.replace(safeFrom, ' '), plain: () => order.note.replace(nativeFrom, ' ') }, 2_000);

  // A pattern RE2 cannot run keeps JavaScript's engine, under a deadline per use.
  const safeLookahead = new SafeRegExp('^(?=.*\\d)[a-z0-9]+$');
  const nativeLookahead = /^(?=.*\d)[a-z0-9]+$/;
  await compare('switch: lookahead rule (deadline-bound)', { limited: () => safeLookahead.test('abc123'), plain: () => nativeLookahead.test('abc123') }, 200);
  return jsonataCost.limited - jsonataCost.plain;
}

/** The jsonata node as it was before the limits: plain JSONata, for the baseline flow. */
const plainJsonataNode = defineNode<{ expression: string; property?: string }>({
  type: 'bench-plain-jsonata',
  category: 'transform',
  label: 'plain JSONata (benchmark baseline)',
  help: 'The jsonata node as it was before the limits, for bench/limits.ts.',
  inputs: 1,
  outputs: 1,
  props: { type: 'object', properties: { expression: { type: 'string' }, property: { type: 'string' } } },
  create({ props }) {
    const expression = jsonata(props.expression);
    return {
      async onInput(msg) {
        setMessageProperty(msg, props.property || 'payload', await expression.evaluate(msg));
        return msg;
      },
    };
  },
});

/**
 * autocannon in its own process, so that this process's CPU time is the server's alone: CPU µs per request, and
 * req/s and mean latency as autocannon saw them.
 */
function load(url: string, seconds: number): Promise<{ rps: number; latency: number; cpuPerRequest: number; failures: number }> {
  const cli = path.join(repoRoot, 'node_modules', 'autocannon', 'autocannon.js');
  const argv = [cli, '-j', '-c', String(connections), '-d', String(seconds), '-m', 'POST', '-H', 'content-type=application/json', '-b', JSON.stringify(order), url];
  const cpuBefore = process.cpuUsage();
  return new Promise((resolve, reject) => {
    execFile(process.execPath, argv, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      if (error) return reject(error);
      const cpu = process.cpuUsage(cpuBefore);
      const r = JSON.parse(stdout) as { requests: { average: number; total: number }; latency: { average: number }; non2xx: number; errors: number };
      resolve({ rps: r.requests.average, latency: r.latency.average, cpuPerRequest: (cpu.user + cpu.system) / Math.max(1, r.requests.total), failures: r.non2xx + r.errors });
    });
  });
}

async function webhookPath(addedJsonataUs: number): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-bench-limits-'));
  const server = await startServer(loadConfig({ ...process.env, DATABASE_URL: '' }, { port: 0, dataDir, flowsDir: null, logLevel: 'error', retention: { mode: 'all', maxAgeMs: 0 } }));
  try {
    server.runtime.registry.register([plainJsonataNode], 'bench');
    const flow = JSON.parse(await readFile(path.join(repoRoot, 'flows', 'orders-webhook.json'), 'utf8'));
    const plain = structuredClone(flow);
    plain.id = 'orders-plain';
    plain.nodes.find((n: { id: string }) => n.id === 'order-in').props.url = '/orders-plain';
    plain.nodes.find((n: { id: string }) => n.id === 'total').type = 'bench-plain-jsonata';
    for (const doc of [flow, plain]) {
      await server.runtime.createFlow(doc);
      await server.runtime.deployFlow(doc.id);
    }
    const urls = { limited: `${server.url}/webhook/orders`, plain: `${server.url}/webhook/orders-plain` };
    for (const url of Object.values(urls)) await load(url, 2); // warm-up
    // Alternating short runs; the cost is the median of the pair ratios (the load of a shared machine drifts).
    const rps = { limited: [] as number[], plain: [] as number[] };
    const latency = { limited: [] as number[], plain: [] as number[] };
    const cpu = { limited: [] as number[], plain: [] as number[] };
    const ratios: number[] = [];
    for (let pair = 0; pair < pairs; pair++) {
      const sequence = pair % 2 ? (['plain', 'limited'] as const) : (['limited', 'plain'] as const);
      const results: Partial<Record<'limited' | 'plain', { cpuPerRequest: number }>> = {};
      for (const name of sequence) {
        const r = await load(urls[name], duration);
        if (r.failures) console.log(`  (${name}: ${r.failures} failed requests)`);
        results[name] = r;
        rps[name].push(r.rps);
        latency[name].push(r.latency);
        cpu[name].push(r.cpuPerRequest);
      }
      ratios.push(results.limited!.cpuPerRequest / results.plain!.cpuPerRequest);
    }
    const cost = (median(ratios) - 1) * 100;
    console.log(`webhook orders (flows/orders-webhook.json), c=${connections}, ${pairs} alternating pairs of ${duration} s runs, medians:`);
    console.log(`  limited ${median(rps.limited).toFixed(0).padStart(6)} req/s  mean ${median(latency.limited).toFixed(2)} ms  server CPU ${median(cpu.limited).toFixed(0)} µs per request`);
    console.log(`  plain   ${median(rps.plain).toFixed(0).padStart(6)} req/s  mean ${median(latency.plain).toFixed(2)} ms  server CPU ${median(cpu.plain).toFixed(0)} µs per request`);
    const spread = `${((Math.min(...ratios) - 1) * 100).toFixed(1)} … ${((Math.max(...ratios) - 1) * 100).toFixed(1)} %`;
    console.log(`  cost of the limits on the webhook path: ${cost >= 0 ? '+' : ''}${cost.toFixed(1)} % server CPU per request (median of the pair ratios; spread ${spread})`);
    const requestUs = median(cpu.limited);
    // The same cost derived from the per-evaluation figure: the JSONata node is the only one on this path whose work changed.
    console.log(`  derived: +${addedJsonataUs.toFixed(2)} µs of JSONata CPU per request of ${requestUs.toFixed(0)} µs → ${((addedJsonataUs / requestUs) * 100).toFixed(1)} %`);
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

console.log(`Host-side limits — node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'})`);
const added = await perEvaluation();
await webhookPath(added);
process.exit(0);
