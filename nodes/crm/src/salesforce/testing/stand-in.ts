/**
 * A local stand-in of the Salesforce REST API, for tests (Salesforce cannot run here): the documented endpoints the
 * Salesforce node uses, with their documented request and response shapes and error bodies:
 * - OAuth 2.0 token endpoint (/services/oauth2/token): password, refresh_token and JWT bearer grants (the assertion's
 *   RS256 signature, iss, sub, aud and exp are verified), errors as `{ error, error_description }`;
 * - identity (/id/{org}/{user}) and the version resource listing `identity`;
 * - REST query with queryMore paging (`nextRecordsUrl`), sObject create/retrieve/update/delete, upsert by external id;
 *   errors as `[{ message, errorCode, fields }]`, 401 INVALID_SESSION_ID for an expired session;
 * - Bulk API 2.0 ingest jobs (create, upload CSV, UploadComplete, job info, successful/failed/unprocessed results)
 *   and query jobs (create, info, results in CSV pages with Sforce-Locator).
 * Its SOQL understands `SELECT fields FROM Account [WHERE field = 'literal'] [LIMIT n]`; anything else is answered
 * MALFORMED_QUERY, as Salesforce answers a query it cannot parse.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify as toCsv } from 'csv-stringify/sync';
import { jwtVerify, type CryptoKey } from 'jose';
import { LocalStandIn } from '../../shared/stand-in-server.ts';

export interface StandInOptions {
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
  refreshToken: string;
  /** Public key the JWT bearer assertions must be signed with. */
  jwtPublicKey?: CryptoKey;
  /** Records per query page (Salesforce's default is 2,000). */
  queryPageSize?: number;
}

type SObject = Record<string, unknown> & { Id: string };

const ORG = '00D000000000001AAA';
const USER = '005000000000001AAA';

export class SalesforceStandIn extends LocalStandIn {
  readonly accounts = new Map<string, SObject>();
  readonly requests: Array<{ method: string; path: string; authorization?: string }> = [];
  /**
   * Refresh token rotation (a connected app setting): each refresh_token grant answers a new refresh token and the
   * one used stops working. `refreshToken` is the one that works now.
   */
  rotateRefreshTokens = false;
  private readonly codes = new Map<string, { challenge: string; redirectUri: string }>();
  refreshToken = '';
  private readonly tokens = new Set<string>();
  private readonly cursors = new Map<string, { records: SObject[]; offset: number; total: number }>();
  private readonly ingestJobs = new Map<string, { info: Record<string, unknown>; csv: string; ok: string[][]; failed: string[][]; header: string[] }>();
  private readonly queryJobs = new Map<string, { info: Record<string, unknown>; records: SObject[]; fields: string[] }>();
  private seq = 0;
  /** Answer the next N API requests with 429 and Retry-After: 1. */
  rateLimitNext = 0;

  constructor(readonly options: StandInOptions) {
    super();
  }

  /** Every access token handed out so far stops working (as when a session times out). */
  expireSessions(): void {
    this.tokens.clear();
  }

