/**
 * What authentication costs per request (figures printed, never asserted), against the bare cost of a request:
 * 1. Identity.authenticate() in process, per credential: session cookie, API token, FLOWCREW_ADMIN_TOKEN, OIDC bearer
 *    (RS256, verified with jose against a loopback JWKS): warm (the actor reused from the few-second cache, what
 *    nearly every request pays) and cold (a credential never seen: database reads, or the JWT signature check);
 * 2. the HTTP guards every request passes (Host check, helmet, CORS, a rate limiter) on a bare Express app;
 * 3. a real runtime under autocannon: the example webhook (durable 202, public: no authentication) and an API read
 *    with each credential;
 * then each cost as a share of the webhook's request cost (target: under 5%).
 *
 * Loopback only; about 45 s. Usage: node --import tsx bench/auth.ts [--duration 3]
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import express from 'express';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { loadConfig } from '../runtime/src/config.ts';
import { SYSTEM_ACTOR } from '../runtime/src/identity/actor.ts';
import { httpGuards } from '../runtime/src/identity/http-guards.ts';
import { Sessions } from '../runtime/src/identity/sessions.ts';
import type { AuthRequest } from '../runtime/src/identity/types.ts';
import { startServer } from '../runtime/src/server.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const duration = Math.min(Number(option('duration', '3')), 10);
const order = JSON.stringify({ id: 'B-1', customer: 'Bench', items: [{ sku: 'a', qty: 2, price: 60 }] });

const listen = (server: Server) =>
  new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

/** Mean µs per call of an async function, after a warm-up; the best of `rounds` (other load only adds time). */
async function perCall(n: number, fn: (i: number) => Promise<unknown>, rounds = 3): Promise<number> {
  for (let i = 0; i < Math.min(200, n); i++) await fn(i);
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await fn(i);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1000 / n);
  }
  return best;
}

function cannon(url: string, options: { method?: string; headers?: Record<string, string>; body?: string; connections?: number }) {
  return new Promise<{ rps: number; p50: number; p99: number; meanUs: number; non2xx: number }>((resolve, reject) => {
    autocannon({ url, duration, connections: options.connections ?? 1, method: options.method ?? 'GET', headers: options.headers, body: options.body }, (error, r) => {
      if (error) return reject(error);
      const connections = options.connections ?? 1;
      resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, meanUs: (1e6 * connections) / r.requests.average, non2xx: r.non2xx });
    });
  });
}

// A loopback OIDC provider: a JWKS with one RS256 key, tokens signed here.
const { publicKey, privateKey } = await generateKeyPair('RS256');
const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' };
const jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
const issuer = await listen(jwks);
const signJwt = (i: number) =>
  new SignJWT({ typ: 'Bearer', preferred_username: `bench${i}`, realm_access: { roles: ['flowcrew-admin'] } })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench' })
    .setIssuer(issuer)
    .setAudience('flowcrew')
    .setSubject(`bench-${i}`)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);

const dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-bench-auth-'));
const adminToken = randomBytes(24).toString('base64url');
const config = loadConfig(
  {
    ...process.env,
    DATABASE_URL: '',
    FLOWCREW_ADMIN_TOKEN: adminToken,
    FLOWCREW_OIDC_ISSUER: issuer,
    FLOWCREW_OIDC_JWKS_URI: `${issuer}/jwks`,
    FLOWCREW_OIDC_AUDIENCE: 'flowcrew',
    FLOWCREW_RATE_LIMIT_API: '0',
    FLOWCREW_RATE_LIMIT_WEBHOOK: '0',
  },
  { port: 0, dataDir, logLevel: 'error' },
);
const server = await startServer(config, { loadExamples: true });
const { identity } = server;
try {
  const { user, session } = await identity.setup({ username: 'bench', password: 'bench passphrase 1' }, { ip: '127.0.0.1' });
  const cookie = session.cookie.split(';')[0]!;
  const { secret: apiToken } = await identity.tokens.create(SYSTEM_ACTOR, { name: 'bench', projectId: 'default', permissions: ['flow:read'] });
  const jwt = await signJwt(0);
  const req = (headers: Record<string, string>): AuthRequest => ({ headers, method: 'GET', ip: '127.0.0.1' });

  // 1. In process.
  const N = 20_000;
  const warm = {
    'session cookie': await perCall(N, () => identity.authenticate(req({ cookie }))),
    'API token': await perCall(N, () => identity.authenticate(req({ authorization: `Bearer ${apiToken}` }))),
    'admin token': await perCall(N, () => identity.authenticate(req({ authorization: `Bearer ${adminToken}` }))),
    'OIDC bearer': await perCall(N, () => identity.authenticate(req({ authorization: `Bearer ${jwt}` }))),
    'no credential': await perCall(N, () => identity.authenticate(req({}))),
  };
  // Cold: every credential new to the cache.
  const COLD = 1000;
  const sessions = new Sessions(server.runtime.storage.identity, config.auth);
  const cookies = await Promise.all(Array.from({ length: COLD + 200 }, async () => (await sessions.create(user.id, {})).cookie.split(';')[0]!));
  const tokens = await Promise.all(
    Array.from({ length: COLD + 200 }, async (_, i) => (await identity.tokens.create(SYSTEM_ACTOR, { name: `t${i}`, projectId: 'default', permissions: ['flow:read'] })).secret),
  );
  const jwts = await Promise.all(Array.from({ length: COLD + 200 }, (_, i) => signJwt(i + 1)));
  const cold = {
    'session cookie': await perCall(COLD, (i) => identity.authenticate(req({ cookie: cookies[i + 200]! })), 1),
    'API token': await perCall(COLD, (i) => identity.authenticate(req({ authorization: `Bearer ${tokens[i + 200]}` })), 1),
    'OIDC bearer': await perCall(COLD, (i) => identity.authenticate(req({ authorization: `Bearer ${jwts[i + 200]}` })), 1),
  };

  // 2. The guards alone: the same trivial route with and without them.
  const bare = express().get('/x', (_q, res) => void res.send('ok'));
  const guards = httpGuards({ ...config, host: '127.0.0.1', http: { ...config.http, rateLimit: { ...config.http.rateLimit, webhook: { max: 1_000_000_000, windowMs: 60_000 } } } }, identity);
  const guarded = express().use(guards.hostCheck, guards.helmet, guards.cors, guards.rateLimit.webhook).get('/x', (_q, res) => void res.send('ok'));
  const bareServer = createServer(bare);
  const guardedServer = createServer(guarded);
  const bareUrl = await listen(bareServer);
  const guardedUrl = await listen(guardedServer);
  // Alternate and keep each one's best run: the machine's noise is larger than the difference measured.
  const runs: Record<'bare' | 'guarded', number[]> = { bare: [], guarded: [] };
  for (let round = 0; round < 3; round++) {
    // Saturated (10 connections): 1/rps is the server time per request, less sensitive to scheduling than latency.
    runs.bare.push(1e6 / (await cannon(`${bareUrl}/x`, { connections: 10 })).rps);
    runs.guarded.push(1e6 / (await cannon(`${guardedUrl}/x`, { connections: 10 })).rps);
  }
  const bareRun = { meanUs: Math.min(...runs.bare) };
  const guardedRun = { meanUs: Math.min(...runs.guarded) };
  bareServer.close();
  guardedServer.close();

  // 3. The real runtime.
  // The webhook's cost: its latency alone (1 connection), and its server time at saturation (10 connections: 1/rps),
  // the smaller, stricter denominator for the shares below.
  const webhookRequest = { method: 'POST', headers: { 'content-type': 'application/json' }, body: order };
  const webhookLatency = await cannon(`${server.url}/webhook/orders`, webhookRequest);
  const webhookLoaded = await cannon(`${server.url}/webhook/orders`, { ...webhookRequest, connections: 10 });
  const webhook = { meanUs: 1e6 / webhookLoaded.rps };
  const api: Record<string, Awaited<ReturnType<typeof cannon>>> = {};
  for (const [name, headers] of Object.entries<Record<string, string>>({
    'session cookie': { cookie },
    'API token': { authorization: `Bearer ${apiToken}` },
    'admin token': { authorization: `Bearer ${adminToken}` },
    'OIDC bearer': { authorization: `Bearer ${jwt}` },
  })) {
    api[name] = await cannon(`${server.url}/api/v1/flows/orders`, { headers });
  }

  const pct = (us: number) => `${((100 * us) / webhook.meanUs).toFixed(2)}%`;
  const f = (us: number) => `${us.toFixed(2)} µs`;
  console.log(`\nAuthentication cost per request (SQLite, loopback, ${duration} s runs)\n`);
  console.log(`webhook request (POST /webhook/orders, durable 202, public; no authentication runs on it):`);
  console.log(`  1 connection:   ${webhookLatency.rps.toFixed(0)} req/s, ${f(webhookLatency.meanUs)} per request (p50 ${webhookLatency.p50} ms, p99 ${webhookLatency.p99} ms, non-2xx ${webhookLatency.non2xx})`);
  console.log(`  10 connections: ${webhookLoaded.rps.toFixed(0)} req/s = ${f(webhook.meanUs)} of server time per request (non-2xx ${webhookLoaded.non2xx}); shares below are of this`);
  console.log(`\nIdentity.authenticate() in process        warm (cached actor)      cold (first sight)`);
  for (const name of Object.keys(warm) as Array<keyof typeof warm>) {
    const c = (cold as Record<string, number>)[name];
    console.log(`  ${name.padEnd(20)} ${f(warm[name]).padStart(12)} = ${pct(warm[name]).padStart(6)}   ${c === undefined ? '' : `${f(c).padStart(12)} = ${pct(c).padStart(6)}`}`);
  }
  const guardCost = guardedRun.meanUs - bareRun.meanUs;
  console.log(`\nHTTP guards (Host check, helmet, CORS, rate limiter) on a bare Express route, server time per request at 10 connections: ${f(bareRun.meanUs)} → ${f(guardedRun.meanUs)}, +${f(guardCost)} = ${pct(guardCost)} of a webhook request`);
  console.log(`\nAPI read (GET /api/v1/flows/orders) through the real runtime, whole request:`);
  for (const [name, r] of Object.entries(api)) console.log(`  ${name.padEnd(20)} ${r.rps.toFixed(0).padStart(6)} req/s, ${f(r.meanUs)} per request (p99 ${r.p99} ms, non-2xx ${r.non2xx})`);
  console.log('\nwarm = what nearly every request pays (a credential is resolved once, then reused for 5 s); cold = a credential the process has not seen in the last 5 s.');
} finally {
  await server.close();
  jwks.close();
  await rm(dataDir, { recursive: true, force: true });
}
