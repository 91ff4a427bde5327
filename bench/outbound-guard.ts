/**
 * What the outbound guard costs per request: undici's fetch with its default dispatcher against the guard's fetch
 * (connections checked and pinned), to a local keep-alive server, and the cost of a check() for socket clients.
 * Run: npx tsx bench/outbound-guard.ts
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, fetch } from 'undici';
import { createOutboundGuard } from '../runtime/src/outbound/index.ts';

const server = createServer((_req, res) => res.end('{"ok":true}'));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as AddressInfo).port;
const url = `http://localhost:${port}/`;
const guard = createOutboundGuard({ allow: [`127.0.0.1:${port}`, `localhost:${port}`] });
const plain = new Agent();

async function time(n: number, call: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await call();
  return Number(process.hrtime.bigint() - start) / 1e6 / n;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${(ms * 1000).toFixed(0).padStart(5)} µs`;

const bare = async () => (await fetch(url, { dispatcher: plain })).text();
const guarded = async () => (await guard.fetch(url)).text();
const fresh = async () => (await guard.fetch(url, { headers: { connection: 'close' } })).text();
const checked = () => guard.check('localhost', port);
const plainFresh = async () => (await fetch(url, { dispatcher: plain, headers: { connection: 'close' } })).text();

for (const warm of [bare, guarded]) await time(200, warm);
const rounds = { bare: [] as number[], guarded: [] as number[], bareNew: [] as number[], guardedNew: [] as number[], check: [] as number[] };
for (let r = 0; r < 5; r++) {
  rounds.bare.push(await time(1000, bare));
  rounds.guarded.push(await time(1000, guarded));
  rounds.bareNew.push(await time(300, plainFresh));
  rounds.guardedNew.push(await time(300, fresh));
  rounds.check.push(await time(1000, checked));
}
console.log('Outbound guard cost per request (median of 5 rounds, local server, name "localhost")');
console.log(`keep-alive      bare undici fetch ${fmt(median(rounds.bare))}   guard.fetch ${fmt(median(rounds.guarded))}   overhead ${fmt(median(rounds.guarded) - median(rounds.bare))}`);
console.log(`new connection  bare undici fetch ${fmt(median(rounds.bareNew))}   guard.fetch ${fmt(median(rounds.guardedNew))}   overhead ${fmt(median(rounds.guardedNew) - median(rounds.bareNew))}`);
console.log(`check('localhost', port) for socket clients: ${fmt(median(rounds.check))}`);
await guard.close();
await plain.close();
server.close();