  addAccount(fields: Record<string, unknown>): SObject {
    const record = { Id: `001${String(++this.seq).padStart(15, '0')}`, ...fields } as SObject;
    this.accounts.set(record.Id, record);
    return record;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url!, this.url);
    this.requests.push({ method: req.method!, path: url.pathname, authorization: req.headers.authorization });
    try {
      if (url.pathname === '/services/oauth2/token' && req.method === 'POST') return await this.token(new URLSearchParams(body), res);
      if (url.pathname === '/services/oauth2/authorize' && req.method === 'GET') return this.authorize(url.searchParams, res);
      if (this.rateLimitNext > 0) {
        this.rateLimitNext--;
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
        return void res.end(JSON.stringify([{ message: 'Too many requests', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]));
      }
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? url.searchParams.get('oauth_token') ?? '';
      if (!this.tokens.has(bearer)) return json(res, 401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
      if (url.pathname === `/id/${ORG}/${USER}`) return json(res, 200, { id: `${this.url}/id/${ORG}/${USER}`, user_id: USER, organization_id: ORG, username: this.options.username, display_name: 'Integration User' });
      const api = /^\/services\/data\/v(\d+\.\d)(\/.*)?$/.exec(url.pathname);
      if (!api) return json(res, 404, [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }]);
      const path = api[2] ?? '/';
      if (path === '/' || path === '') return json(res, 200, { identity: `${this.url}/id/${ORG}/${USER}`, sobjects: `/services/data/v${api[1]}/sobjects` });
      if (path === '/query' || path === '/query/') return this.query(url.searchParams.get('q') ?? '', res, api[1]!);
      const more = /^\/query\/([\w-]+)-(\d+)$/.exec(path);
      if (more) return this.queryMore(more[1]!, res, api[1]!);
      if (path.startsWith('/jobs/ingest')) return this.ingest(req.method!, path.slice('/jobs/ingest'.length), body, res);
      if (path.startsWith('/jobs/query')) return this.bulkQuery(req.method!, path.slice('/jobs/query'.length), url.searchParams, body, res);
      const sobject = /^\/sobjects\/(\w+)(?:\/(\w+))?(?:\/([^/]+))?$/.exec(path);
      if (sobject) return this.sobject(req.method!, sobject[1]!, sobject[2], sobject[3] && decodeURIComponent(sobject[3]), body, res);
      return json(res, 404, [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }]);
    } catch (error) {
      json(res, 500, [{ message: (error as Error).message, errorCode: 'UNKNOWN_EXCEPTION' }]);
    }
  }

  private issue(res: ServerResponse, extra: Record<string, unknown> = {}): void {
    const token = `00D!${randomUUID()}`;
    this.tokens.add(token);
    json(res, 200, { access_token: token, instance_url: this.url, id: `${this.url}/id/${ORG}/${USER}`, token_type: 'Bearer', issued_at: String(Date.now()), signature: 'c3RhbmQtaW4=', ...extra });
  }

  /** The consent page, as if the signed-in user allowed the app: back to redirect_uri with a code bound to the PKCE challenge. */
  private authorize(params: URLSearchParams, res: ServerResponse): void {
    if (params.get('client_id') !== this.options.clientId || params.get('response_type') !== 'code') return json(res, 400, { error: 'invalid_request', error_description: 'unknown client or response type' });
    if (params.get('code_challenge_method') !== 'S256' || !params.get('code_challenge')) return json(res, 400, { error: 'invalid_request', error_description: 'PKCE S256 required' });
    const code = `aPrx${randomUUID()}`;
    this.codes.set(code, { challenge: params.get('code_challenge')!, redirectUri: params.get('redirect_uri') ?? '' });
    const back = new URL(params.get('redirect_uri')!);
    back.searchParams.set('code', code);
    back.searchParams.set('state', params.get('state') ?? '');
    res.writeHead(302, { location: back.href }).end();
  }

  private async token(params: URLSearchParams, res: ServerResponse): Promise<void> {
    const o = this.options;
    const fail = (error: string, description: string) => json(res, 400, { error, error_description: description });
    if (params.get('client_id') !== o.clientId) return fail('invalid_client_id', 'client identifier invalid');
    switch (params.get('grant_type')) {
      case 'password':
        if (params.get('client_secret') !== o.clientSecret) return fail('invalid_client', 'invalid client credentials');
        if (params.get('username') !== o.username || params.get('password') !== o.password) return fail('invalid_grant', 'authentication failure');
        return this.issue(res);
      case 'refresh_token':
        if (params.get('refresh_token') !== (this.refreshToken || o.refreshToken)) return fail('invalid_grant', 'expired access/refresh token');
        if (!this.rotateRefreshTokens) return this.issue(res);
        this.refreshToken = `5Aep-rotated-${randomUUID()}`;
        return this.issue(res, { refresh_token: this.refreshToken });
      case 'authorization_code': {
        const issued = this.codes.get(params.get('code') ?? '');
        this.codes.delete(params.get('code') ?? '');
        if (!issued || issued.redirectUri !== params.get('redirect_uri')) return fail('invalid_grant', 'invalid authorization code');
        if (createHash('sha256').update(params.get('code_verifier') ?? '').digest('base64url') !== issued.challenge) return fail('invalid_grant', 'invalid code verifier');
        if (params.get('client_secret') !== o.clientSecret) return fail('invalid_client', 'invalid client credentials');
        return this.issue(res, { refresh_token: this.refreshToken || o.refreshToken });
      }
      case 'urn:ietf:params:oauth:grant-type:jwt-bearer':
        try {
          await jwtVerify(params.get('assertion') ?? '', o.jwtPublicKey!, { issuer: o.clientId, subject: o.username, audience: this.url, algorithms: ['RS256'] });
        } catch (error) {
          return fail('invalid_grant', `invalid assertion: ${(error as Error).message}`);
        }
        return this.issue(res);
      default:
        return fail('unsupported_grant_type', 'grant type not supported');
    }
  }

  private select(soql: string): { fields: string[]; records: SObject[] } | undefined {
    const m = /^\s*SELECT\s+([\w\s,.]+?)\s+FROM\s+(\w+)(?:\s+WHERE\s+(\w+)\s*=\s*'((?:[^'\\]|\\.)*)')?(?:\s+LIMIT\s+(\d+))?\s*$/i.exec(soql);
    if (!m || m[2]!.toLowerCase() !== 'account') return undefined;
    const fields = m[1]!.split(',').map((f) => f.trim());
    const literal = m[4]?.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c);
    let records = [...this.accounts.values()].filter((r) => m[3] === undefined || String(r[m[3]] ?? '') === literal);
    if (m[5]) records = records.slice(0, Number(m[5]));
    return { fields, records: records.map((r) => Object.fromEntries(fields.map((f) => [f, r[f] ?? null])) as SObject) };
  }

  private page(cursorId: string, res: ServerResponse, version: string): void {
    const cursor = this.cursors.get(cursorId)!;
    const size = this.options.queryPageSize ?? 2000;
    const records = cursor.records.slice(cursor.offset, cursor.offset + size).map((r) => ({ attributes: { type: 'Account', url: `/services/data/v${version}/sobjects/Account/${r.Id}` }, ...r }));
    cursor.offset += records.length;
    const done = cursor.offset >= cursor.total;
    if (done) this.cursors.delete(cursorId);
    json(res, 200, { totalSize: cursor.total, done, ...(done ? {} : { nextRecordsUrl: `/services/data/v${version}/query/${cursorId}-${cursor.offset}` }), records });
  }

  private query(soql: string, res: ServerResponse, version: string): void {
    const result = this.select(soql);
    if (!result) return json(res, 400, [{ message: `\n${soql}\n^\nERROR at Row:1:Column:1\nunexpected token: '${soql.split(/\s+/)[0]}'`, errorCode: 'MALFORMED_QUERY' }]);
    const id = `01g${randomUUID().replace(/-/g, '').slice(0, 15)}`;
    this.cursors.set(id, { records: result.records, offset: 0, total: result.records.length });
    this.page(id, res, version);
  }

  private queryMore(id: string, res: ServerResponse, version: string): void {
    if (!this.cursors.has(id)) return json(res, 400, [{ message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' }]);
    this.page(id, res, version);
  }

  private sobject(method: string, type: string, idOrField: string | undefined, externalValue: string | undefined, body: string, res: ServerResponse): void {
    if (type !== 'Account') return json(res, 404, [{ message: `The requested resource does not exist`, errorCode: 'NOT_FOUND' }]);
    const fields = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    if (externalValue !== undefined && method === 'PATCH') {
      // Upsert by external id: PATCH /sobjects/Account/{field}/{value}
      const matches = [...this.accounts.values()].filter((r) => String(r[idOrField!]) === externalValue);
      if (matches.length > 1) return json(res, 300, matches.map((r) => `/services/data/v62.0/sobjects/Account/${r.Id}`));
      if (matches[0]) {
        Object.assign(matches[0], fields);
        return json(res, 200, { id: matches[0].Id, success: true, errors: [], created: false });
      }
      if (!fields.Name) return json(res, 400, [{ message: 'Required fields are missing: [Name]', errorCode: 'REQUIRED_FIELD_MISSING', fields: ['Name'] }]);
      const record = this.addAccount({ ...fields, [idOrField!]: externalValue });
      return json(res, 201, { id: record.Id, success: true, errors: [], created: true });
    }
    if (!idOrField) {
      if (method !== 'POST') return json(res, 405, [{ message: `HTTP Method '${method}' not allowed. Allowed are HEAD,GET,POST`, errorCode: 'METHOD_NOT_ALLOWED' }]);
      if (!fields.Name) return json(res, 400, [{ message: 'Required fields are missing: [Name]', errorCode: 'REQUIRED_FIELD_MISSING', fields: ['Name'] }]);
      const record = this.addAccount(fields);
      return json(res, 201, { id: record.Id, success: true, errors: [] });
    }
    const record = this.accounts.get(idOrField);
    if (!record) return json(res, 404, [{ errorCode: 'NOT_FOUND', message: 'Provided external ID field does not exist or is not accessible: ' + idOrField }]);
    if (method === 'GET') return json(res, 200, { attributes: { type: 'Account', url: `/services/data/v62.0/sobjects/Account/${record.Id}` }, ...record });
    if (method === 'PATCH') {
      Object.assign(record, fields);
      return void res.writeHead(204).end();
    }
    if (method === 'DELETE') {
      this.accounts.delete(idOrField);
      return void res.writeHead(204).end();
    }
    json(res, 405, [{ message: `HTTP Method '${method}' not allowed`, errorCode: 'METHOD_NOT_ALLOWED' }]);
  }

  private ingest(method: string, path: string, body: string, res: ServerResponse): void {
    if (path === '' && method === 'POST') {
      const spec = JSON.parse(body) as Record<string, unknown>;
      if (spec.object !== 'Account') return json(res, 400, [{ errorCode: 'INVALIDENTITY', message: `Entity '${String(spec.object)}' is not supported by the Bulk API.` }]);
      const id = `750${randomUUID().replace(/-/g, '').slice(0, 15)}`;
      const info = { id, operation: spec.operation, object: spec.object, externalIdFieldName: spec.externalIdFieldName, state: 'Open', contentType: 'CSV', apiVersion: 62.0, lineEnding: spec.lineEnding ?? 'LF', columnDelimiter: 'COMMA' };
      this.ingestJobs.set(id, { info, csv: '', ok: [], failed: [], header: [] });
      return json(res, 200, info);
    }
    const m = /^\/(\w+)(\/batches|\/successfulResults|\/failedResults|\/unprocessedrecords)?\/?$/.exec(path);
    const job = m && this.ingestJobs.get(m[1]!);
    if (!job) return json(res, 404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
    const part = m![2];
    if (part === '/batches' && method === 'PUT') {
      if (job.info.state !== 'Open') return json(res, 400, [{ errorCode: 'INVALIDJOBSTATE', message: 'Job is not open for data upload' }]);
      job.csv += body;
      return void res.writeHead(201).end();
    }
    if (!part && method === 'PATCH') {
      const { state } = JSON.parse(body) as { state: string };
      if (state === 'UploadComplete') this.process(job);
      else job.info.state = state;
      return json(res, 200, job.info);
    }
    if (!part && method === 'GET') return json(res, 200, job.info);
    if (!part && method === 'DELETE') {
      this.ingestJobs.delete(m![1]!);
      return void res.writeHead(204).end();
    }
    res.writeHead(200, { 'content-type': 'text/csv' });
    if (part === '/successfulResults') return void res.end(toCsv([['sf__Id', 'sf__Created', ...job.header], ...job.ok], { quoted: true }));
    if (part === '/failedResults') return void res.end(toCsv([['sf__Id', 'sf__Error', ...job.header], ...job.failed], { quoted: true }));
    res.end(toCsv([job.header]));
  }

  /** Process an ingest job's CSV as Salesforce does: row by row, each row succeeding or failing on its own. */
  private process(job: { info: Record<string, unknown>; csv: string; ok: string[][]; failed: string[][]; header: string[] }): void {
    const rows = parseCsv(job.csv, { columns: false, skip_empty_lines: true }) as string[][];
    job.header = rows.shift() ?? [];
    const external = job.info.externalIdFieldName as string | undefined;
    for (const cells of rows) {
      const fields = Object.fromEntries(job.header.map((h, i) => [h, cells[i] === '#N/A' ? null : cells[i]]));
      if (job.info.operation === 'insert' || job.info.operation === 'upsert') {
        const existing = job.info.operation === 'upsert' ? [...this.accounts.values()].find((r) => String(r[external!]) === fields[external!]) : undefined;
        if (existing) {
          Object.assign(existing, fields);
          job.ok.push([existing.Id, 'false', ...cells]);
        } else if (!fields.Name) job.failed.push(['', 'REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --', ...cells]);
        else job.ok.push([this.addAccount(fields).Id, 'true', ...cells]);
      } else if (job.info.operation === 'delete') {
        if (this.accounts.delete(String(fields.Id))) job.ok.push([String(fields.Id), 'false', ...cells]);
        else job.failed.push([String(fields.Id), 'ENTITY_IS_DELETED:entity is deleted:--', ...cells]);
      }
    }
    Object.assign(job.info, { state: 'JobComplete', numberRecordsProcessed: rows.length, numberRecordsFailed: job.failed.length });
  }

  private bulkQuery(method: string, path: string, params: URLSearchParams, body: string, res: ServerResponse): void {
    if (path === '' && method === 'POST') {
      const spec = JSON.parse(body) as { query: string; operation: string };
      const result = this.select(spec.query);
      if (!result) return json(res, 400, [{ errorCode: 'API_ERROR', message: `unexpected token: ${spec.query.split(/\s+/)[0]}` }]);
      const id = `750${randomUUID().replace(/-/g, '').slice(0, 15)}`;
      const info = { id, operation: spec.operation, object: 'Account', state: 'UploadComplete', contentType: 'CSV', apiVersion: 62.0, lineEnding: 'LF', columnDelimiter: 'COMMA' };
      this.queryJobs.set(id, { info, ...result });
      return json(res, 200, info);
    }
    const m = /^\/(\w+)(\/results)?\/?$/.exec(path);
    const job = m && this.queryJobs.get(m[1]!);
    if (!job) return json(res, 404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
    if (!m![2]) {
      if (method === 'DELETE') return void res.writeHead(204).end();
      job.info.state = 'JobComplete';
      return json(res, 200, { ...job.info, numberRecordsProcessed: job.records.length });
    }
    const offset = Number(params.get('locator') ?? 0);
    const max = Number(params.get('maxRecords') ?? 50_000);
    const page = job.records.slice(offset, offset + max);
    const next = offset + page.length < job.records.length ? String(offset + page.length) : 'null';
    res.writeHead(200, { 'content-type': 'text/csv', 'sforce-locator': next, 'sforce-numberofrecords': String(page.length) });
    res.end(toCsv([job.fields, ...page.map((r) => job.fields.map((f) => (r[f] === null || r[f] === undefined ? '' : String(r[f]))))], { quoted: true }));
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8' });
  res.end(JSON.stringify(body));
}
