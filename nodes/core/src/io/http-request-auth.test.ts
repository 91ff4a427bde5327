/**
 * REST authentication of the http-request node against a local OAuth2 token endpoint and API run in this test
 * (node:http servers implementing RFC 6749's client_credentials and refresh_token grants): API keys in a header or
 * the query, OAuth2 access tokens fetched, cached, refreshed after a 401, rotated refresh tokens, refusals.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import { createTestNode, setTestServiceDefaults } from '@flowcrew/sdk/testing';
import { httpRequestNode, type HttpRequestProps } from './http-request.ts';
import type { HttpAuthFields } from './http-request-auth.ts';

const outbound = createOutboundGuard({ allow: ['127.0.0.1', 'localhost'] });
setTestServiceDefaults({ outbound });

const tokenRequests: Array<Record<string, string>> = [];
const valid = new Set<string>();
let refreshToken = 'rt-1';
let issued = 0;
let server: Server;
let other: Server;
let base: string;
let otherBase: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (url.pathname === '/token') {
        const form = Object.fromEntries(new URLSearchParams(body));
        tokenRequests.push({ ...form, authorization: req.headers.authorization ?? '' });
        const basic = req.headers.authorization === `Basic ${Buffer.from('app:app-secret').toString('base64')}`;
        const posted = form.client_id === 'app' && form.client_secret === 'app-secret';
        if (!basic && !posted) return json(401, { error: 'invalid_client', error_description: 'unknown client or wrong secret' });
        if (form.grant_type === 'client_credentials') {
          const token = `cc-${++issued}`;
          valid.add(token);
          return json(200, { access_token: token, token_type: 'Bearer', expires_in: 3600, scope: form.scope });
        }
        if (form.grant_type === 'refresh_token') {
          if (form.refresh_token !== refreshToken) return json(400, { error: 'invalid_grant', error_description: 'refresh token revoked or already used' });
          refreshToken = `rt-${++issued}`; // rotated: the old one no longer works
          const token = `user-${issued}`;
          valid.add(token);
          return json(200, { access_token: token, token_type: 'Bearer', expires_in: 3600, refresh_token: refreshToken });
        }
        return json(400, { error: 'unsupported_grant_type' });
      }
      if (url.pathname === '/api') {
        const token = req.headers.authorization?.replace(/^Bearer /, '');
        return token && valid.has(token) ? json(200, { ok: true, token }) : json(401, { error: 'invalid_token' });
      }
      if (url.pathname === '/key') return json(200, { header: req.headers['x-api-key'] ?? null, query: url.searchParams.get('api_key') });
      if (url.pathname === '/away') return res.writeHead(302, { location: `${otherBase}/seen` }).end();
      res.writeHead(404).end();
    });
  });
  other = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ header: req.headers['x-api-key'] ?? null })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  otherBase = `http://localhost:${(other.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await outbound.close();
  await new Promise((resolve) => server.close(resolve));
  await new Promise((resolve) => other.close(resolve));
});

let seq = 0;
const node = (props: Partial<HttpRequestProps>, credentials: HttpAuthFields, id = `auth-${++seq}`) =>
  createTestNode(httpRequestNode, { ret: 'obj', ...props }, { credentials: credentials as Record<string, unknown>, credential: { id } });
const allowed = () => [new URL(base).host];

describe('http-request auth against a local OAuth2 token endpoint', () => {
  it('client credentials: fetches a token once, reuses it, and fetches a new one after the API answers 401', async () => {
    const fields: HttpAuthFields = { allowedHosts: allowed(), tokenUrl: `${base}/token`, clientId: 'app', clientSecret: 'app-secret', scope: 'read write' };
    const n = await node({ url: `${base}/api`, authType: 'oauth2' }, fields);
    const before = tokenRequests.length;
    const first = (await n.input({}))[0]!.msg;
    expect(first.statusCode).toBe(200);
    await n.input({});
    expect(tokenRequests.length - before).toBe(1);
    expect(tokenRequests.at(-1)).toMatchObject({ grant_type: 'client_credentials', scope: 'read write', authorization: `Basic ${Buffer.from('app:app-secret').toString('base64')}` });
    valid.clear(); // the server revokes every token
    expect((await n.input({}))[0]!.msg.statusCode).toBe(401);
    expect((await n.input({}))[0]!.msg.statusCode).toBe(200);
    expect(tokenRequests.length - before).toBe(2);
  });

  it('sends the client secret as form fields when asked (client_secret_post)', async () => {
    const n = await node({ url: `${base}/api`, authType: 'oauth2' }, { allowedHosts: allowed(), tokenUrl: `${base}/token`, clientId: 'app', clientSecret: 'app-secret', clientAuth: 'body' });
    expect((await n.input({}))[0]!.msg.statusCode).toBe(200);
    expect(tokenRequests.at(-1)).toMatchObject({ client_id: 'app', client_secret: 'app-secret', authorization: '' });
  });

  it('refresh token (authorization code flow): uses the stored refresh token, then the rotated one', async () => {
    const fields: HttpAuthFields = { allowedHosts: allowed(), tokenUrl: `${base}/token`, clientId: 'app', clientSecret: 'app-secret', grantType: 'refresh_token', refreshToken: 'rt-1' };
    const n = await node({ url: `${base}/api`, authType: 'oauth2' }, fields, 'user-credential');
    expect((await n.input({}))[0]!.msg.statusCode).toBe(200);
    valid.clear();
    await n.input({}); // 401: token forgotten
    const again = (await n.input({}))[0]!.msg;
    expect(again.statusCode).toBe(200);
    const refreshes = tokenRequests.filter((r) => r.grant_type === 'refresh_token').map((r) => r.refresh_token);
    expect(refreshes[0]).toBe('rt-1');
    expect(refreshes[1]).not.toBe('rt-1'); // the rotated token the server answered with
    // Each rotated token is written back to the credential (a restart refreshes with the one that works), same revision.
    expect(n.credential!.fields.refreshToken).toBe(`rt-${issued}`);
    expect(n.credential!.revision).toBe(1);
  });

  it('fails clearly when the token endpoint refuses, and refuses a token endpoint outside allowedHosts at deploy', async () => {
    const n = await node({ url: `${base}/api`, authType: 'oauth2' }, { allowedHosts: allowed(), tokenUrl: `${base}/token`, clientId: 'app', clientSecret: 'wrong' });
    await expect(n.input({})).rejects.toThrow(`OAuth2 token endpoint ${new URL(base).host}: client_credentials refused (HTTP 401): invalid_client: unknown client or wrong secret`);
    await expect(node({ url: `${base}/api`, authType: 'oauth2' }, { allowedHosts: allowed(), tokenUrl: 'https://login.example.com/token', clientId: 'app' })).rejects.toThrow(
      /tokenUrl host login\.example\.com is not in its allowedHosts/,
    );
    await expect(node({ url: `${base}/api`, authType: 'apiKey' }, { allowedHosts: allowed() })).rejects.toThrow(/authType apiKey needs an http-auth credential with apiKey/);
  });
});

describe('http-request API keys', () => {
  it('sends the key in a header or in the query string, only to allowed hosts', async () => {
    const header = await node({ url: `${base}/key`, authType: 'apiKey' }, { allowedHosts: allowed(), apiKey: 'k-123' });
    expect((await header.input({}))[0]!.msg.payload).toEqual({ header: 'k-123', query: null });
    const query = await node({ url: `${base}/key?x=1`, authType: 'apiKey' }, { allowedHosts: allowed(), apiKey: 'k-456', apiKeyIn: 'query', apiKeyName: 'api_key' });
    expect((await query.input({}))[0]!.msg.payload).toEqual({ header: null, query: 'k-456' });
    const elsewhere = await node({ url: `${otherBase}/seen`, authType: 'apiKey' }, { allowedHosts: allowed(), apiKey: 'k-789' });
    await expect(elsewhere.input({})).rejects.toThrow(/the http-auth credential may not be sent to localhost:\d+/);
  });

  it('drops the key header on a redirect to another origin', async () => {
    const n = await node({ url: `${base}/away`, authType: 'apiKey' }, { allowedHosts: allowed(), apiKey: 'k-secret' });
    const msg = (await n.input({}))[0]!.msg;
    expect(msg.payload).toEqual({ header: null });
  });
});
