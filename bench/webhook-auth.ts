/**
 * What webhook authentication costs (figures printed, never asserted):
 * 1. the guard alone, per request: basic, header token, HMAC-SHA256 over a ~1 KB body (with the replay memory);
 * 2. a real runtime: requests/s and latency of a webhook (durable 202) with no auth, basic, header token and HMAC,
 *    every HMAC request freshly signed (a repeated one would be a replay);
 * and the guard's cost as a share of a webhook request without auth.
 *
 * Usage: node --import tsx bench/webhook-auth.ts [--duration 5] [--connections 10]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { signWebhook, WebhookGuard } from '../runtime/src/api/webhook-guard.ts';
import { loadConfig } from '../runtime/src/config.ts';
import { startServer } from '../runtime/src/server.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const duration = Number(option('duration', '5'));
const connections = Number(option('connections', '10'));
const SECRET = 'bench-signing-secret-0123456789';
const filler = 'x'.repeat(1000);
const bodyOf = (i: number) => JSON.stringify({ i, filler });

function micro(): Record<string, number> {
  const n = 20_000;
  const guard = new WebhookGuard({ replayMemory: 50_000 });
  const basic = { type: 'basic' as const, username: 'sender', password: 'a long password for the bench' };
  const basicHeaders = { authorization: `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}` };
  const header = { type: 'header' as const, header: 'X-Api-Key', token: 'tok_0123456789abcdef0123456789' };
  const hmac = { type: 'hmac' as const, secret: SECRET };
  const ts = String(Math.floor(Date.now() / 1000));
  const signed = Array.from({ length: n }, (_, i) => {
    const raw = Buffer.from(bodyOf(i));
    const { signature } = signWebhook({ secret: SECRET }, raw, ts);
    return { raw, headers: { 'x-flowcrew-signature': signature, 'x-flowcrew-timestamp': ts } };
  });
  const time = (work: (i: number) => unknown) => {
    for (let i = 0; i < 2000; i++) work(i % n); // warm-up
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) work(i);
    return Number(process.hrtime.bigint() - start) / 1000 / n;
  };
  const results = {
    basic: time(() => guard.beforeBody(basic, basicHeaders)),
    header: time(() => guard.beforeBody(header, { 'x-api-key': header.token })),
    hmac: time((i) => {
      const s = signed[i]!;
      guard.beforeBody(hmac, s.headers);
      return guard.afterBody(hmac, s.headers, s.raw, i < 2000 ? 'warm' : 'bench');
    }),
  };
  for (const [mode, us] of Object.entries(results)) console.log(`guard ${mode.padEnd(7)} ${us.toFixed(2).padStart(7)} µs per request`);
  return results;
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

function load(url: string, headersFor: (i: number) => Record<string, string>): Promise<Load> {
  let i = 0;
  const request = () => {
    i++;
    const body = bodyOf(i);
    return { method: 'POST', path: new URL(url).pathname, headers: { 'content-type': 'application/json', ...headersFor(i), ...signIfNeeded(url, body) }, body };
  };
  return new Promise((resolve, reject) => {
    // autocannon's setupRequest builds every request afresh (a fresh signature for each).
    const options = { url, connections, duration, requests: [{ setupRequest: (req: object) => ({ ...req, ...request() }) }] };
    (autocannon as unknown as (o: unknown, cb: (e: Error | null, r: { requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number }) => void) => void)(options, (error, result) => {
      if (error) return reject(error);
      resolve({ rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx });
    });
  });
}

function signIfNeeded(url: string, body: string): Record<string, string> {
  if (!url.endsWith('/hmac')) return {};
  const { signature, timestamp } = signWebhook({ secret: SECRET }, body);
  return { 'x-flowcrew-signature': signature, 'x-flowcrew-timestamp': timestamp };
}

async function endToEnd(): Promise<Record<string, Load>> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-bench-'));
  const server = await startServer(loadConfig({ ...process.env, DATABASE_URL: '' }, { port: 0, dataDir, flowsDir: null, logLevel: 'error', retention: { mode: 'none', maxAgeMs: 0 } }));
  const runtime = server.runtime;
  const basic = await runtime.vault.save({ name: 'basic', type: 'webhook-auth', fields: { username: 'sender', password: 'a long password for the bench' } });
  const header = await runtime.vault.save({ name: 'header', type: 'webhook-auth', fields: { header: 'X-Api-Key', token: 'tok_0123456789abcdef0123456789' } });
  const hmac = await runtime.vault.save({ name: 'hmac', type: 'webhook-auth', fields: { secret: SECRET } });
  const hook = (id: string, props: Record<string, unknown>, credentials?: string) => ({ id, type: 'webhook', name: id, props: { url: `/${id}`, ...props }, ...(credentials ? { credentials } : {}), wires: [] });
  await runtime.createFlow({ id: 'bench', name: 'bench', version: 0, nodes: [hook('none', {}), hook('basic', { auth: 'basic' }, basic.id), hook('header', { auth: 'header' }, header.id), hook('hmac', { auth: 'hmac' }, hmac.id)] } as never);
  await runtime.deployFlow('bench');
  const headers: Record<string, (i: number) => Record<string, string>> = {
    none: () => ({}),
    basic: () => ({ authorization: `Basic ${Buffer.from('sender:a long password for the bench').toString('base64')}` }),
    header: () => ({ 'x-api-key': 'tok_0123456789abcdef0123456789' }),
    hmac: () => ({}),
  };
  const results: Record<string, Load> = {};
  await load(`${server.url}/webhook/none`, headers.none!); // warm-up
  for (const mode of ['none', 'basic', 'header', 'hmac']) {
    const r = await load(`${server.url}/webhook/${mode}`, headers[mode]!);
    results[mode] = r;
    console.log(`webhook ${mode.padEnd(7)} c=${connections}  ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms${r.non2xx ? `  (non-2xx ${r.non2xx})` : ''}`);
  }
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
  return results;
}

const guardCost = micro();
const e2e = await endToEnd();
// Per-request cost of the plain webhook at saturation (both cores busy): 1/rps.
const requestUs = 1e6 / e2e.none!.rps;
console.log(`webhook request (no auth): ${requestUs.toFixed(0)} µs of runtime time per request (1/throughput at c=${connections})`);
for (const [mode, us] of Object.entries(guardCost)) console.log(`  ${mode.padEnd(7)} guard = ${((100 * us) / requestUs).toFixed(2)} % of it`);
