/**
 * bench/queue.ts's webhook workload: the 6-node order flow of flows/orders-webhook.json (webhook → jsonata → switch →
 * change ×2 → webhook response), POSTed over HTTP by wrk (a separate process; autocannon in this process when wrk is
 * missing) with keep-alive connections, for a fixed time. Its runs/s, latency p50/p99 and CPU per request of each part.
 */
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import type { FlowDocument } from '../runtime/src/flow/types.ts';
import type { Runtime } from '../runtime/src/runtime.ts';
import { autocannonLoad, wrk, wrkAvailable, type LoadResult } from './load.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
const order = JSON.stringify({ id: 'B-1', customer: 'Bench', items: [{ sku: 'a', qty: 2, price: 60 }, { sku: 'b', qty: 1, price: 3.5 }] });

/** Deploys the order flow on `runtime` (a main in queue mode: the workers deploy it from storage). */
export async function deployOrderFlow(runtime: Runtime): Promise<void> {
  const flow = JSON.parse(await readFile(path.join(repoRoot, 'flows', 'orders-webhook.json'), 'utf8')) as FlowDocument;
  await runtime.createFlow({ ...flow, version: 0 });
  await runtime.deployFlow(flow.id);
}

/**
 * `seconds` of load on the server at `baseUrl` (after `warmSeconds` of the same load, at least until requests are
 * answered), `connections` at once; `cpu` is bench/queue.ts's per-part CPU meter, started here and read per request;
 * `queueWait` (queue mode) prints commit → start of the runs accepted since the given time.
 */
export async function webhookLoad(label: string, baseUrl: string, connections: number, seconds: number, cpu: () => Promise<(runs: number) => Promise<string>>, warmSeconds = 1, queueWait?: (since: number) => Promise<string>): Promise<LoadResult> {
  const target = { url: `${baseUrl}/webhook/orders`, body: order };
  const load = (s: number) => (wrkAvailable() ? wrk(target, connections, s) : autocannonLoad(target, connections, s));
  // Warm until requests are answered: a worker's first run deploys the flow there, which under a load of 15 took more
  // than the 1 s warm-up now and then (wrk then counted no answer at all).
  for (let tries = 1; ; tries++) {
    const warm = await load(1);
    if (warm.requests > warm.failures) break;
    if (tries === 10) throw new Error(`${label}: the order webhook at ${target.url} did not answer within ${tries} s of warm-up`);
  }
  if (warmSeconds > 1) await load(warmSeconds - 1);
  const meter = await cpu();
  const since = Date.now();
  const result = await load(seconds);
  const cpuLine = await meter(Math.max(1, result.requests));
  const waitLine = queueWait ? await queueWait(since) : '';
  console.log(
    `${label.padEnd(34)} ${String(result.requests).padStart(6)} requests in ${seconds} s → ${result.rps.toFixed(0).padStart(5)} runs/s  latency p50 ${result.p50.toFixed(1)} ms p99 ${result.p99.toFixed(1)} ms` +
      `${result.failures ? `  (${result.failures} failed)` : ''}${waitLine}  (${result.tool}, load ${loadavg()[0]!.toFixed(1)})`,
  );
  console.log(cpuLine);
  return result;
}
