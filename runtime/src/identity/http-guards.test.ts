/** The HTTP guards on a real Express server (loopback), each alone, with the Identity they audit through. */
import type { AddressInfo } from 'node:net';
import { request as httpRequest } from 'node:http';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { hostMatcher, hostName, httpGuards, type HttpGuards } from './http-guards.ts';
import { auditEntries, openTestIdentity, testConfig, type OpenedIdentity } from './testing.ts';
import type { RuntimeConfig } from '../config.ts';

let opened: OpenedIdentity | undefined;
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  await opened?.close();
  opened = close = undefined;
});

/** A server with the guards mounted in the recommended order and a few plain routes. */
async function serve(config: RuntimeConfig, mount?: (app: express.Express, g: HttpGuards) => void) {
  opened = await openTestIdentity(config);
  const g = httpGuards(config, opened.identity);
  const app = express();
  if (mount) mount(app, g);
  else {
    app.use(g.hostCheck, g.helmet, g.cors);
    app.use('/api', g.rateLimit.api, g.originCheck);
    app.post('/api/login', g.rateLimit.login, (req, res) => void res.status(req.query.ok ? 200 : 401).json({}));
    app.post('/webhook/x', g.rateLimit.webhook, (_req, res) => void res.json({ ok: true }));
  }
  app.all('/{*any}', (_req, res) => void res.json({ ok: true }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as AddressInfo).port;
  close = () => new Promise((r) => server.close(() => r()));
  return { port, url: `http://127.0.0.1:${port}`, identity: opened.identity };
}

/** fetch() cannot set Host: a raw request can. */
function raw(port: number, path: string, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers, setHost: !('host' in headers) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('host names', () => {
  it('parses Host headers', () => {
    expect(hostName('Example.COM:8420')).toBe('example.com');
    expect(hostName('[::1]:80')).toBe('[::1]');
    expect(hostName('[::1]')).toBe('[::1]');
    expect(hostName('a b')).toBeNull();
    expect(hostName('[::1]x')).toBeNull();
  });

  it('matches loopback names with any port, configured names, name:port, *.domain', () => {
    const m = hostMatcher(['flowcrew.example.com', 'box:9000', '*.corp.example']);
    for (const ok of ['localhost', 'localhost:8420', '127.0.0.1:1', '[::1]:8420', 'FlowCrew.Example.com:443', 'box:9000', 'a.corp.example', 'a.b.corp.example:1']) expect(m(ok)).toBe(true);
    for (const bad of ['evil.com', 'box:9001', 'box', 'corp.example', 'xcorp.example', '127.0.0.2', 'localhost.evil.com', '']) expect(m(bad)).toBe(false);
  });
});

describe('hostCheck (DNS rebinding)', () => {
  it('bound to loopback: a foreign Host gets 403 problem+json without echoing it; loopback names pass', async () => {
    const { port } = await serve(testConfig({}, {}, { host: '127.0.0.1' }));
    const refused = await raw(port, '/api/x', { host: 'rebind.attacker.example:8420' });
    expect(refused.status).toBe(403);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(refused.body).not.toContain('attacker');
    expect(JSON.parse(refused.body)).toMatchObject({ status: 403, title: 'Forbidden' });
    for (const host of ['localhost:8420', '127.0.0.1', '[::1]:1234']) expect((await raw(port, '/api/x', { host })).status).toBe(200);
  });

  it('bound to all interfaces with no FLOWCREW_ALLOWED_HOSTS: any Host passes', async () => {
    const { port } = await serve(testConfig({}, {}, { host: '0.0.0.0' }));
    expect((await raw(port, '/x', { host: 'flowcrew.lan' })).status).toBe(200);
  });

  it('the same policy as a predicate (for the Socket.IO handshake)', async () => {
    opened = await openTestIdentity();
    const loopback = httpGuards(testConfig({}, {}, { host: '127.0.0.1' }), opened.identity).hostAllowed;
    expect([loopback('localhost:1'), loopback('evil.example'), loopback(undefined)]).toEqual([true, false, false]);
    const open = httpGuards(testConfig({}, {}, { host: '0.0.0.0' }), opened.identity).hostAllowed;
    expect([open('evil.example'), open(undefined)]).toEqual([true, true]);
  });

  it('FLOWCREW_ALLOWED_HOSTS applies on any interface', async () => {
    const { port } = await serve(testConfig({}, { allowedHosts: ['flowcrew.lan'] }, { host: '0.0.0.0' }));
    expect((await raw(port, '/x', { host: 'flowcrew.lan:8420' })).status).toBe(200);
    expect((await raw(port, '/x', { host: 'other.lan' })).status).toBe(403);
  });
});

describe('helmet', () => {
  it('sets a CSP the editor works with (scripts only from self, no inline scripts, no framing, same-host WebSocket) and other headers', async () => {
    const { url } = await serve(testConfig());
    const res = await fetch(`${url}/`);
    const csp = res.headers.get('content-security-policy')!;
    const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v.join(' ')]));
    expect(directives).toMatchObject({
      'default-src': "'self'",
      // 'unsafe-eval' for ajv in the editor (it compiles node-type schemas); never 'unsafe-inline' for scripts.
      'script-src': "'self' 'unsafe-eval'",
      'script-src-attr': "'none'",
      'object-src': "'none'",
      'frame-ancestors': "'none'",
      'frame-src': "'none'",
      'base-uri': "'self'",
    });
    expect(directives['connect-src']).toBe(`'self' ws://${new URL(url).host}`);
    expect(csp).not.toContain('upgrade-insecure-requests'); // plain http on a LAN must keep working
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('strict-transport-security')).toBeNull(); // http: HSTS only over https
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it("each Host gets its own WebSocket source, on first and later requests alike, and one that is not a plain host name gets 'self'", async () => {
    const { port } = await serve({ ...testConfig(), http: { ...testConfig().http, allowedHosts: ['flows.example.com', '*.example.org'] } });
    const connect = async (host: string) => {
      const res = await raw(port, '/', { host });
      return String(res.headers['content-security-policy']).split(';').find((d) => d.startsWith('connect-src'));
    };
    for (let round = 0; round < 2; round++) {
      expect(await connect('flows.example.com')).toBe("connect-src 'self' ws://flows.example.com");
      expect(await connect('a.example.org:8443')).toBe("connect-src 'self' ws://a.example.org:8443");
      expect(await connect(`localhost:${port}`)).toBe(`connect-src 'self' ws://localhost:${port}`);
      expect(await connect('B.example.org')).toBe("connect-src 'self' ws://B.example.org");
      expect(await connect('a_b.example.org')).toBe("connect-src 'self' 'self'");
    }
  });

  it('with OIDC configured, the provider may be reached and framed (keycloak-js)', async () => {
    const base = testConfig();
    const config: RuntimeConfig = { ...base, oidc: { issuer: 'http://127.0.0.1:8081/realms/flowcrew', audience: ['flowcrew'], clientId: 'flowcrew-editor', algorithms: ['RS256'], clockToleranceSec: 5, adminRoles: [], rolePrefix: '', groupPrefix: '', groupsClaim: 'groups' } as never };
    const { url } = await serve(config);
    const csp = (await fetch(`${url}/`)).headers.get('content-security-policy')!;
    expect(csp).toContain('frame-src http://127.0.0.1:8081');
    expect(csp).toMatch(/connect-src 'self' ws:\/\/[^;]+ http:\/\/127\.0\.0\.1:8081/);
  });
});

