/**
 * A local stand-in of the HubSpot CRM API, for tests (HubSpot cannot run here): the documented endpoints the HubSpot
 * node uses with their documented shapes: objects v3 (get, create, update, archive, search with `paging.next.after`),
 * associations v4 (default association), account details; errors as `{ status: "error", message, correlationId,
 * category }`, 401 for a wrong token, 429 RATE_LIMIT with Retry-After on demand.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LocalStandIn } from '../../shared/stand-in-server.ts';

type HubRecord = { id: string; properties: Record<string, string>; createdAt: string; updatedAt: string; archived: boolean };

export class HubSpotStandIn extends LocalStandIn {
  readonly objects = new Map<string, Map<string, HubRecord>>();
  readonly associations: Array<{ from: string; fromId: string; to: string; toId: string }> = [];
  readonly requests: Array<{ method: string; path: string }> = [];
  rateLimitNext = 0;
  private seq = 1000;

  constructor(private readonly token: string) {
    super();
  }

  add(type: string, properties: Record<string, string>): HubRecord {
    const now = new Date().toISOString();
    const record = { id: String(++this.seq), properties: { ...properties, hs_object_id: String(this.seq) }, createdAt: now, updatedAt: now, archived: false };
    if (!this.objects.has(type)) this.objects.set(type, new Map());
    this.objects.get(type)!.set(record.id, record);
    return record;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    const url = new URL(req.url!, this.url);
    this.requests.push({ method: req.method!, path: url.pathname });
    const fail = (status: number, category: string, message: string, extra: Record<string, string> = {}) => json(res, status, { status: 'error', message, correlationId: randomUUID(), category, ...extra });
    if (req.headers.authorization !== `Bearer ${this.token}`) return fail(401, 'INVALID_AUTHENTICATION', 'Authentication credentials not found. This API supports OAuth 2.0 authentication.');
    if (this.rateLimitNext > 0) {
      this.rateLimitNext--;
      res.setHeader('retry-after', '1');
      return json(res, 429, { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', correlationId: randomUUID(), policyName: 'TEN_SECONDLY_ROLLING' });
    }
    if (url.pathname === '/account-info/v3/details') return json(res, 200, { portalId: 62515, accountType: 'STANDARD', timeZone: 'US/Eastern', companyCurrency: 'USD', uiDomain: 'app.hubspot.com', dataHostingLocation: 'na1' });
    const assoc = /^\/crm\/v4\/objects\/(\w+)\/(\d+)\/associations\/default\/(\w+)\/(\d+)$/.exec(url.pathname);
    if (assoc && req.method === 'PUT') {
      const [, from, fromId, to, toId] = assoc as unknown as [string, string, string, string, string];
      if (!this.objects.get(from)?.has(fromId) || !this.objects.get(to)?.has(toId)) return fail(400, 'VALIDATION_ERROR', `One or more of the records to associate do not exist: ${from} ${fromId}, ${to} ${toId}`);
      this.associations.push({ from, fromId, to, toId });
      const now = new Date().toISOString();
      return json(res, 200, { status: 'COMPLETE', results: [{ from: { id: fromId }, to: { id: toId }, associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 279 } }], startedAt: now, completedAt: now });
    }
    const m = /^\/crm\/v3\/objects\/(\w+)(?:\/(\w+))?$/.exec(url.pathname);
    if (!m) return fail(404, 'OBJECT_NOT_FOUND', 'resource not found');
    const [, type, id] = m as unknown as [string, string, string | undefined];
    const store = this.objects.get(type) ?? new Map<string, HubRecord>();
    const pick = (r: HubRecord, wanted?: string[]) => ({ ...r, properties: wanted ? Object.fromEntries(wanted.map((p) => [p, r.properties[p] ?? null])) : r.properties });
    if (id === 'search' && req.method === 'POST') {
      const groups = (body.filterGroups ?? []) as Array<{ filters: Array<{ propertyName: string; operator: string; value?: string }> }>;
      const matches = [...store.values()].filter((r) => groups.length === 0 || groups.some((g) => g.filters.every((f) => (f.operator === 'EQ' ? r.properties[f.propertyName] === f.value : f.operator === 'CONTAINS_TOKEN' ? (r.properties[f.propertyName] ?? '').includes(String(f.value).replace(/\*/g, '')) : false))));
      const offset = Number(body.after ?? 0);
      const limit = Number(body.limit ?? 10);
      if (limit > 200) return fail(400, 'VALIDATION_ERROR', 'limit must be at most 200');
      const page = matches.slice(offset, offset + limit);
      const next = offset + page.length < matches.length ? { next: { after: String(offset + page.length) } } : undefined;
      return json(res, 200, { total: matches.length, results: page.map((r) => pick(r, body.properties as string[] | undefined)), ...(next ? { paging: next } : {}) });
    }
    if (!id) {
      if (req.method !== 'POST') return fail(405, 'METHOD_NOT_ALLOWED', 'method not allowed');
      const properties = (body.properties ?? {}) as Record<string, string>;
      if (type === 'contacts' && properties.email && [...store.values()].some((r) => r.properties.email === properties.email)) return fail(409, 'CONFLICT', `Contact already exists. Existing ID: ${[...store.values()].find((r) => r.properties.email === properties.email)!.id}`);
      return json(res, 201, this.add(type, properties));
    }
    const record = store.get(id);
    if (!record) return fail(404, 'OBJECT_NOT_FOUND', 'resource not found');
    if (req.method === 'GET') return json(res, 200, pick(record, url.searchParams.get('properties')?.split(',')));
    if (req.method === 'PATCH') {
      const properties = (body.properties ?? {}) as Record<string, string>;
      const unknown = Object.keys(properties).find((k) => k.startsWith('nope'));
      if (unknown) return fail(400, 'VALIDATION_ERROR', `Property values were not valid: [{"isValid":false,"message":"Property \\"${unknown}\\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"${unknown}"}]`);
      Object.assign(record.properties, properties);
      record.updatedAt = new Date().toISOString();
      return json(res, 200, record);
    }
    if (req.method === 'DELETE') {
      store.delete(id);
      return void res.writeHead(204).end();
    }
    fail(405, 'METHOD_NOT_ALLOWED', 'method not allowed');
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' });
  res.end(JSON.stringify(body));
}
