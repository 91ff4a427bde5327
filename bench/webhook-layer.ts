/**
 * The webhook's HTTP layer alone: the guards as app.ts mounts them for /webhook (Host check, helmet, rate limit),
 * the fast path, the webhook handler (route match, content type, body read and parse, depth check) and the reply
 * writer, with a route that answers the order flow's reply at once (no executor, no storage). Each checkout's
 * layer runs in its own process (through tsx); wrk loads them in alternating rounds; printed: the server's CPU µs
 * per request per round, the medians and the ratio of the second to the first per round.
 *
 * Usage: node --import tsx bench/webhook-layer.ts [--rev <rev>]... [--root <checkout dir>]... [--rounds 8] [--duration 3]
 *        (no --rev/--root: this tree; wrk from `scripts/services wrk`)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkout } from './checkout.ts';
import { wrk } from './load.ts';

const args = process.argv.slice(2);
const values = (name: string) => args.flatMap((a, i) => (a === `--${name}` && args[i + 1] !== undefined ? [args[i + 1]!] : []));
const option = (name: string, fallback: string) => values(name)[0] ?? fallback;
const body = JSON.stringify({ id: 'B-1', customer: 'Bench', items: [{ sku: 'a', qty: 2, price: 60 }, { sku: 'b', qty: 1, price: 3.5 }] });

/** Serve one checkout's webhook layer on `port` (the child process). */
async function serve(root: string, port: number): Promise<void> {
  const imp = (p: string) => import(pathToFileURL(path.join(root, p)).href);
  const { webhookHandler, webhookRouter } = await imp('runtime/src/api/webhook-http.ts');
  const { withWebhookFastPath, appClasses } = await imp('runtime/src/api/webhook-fast-path.ts');
  const { WebhookRouter } = await imp('runtime/src/api/webhooks.ts');
  const { httpGuards } = await imp('runtime/src/identity/http-guards.ts');
  const { openTestIdentity, testConfig, quietLog } = await imp('runtime/src/identity/testing.ts');
  const { errorHandler } = await imp('runtime/src/api/problem.ts');
  const express = (await import(pathToFileURL(path.join(root, 'node_modules/express/index.js')).href)).default;
  const config = testConfig();
  const guards = httpGuards(config, (await openTestIdentity(config)).identity);
  const routes = new WebhookRouter();
  routes.register({
    method: 'POST',
    path: '/orders',
    handle: async (r: { body: { id: string; customer: string; items: unknown[] } }) => ({
      status: 200,
      headers: {},
      body: { orderId: r.body.id, customer: r.body.customer, items: r.body.items.length, total: 123.5, status: 'review' },
    }),
  });
  const handler = webhookHandler({ webhooks: routes, config, log: { ...quietLog, child: () => quietLog } });
  const app = express();
  const front = [guards.hostCheck, guards.helmet];
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(front);
  app.use('/webhook', guards.rateLimit.webhook, webhookRouter(handler));
  const onError = errorHandler(quietLog, '1mb');
  app.use(onError);
  const listener = withWebhookFastPath(app, { guards: [...front, guards.rateLimit.webhook], handler, onError });
  createServer(appClasses(app), listener).listen(port, '127.0.0.1', () => console.log('ready'));
}

const cpuOf = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

if (args[0] === '--serve') {
  process.on('SIGTERM', () => process.exit(0)); // an orderly exit, so `node --cpu-prof` writes its profile
  await serve(args[1]!, Number(args[2]));
} else {
  const rounds = Number(option('rounds', '8'));
  const duration = Number(option('duration', '3'));
  const dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-layer-'));
  const roots = [...values('rev').map((rev) => ({ name: rev, root: checkout(rev, path.join(dir, String(Math.random()).slice(2))) })), ...values('root').map((root) => ({ name: root, root }))];
  if (roots.length === 0) roots.push({ name: 'tree', root: path.resolve(import.meta.dirname, '..') });
  const servers: Array<{ name: string; url: string; child: ChildProcess; cpu: number[] }> = [];
  try {
    for (const [i, { name, root }] of roots.entries()) {
      const port = 19_000 + Math.floor(Math.random() * 900) * 2 + i;
      const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--serve', root, String(port)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d) => String(d).includes('ready') && resolve());
        child.once('exit', (code) => reject(new Error(`${name}: the layer exited (${code})`)));
      });
      servers.push({ name, url: `http://127.0.0.1:${port}/webhook/orders`, child, cpu: [] });
    }
    for (const s of servers) await wrk({ url: s.url, body }, 50, 6); // warm-up (JIT)
    console.log(`wrk, 50 connections, ${duration} s rounds; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    for (let round = 0; round < rounds; round++) {
      for (const s of round % 2 === 0 ? servers : [...servers].reverse()) {
        const before = cpuOf(s.child.pid!);
        const r = await wrk({ url: s.url, body }, 50, duration);
        s.cpu.push(((cpuOf(s.child.pid!) - before) * 1e6) / r.requests);
        console.log(`${s.name.padEnd(40)} r${round + 1} ${r.rps.toFixed(0).padStart(6)} req/s  failures ${r.failures}  server CPU ${s.cpu.at(-1)!.toFixed(1)} µs/request; load ${loadavg()[0]!.toFixed(1)}`);
      }
    }
    const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
    console.log(`medians: ${servers.map((s) => `${s.name} ${median(s.cpu).toFixed(1)} µs`).join(' | ')}`);
    if (servers.length >= 2) {
      const ratios = servers[1]!.cpu.map((c, i) => c / servers[0]!.cpu[i]!);
      console.log(`${servers[1]!.name} / ${servers[0]!.name} per round: ${ratios.map((r) => r.toFixed(2)).join(' ')}; median ${median(ratios).toFixed(2)}`);
    }
  } finally {
    for (const s of servers) s.child.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
  process.exit(0);
}