describe('CORS', () => {
  it('off by default: no CORS headers, so browsers keep other origins out', async () => {
    const { url } = await serve(testConfig());
    const res = await fetch(`${url}/api/x`, { headers: { origin: 'https://other.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('FLOWCREW_CORS_ORIGINS: allowed origins get CORS (and preflights), others do not', async () => {
    const { url } = await serve(testConfig({}, { corsOrigins: ['https://app.example'] }));
    const pre = await fetch(`${url}/api/x`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-csrf-token' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/X-CSRF-Token/i);
    const other = await fetch(`${url}/api/x`, { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('originCheck', () => {
  const cookie = 'flowcrew_session=' + 'a'.repeat(43);

  it('an unsafe request from a foreign Origin or Referer: 403, audited; same origin, allowed origins, bearer, GET and non-browsers pass', async () => {
    const { url, identity } = await serve(testConfig({}, { corsOrigins: ['https://app.example'] }));
    const post = (headers: Record<string, string>) => fetch(`${url}/api/x`, { method: 'POST', headers });
    const foreign = await post({ cookie, origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(await foreign.text()).not.toContain('evil');
    expect((await post({ cookie, referer: 'https://evil.example/page' })).status).toBe(403);
    expect((await post({ cookie, origin: 'null' })).status).toBe(403);
    expect((await post({ cookie, origin: url })).status).toBe(200);
    expect((await post({ cookie, origin: url.replace('http:', 'https:') })).status).toBe(200); // TLS ended at a proxy
    expect((await post({ cookie, origin: url.replace(/:\d+$/, ':1') })).status).toBe(403); // another port is another origin
    expect((await post({ cookie, origin: 'https://app.example' })).status).toBe(200);
    expect((await post({ cookie })).status).toBe(200); // not a browser: the CSRF token decides
    expect((await post({ origin: 'https://evil.example' })).status).toBe(403); // a cross-site sign-in form (login CSRF)
    expect((await post({ cookie, origin: 'https://evil.example', authorization: 'Bearer x' })).status).toBe(200);
    expect((await fetch(`${url}/api/x`, { headers: { cookie, origin: 'https://evil.example' } })).status).toBe(200);
    const entries = await auditEntries(identity, { action: 'auth.csrf' });
    expect(entries.map((e) => [e.outcome, e.detail?.reason, e.detail?.origin, e.detail?.sessionCookie])).toEqual([
      ['denied', 'foreign origin', 'https://evil.example', false],
      ['denied', 'foreign origin', 'http://127.0.0.1:1', true],
      ['denied', 'foreign origin', 'null', true],
      ['denied', 'foreign origin', 'https://evil.example', true],
      ['denied', 'foreign origin', 'https://evil.example', true],
    ]);
  });
});

describe('rate limits', () => {
  const limits = (login: number, api: number, webhook: number) => ({
    rateLimit: { login: { max: login, windowMs: 60_000 }, api: { max: api, windowMs: 60_000 }, webhook: { max: webhook, windowMs: 60_000 } },
  });

  it('API: over the limit, 429 problem+json with Retry-After and RateLimit headers', async () => {
    const { url } = await serve(testConfig({}, limits(0, 3, 0)));
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await fetch(`${url}/api/x`);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(last!.headers.get('content-type')).toMatch(/problem\+json/);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last!.headers.get('ratelimit-policy') ?? last!.headers.get('ratelimit')).toBeTruthy();
    expect(await last!.json()).toMatchObject({ status: 429, title: 'Too Many Requests' });
  });

  it('login: only failed sign-ins count', async () => {
    const { url } = await serve(testConfig({}, limits(2, 0, 0)));
    for (let i = 0; i < 5; i++) expect((await fetch(`${url}/api/login?ok=1`, { method: 'POST' })).status).toBe(200);
    const failed = [];
    for (let i = 0; i < 3; i++) failed.push((await fetch(`${url}/api/login`, { method: 'POST' })).status);
    expect(failed).toEqual([401, 401, 429]);
  });

  it('webhooks: limited when configured; 0 = no limit', async () => {
    const on = await serve(testConfig({}, limits(0, 0, 2)));
    const s = [];
    for (let i = 0; i < 3; i++) s.push((await fetch(`${on.url}/webhook/x`, { method: 'POST' })).status);
    expect(s).toEqual([200, 200, 429]);
    await close!();
    await opened!.close();
    const off = await serve(testConfig({}, limits(0, 0, 0)));
    for (let i = 0; i < 20; i++) expect((await fetch(`${off.url}/webhook/x`, { method: 'POST' })).status).toBe(200);
  });

  it('a shared store can be plugged in per limiter (the Redis seam)', async () => {
    const used: string[] = [];
    const config = testConfig({}, limits(1, 1, 1));
    await serve(config, (app, _g) => {
      const g = httpGuards(config, opened!.identity, {
        rateLimitStore: (name) => {
          used.push(name);
          const hits = new Map<string, number>();
          return {
            async increment(key: string) {
              const totalHits = (hits.get(key) ?? 0) + 1;
              hits.set(key, totalHits);
              return { totalHits, resetTime: new Date(Date.now() + 60_000) };
            },
            async decrement(key: string) {
              hits.set(key, (hits.get(key) ?? 1) - 1);
            },
            async resetKey(key: string) {
              hits.delete(key);
            },
          };
        },
      });
      app.use('/api', g.rateLimit.api);
    });
    expect(used.sort()).toEqual(['api', 'login', 'webhook']);
  });
});
