/**
 * A local stand-in of the Dynamics 365 Web API and the Microsoft identity platform's token endpoint, for tests
 * (neither can run here): client credentials tokens (`{ token_type, expires_in, access_token }`, AADSTS errors as
 * `{ error, error_description, error_codes }`), WhoAmI, and an `accounts` entity set with OData v4 `$select`,
 * `$filter` (`field eq 'literal'` only), `Prefer: odata.maxpagesize` paging with `@odata.nextLink`, retrieve,
 * create (`Prefer: return=representation`), update (`If-Match: *`) and delete; Web API errors as
 * `{ error: { code, message } }`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LocalStandIn } from '../../shared/stand-in-server.ts';

export class DynamicsStandIn extends LocalStandIn {
  readonly accounts = new Map<string, Record<string, unknown>>();
  readonly tokenRequests: URLSearchParams[] = [];
  rateLimitNext = 0;
  private readonly tokens = new Set<string>();

  constructor(private readonly app: { tenantId: string; clientId: string; clientSecret: string }) {
    super();
  }

  expireTokens(): void {
    this.tokens.clear();
  }

  add(fields: Record<string, unknown>): string {
    const id = randomUUID();
    this.accounts.set(id, { accountid: id, ...fields });
    return id;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url!, this.url);
    if (url.pathname === `/${this.app.tenantId}/oauth2/v2.0/token` && req.method === 'POST') return this.token(new URLSearchParams(text), res);
    const fail = (status: number, code: string, message: string) => json(res, status, { error: { code, message } });
    if (!this.tokens.has((req.headers.authorization ?? '').replace(/^Bearer /, ''))) return fail(401, '0x80072182', 'Authentication failed: the access token is expired or invalid.');
    if (this.rateLimitNext > 0) {
      this.rateLimitNext--;
      res.setHeader('retry-after', '1');
      return fail(429, '0x80072322', 'Number of requests exceeded the limit of 6000 over time window of 300 seconds.');
    }
    const base = '/api/data/v9.2/';
    if (!url.pathname.startsWith(base)) return fail(404, '0x8006088a', 'Resource not found for the segment');
    const path = url.pathname.slice(base.length);
    if (path === 'WhoAmI') return json(res, 200, { '@odata.context': `${this.url}${base}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`, BusinessUnitId: randomUUID(), UserId: '7d2e1b3a-0000-4000-8000-000000000001', OrganizationId: '0a1b2c3d-0000-4000-8000-000000000002' });
    const one = /^accounts\(([0-9a-f-]{36})\)$/i.exec(path);
    if (path === 'accounts' && req.method === 'GET') return this.query(url, req, res, fail);
    if (path === 'accounts' && req.method === 'POST') {
      const fields = JSON.parse(text) as Record<string, unknown>;
      if (typeof fields.name !== 'string' || !fields.name) return fail(400, '0x80040203', 'Required field name is missing.');
      const id = this.add(fields);
      if (/return=representation/.test(String(req.headers.prefer))) return json(res, 201, { '@odata.context': `${this.url}${base}$metadata#accounts/$entity`, '@odata.etag': 'W/"1"', ...this.accounts.get(id) });
      res.writeHead(204, { 'odata-entityid': `${this.url}${base}accounts(${id})` });
      return void res.end();
    }
    if (!one) return fail(404, '0x8006088a', `Resource not found for the segment '${path}'.`);
    const record = this.accounts.get(one[1]!);
    if (!record) return fail(404, '0x80040217', `account With Id = ${one[1]} Does Not Exist`);
    if (req.method === 'GET') return json(res, 200, { '@odata.etag': 'W/"1"', ...record });
    if (req.method === 'PATCH') {
      if (req.headers['if-match'] !== '*') return fail(400, '0x80060891', 'this stand-in expects If-Match: * on update');
      Object.assign(record, JSON.parse(text));
      return void res.writeHead(204).end();
    }
    if (req.method === 'DELETE') {
      this.accounts.delete(one[1]!);
      return void res.writeHead(204).end();
    }
    fail(405, '0x80060888', 'method not allowed');
  }

  private token(params: URLSearchParams, res: ServerResponse): void {
    this.tokenRequests.push(params);
    if (params.get('grant_type') !== 'client_credentials') return json(res, 400, { error: 'unsupported_grant_type', error_description: 'AADSTS70003: The app requested an unsupported grant type.', error_codes: [70003] });
    if (params.get('client_id') !== this.app.clientId || params.get('client_secret') !== this.app.clientSecret)
      return json(res, 401, { error: 'invalid_client', error_description: `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.\r\nTrace ID: ${randomUUID()}`, error_codes: [7000215] });
    if (params.get('scope') !== `${this.url}/.default`) return json(res, 400, { error: 'invalid_scope', error_description: `AADSTS1002012: The provided value for scope ${params.get('scope')} is not valid.`, error_codes: [1002012] });
    const token = randomUUID();
    this.tokens.add(token);
    json(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
  }

  private query(url: URL, req: IncomingMessage, res: ServerResponse, fail: (status: number, code: string, message: string) => void): void {
    const filter = url.searchParams.get('$filter');
    const m = filter ? /^(\w+) eq '((?:[^']|'')*)'$/.exec(filter) : undefined;
    if (filter && !m) return fail(400, '0x80060888', `Syntax error at position ${filter.length} in '${filter}'.`);
    const literal = m?.[2]!.replace(/''/g, "'");
    const select = url.searchParams.get('$select')?.split(',');
    const all = [...this.accounts.values()].filter((r) => !m || r[m[1]!] === literal).map((r) => (select ? Object.fromEntries([...select, 'accountid'].map((c) => [c, r[c] ?? null])) : r));
    const size = Number(/odata\.maxpagesize=(\d+)/.exec(String(req.headers.prefer))?.[1] ?? 5000);
    const skip = Number(url.searchParams.get('$skiptoken') ?? 0);
    const page = all.slice(skip, skip + size);
    const next = new URL(url);
    next.searchParams.set('$skiptoken', String(skip + page.length));
    json(res, 200, { '@odata.context': `${this.url}/api/data/v9.2/$metadata#accounts`, value: page.map((r) => ({ '@odata.etag': 'W/"1"', ...r })), ...(skip + page.length < all.length ? { '@odata.nextLink': next.toString() } : {}) });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; odata.metadata=minimal', 'odata-version': '4.0' });
  res.end(JSON.stringify(body));
}
