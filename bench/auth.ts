/**
 * What authentication costs per request (figures printed, never asserted), against the cost of a webhook request:
 * 1. Identity.authenticate() in process, per credential: session cookie, API token, FLOWCREW_ADMIN_TOKEN, OIDC bearer
 *    (RS256, verified with jose against a loopback JWKS): warm (the actor reused from the few-second cache, what
 *    nearly every request pays) and cold (a credential not seen in the last seconds: database reads, or the JWT
 *    signature check);
 * 2. the HTTP guards every request passes (Host check, helmet, a rate limiter), each called in process;
 * 3. a real runtime (its own process): the example webhook (durable 202, public: no authentication runs on it) and
 *    an API read with each credential.
 * Costs are CPU time (this process's for 1 and 2; the server process's, from /proc, per request for 3), so other
 * load on the machine slows the figures down less than it would wall-clock ones. Shares are of the webhook's CPU
 * time per request; the target is under 5%.
 *
 * Loopback only, Linux (/proc), about 40 s. Usage: node --import tsx bench/auth.ts [--duration 3]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { IncomingMessage, ServerResponse, createServer, type Server } from 'node:http';
import { Socket, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import type { RequestHandler } from 'express';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { loadConfig } from '../runtime/src/config.ts';
import { SYSTEM_ACTOR } from '../runtime/src/identity/actor.ts';
import { httpGuards } from '../runtime/src/identity/http-guards.ts';
import { Identity } from '../runtime/src/identity/identity.ts';
import { Sessions } from '../runtime/src/identity/sessions.ts';
import type { AuthRequest } from '../runtime/src/identity/types.ts';
import { createSqliteStorage } from '../runtime/src/storage/sqlite.ts';
import { freePort } from '@flowcrew/sdk/testing';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const duration = Math.min(Number(option('duration', '3')), 10);
const repoRoot = path.resolve(import.meta.dirname, '..');
const order = JSON.stringify({ id: 'B-1', customer: 'Bench', items: [{ sku: 'a', qty: 2, price: 60 }] });
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const listen = (server: Server) =>
  new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

await main();

/** CPU µs (user + system) of a process so far, from /proc (all its threads). */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** autocannon at 10 connections; the server's CPU µs per request. */
function load(pid: number, url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}, seconds = duration) {
  const before = cpuOf(pid);
  return new Promise<{ rps: number; cpuUs: number; non2xx: number }>((resolve, reject) => {
    autocannon({ url, duration: seconds, connections: 10, method: options.method ?? 'GET', headers: options.headers, body: options.body }, (error, r) => {
      if (error) return reject(error);
      const total = (r as unknown as { requests: { total: number } }).requests.total;
      resolve({ rps: r.requests.average, cpuUs: (cpuOf(pid) - before) / total, non2xx: r.non2xx });
    });
  });
}

/** µs per call (wall and CPU of this process), after a warm-up; the best of `rounds`. */
async function perCall(n: number, fn: (i: number) => Promise<unknown>, rounds = 3): Promise<{ wall: number; cpu: number }> {
  for (let i = 0; i < Math.min(200, n); i++) await fn(i);
  let best = { wall: Number.POSITIVE_INFINITY, cpu: Number.POSITIVE_INFINITY };
  for (let round = 0; round < rounds; round++) {
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await fn(i);
    const used = process.cpuUsage(cpu);
    const wall = Number(process.hrtime.bigint() - start) / 1000 / n;
    const cpuUs = (used.user + used.system) / n;
    if (cpuUs < best.cpu) best = { wall, cpu: cpuUs };
  }
  return best;
}

/** CPU µs per request of one Express middleware, called on real node:http request/response objects. */
async function middlewareCpu(middleware: RequestHandler, n = 20_000): Promise<number> {
  const make = () => {
    const req = new IncomingMessage(new Socket()) as IncomingMessage & { ip?: string };
    req.method = 'POST';
    req.url = '/webhook/orders';
    req.headers = { host: '127.0.0.1:8420', 'content-type': 'application/json' };
    req.ip = '127.0.0.1';
    return { req, res: new ServerResponse(req) };
  };
  const run = () =>
    new Promise<void>((resolve) => {
      const { req, res } = make();
      void middleware(req as never, res as never, () => resolve());
    });
  const baseline = async () => {
    make();
  };
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 500; i++) await run();
  for (let round = 0; round < 3; round++) {
    let cpu = process.cpuUsage();
    for (let i = 0; i < n; i++) await run();
    const used = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    for (let i = 0; i < n; i++) await baseline();
    const objects = process.cpuUsage(cpu);
    best = Math.min(best, (used.user + used.system - objects.user - objects.system) / n);
  }
  return best;
}

async function waitFor(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`the runtime exited (${child.exitCode})`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}

async function main(): Promise<void> {
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

  const adminToken = randomBytes(24).toString('base64url');
  const env = {
    ...process.env,
    DATABASE_URL: '',
    FLOWCREW_ADMIN_TOKEN: adminToken,
    FLOWCREW_OIDC_ISSUER: issuer,
    FLOWCREW_OIDC_JWKS_URI: `${issuer}/jwks`,
    FLOWCREW_OIDC_AUDIENCE: 'flowcrew',
    FLOWCREW_RATE_LIMIT_API: '0',
    FLOWCREW_RATE_LIMIT_WEBHOOK: '0',
    FLOWCREW_LOG_LEVEL: 'error',
  };
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  try {
    // 1. In process: an Identity over its own SQLite file.
    const dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-bench-auth-'));
    dirs.push(dataDir);
    const config = loadConfig({ ...env, FLOWCREW_FLOWS_DIR: '' }, { dataDir });
    const storage = createSqliteStorage({ filename: path.join(dataDir, 'flowcrew.db') });
    await storage.migrate();
    const identity = await Identity.open(storage, config, quiet);
    const { user, session } = await identity.setup({ username: 'bench', password: 'bench passphrase 1' }, { ip: '127.0.0.1' });
    const cookie = session.cookie.split(';')[0]!;
    const { secret: apiToken } = await identity.tokens.create(SYSTEM_ACTOR, { name: 'bench', projectId: 'default', permissions: ['flow:read'] });
    const jwt = await signJwt(0);
    const req = (headers: Record<string, string>): AuthRequest => ({ headers, method: 'GET', ip: '127.0.0.1' });
    const N = 20_000;
    const warm = {
      'session cookie': await perCall(N, () => identity.authenticate(req({ cookie }))),
      'API token': await perCall(N, () => identity.authenticate(req({ authorization: `Bearer ${apiToken}` }))),
      'admin token': await perCall(N, () => identity.authenticate(req({ authorization: `Bearer ${adminToken}` }))),
      'OIDC bearer': await perCall(N, () => identity.authenticate(req({ authorization: `Bearer ${jwt}` }))),
      'no credential': await perCall(N, () => identity.authenticate(req({}))),
    };
    const COLD = 1000;
    const sessions = new Sessions(storage.identity, config.auth);
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
    // 2. The guards alone, each called in process on real request/response objects (CPU per request).
    const guardConfig = { ...config, host: '127.0.0.1', http: { ...config.http, rateLimit: { ...config.http.rateLimit, webhook: { max: 1_000_000_000, windowMs: 60_000 } } } };
    const guards = httpGuards(guardConfig, identity);
    const guardCpu = {
      'Host check': await middlewareCpu(guards.hostCheck),
      'helmet (CSP and headers)': await middlewareCpu(guards.helmet),
      'rate limiter (memory store; webhooks: off by default)': await middlewareCpu(guards.rateLimit.webhook),
    };

    identity.close();
    await storage.close();

    // 3. A real runtime in its own process.
    const runtimeDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-bench-auth-runtime-'));
    dirs.push(runtimeDir);
    const port = await freePort();
    const runtime = spawn(process.execPath, ['--import', 'tsx', 'runtime/src/cli/main.ts', 'start', '--port', String(port), '--data-dir', runtimeDir], { cwd: repoRoot, env, stdio: 'inherit' });
    children.push(runtime);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(`${url}/api/v1/health`, runtime);
    const setup = await fetch(`${url}/api/v1/auth/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bench', password: 'bench passphrase 1' }) });
    if (setup.status !== 201) throw new Error(`setup answered ${setup.status}`);
    const runtimeCookie = setup.headers.get('set-cookie')!.split(';')[0]!;
    const created = await fetch(`${url}/api/v1/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ name: 'bench', projectId: 'default', permissions: ['flow:read'] }),
    });
    const runtimeToken = ((await created.json()) as { secret: string }).secret;
    const webhookRequest = { method: 'POST', headers: { 'content-type': 'application/json' }, body: order };
    await load(runtime.pid!, `${url}/webhook/orders`, webhookRequest, 1); // warm-up (JIT)
    await load(runtime.pid!, `${url}/api/v1/flows/orders`, { headers: { cookie: runtimeCookie } }, 1);
    const webhook = await load(runtime.pid!, `${url}/webhook/orders`, webhookRequest);
    const api: Record<string, Awaited<ReturnType<typeof load>>> = {};
    for (const [name, headers] of Object.entries<Record<string, string>>({
      'session cookie': { cookie: runtimeCookie },
      'API token': { authorization: `Bearer ${runtimeToken}` },
      'admin token': { authorization: `Bearer ${adminToken}` },
      'OIDC bearer': { authorization: `Bearer ${jwt}` },
    })) {
      api[name] = await load(runtime.pid!, `${url}/api/v1/flows/orders`, { headers });
    }

    const share = (us: number) => `${((100 * us) / webhook.cpuUs).toFixed(2)}%`.padStart(7);
    const f = (us: number) => `${us.toFixed(1)} µs`.padStart(10);
    console.log(`\nAuthentication cost per request (SQLite, loopback, ${duration} s runs at 10 connections; CPU time)\n`);
    console.log(`webhook request (POST /webhook/orders, durable 202, public): ${webhook.rps.toFixed(0)} req/s, ${f(webhook.cpuUs)} of server CPU per request (non-2xx ${webhook.non2xx}) = 100%`);
    console.log(`\nIdentity.authenticate()      warm: CPU (share)  [wall]        cold: CPU (share)  [wall]`);
    for (const name of Object.keys(warm) as Array<keyof typeof warm>) {
      const w = warm[name];
      const c = (cold as Record<string, { wall: number; cpu: number }>)[name];
      console.log(`  ${name.padEnd(16)} ${f(w.cpu)} ${share(w.cpu)}  [${w.wall.toFixed(1)} µs]   ${c ? `${f(c.cpu)} ${share(c.cpu)}  [${c.wall.toFixed(1)} µs]` : ''}`);
    }
    console.log(`\nHTTP guards, CPU per request of each middleware:`);
    for (const [label, us] of Object.entries(guardCpu)) console.log(`  ${label.padEnd(54)} ${f(us)} ${share(us)}`);
    console.log(`\nAPI read (GET /api/v1/flows/orders) through the runtime, whole request (context):`);
    for (const [name, r] of Object.entries(api)) console.log(`  ${name.padEnd(16)} ${r.rps.toFixed(0).padStart(6)} req/s, ${f(r.cpuUs)} of server CPU per request (non-2xx ${r.non2xx})`);
    console.log('\nwarm = what nearly every request pays (a credential is resolved once, then reused for 5 s); cold = a credential not seen in the last 5 s.');
  } finally {
    for (const child of children) child.kill('SIGTERM');
    jwks.close();
    await new Promise((r) => setTimeout(r, 300));
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }
}
