/**
 * Dynamics 365 (Dataverse) Web API over the outbound guard: OAuth 2.0 client credentials token (the documented
 * Microsoft identity platform request, cached until a minute before it expires), OData v4 requests, and errors as
 * the Web API writes them (`{ error: { code, message } }`). @azure/msal-node is not used: it insists on an https
 * authority with instance discovery, which neither the outbound guard's fetch nor a local test endpoint gives it.
 */
import { PooledResource, type NodeCredential, type RuntimeServices } from '@flowcrew/sdk';
import { guardedFetch, hostOf } from '../shared/http.ts';

export interface DynamicsFields extends Record<string, unknown> {
  /** https://yourorg.crm.dynamics.com */
  url: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Default https://login.microsoftonline.com */
  authorityHost?: string;
  apiVersion?: string;
}

export class DynamicsError extends Error {
  readonly retryable: boolean;
  constructor(host: string, operation: string, said: string, status?: number) {
    super(`Dynamics 365 ${host}: ${operation} failed: ${said}`);
    this.name = 'DynamicsError';
    this.retryable = status === undefined || status === 429 || status >= 500;
  }
}

export class DynamicsClient {
  private token: { value: string; expiresAt: number } | undefined;
  private pending: Promise<string> | undefined;
  readonly host: string;
  readonly apiBase: string;

  constructor(private readonly fields: DynamicsFields, private readonly services: Pick<RuntimeServices, 'outbound'>) {
    this.host = hostOf(fields.url);
    this.apiBase = `${fields.url.replace(/\/+$/, '')}/api/data/v${fields.apiVersion || '9.2'}`;
  }

  /** An access token for the environment (client credentials grant, scope <url>/.default), cached. */
  accessToken(signal?: AbortSignal): Promise<string> {
    if (this.token && Date.now() < this.token.expiresAt) return Promise.resolve(this.token.value);
    this.pending ??= this.requestToken(signal).finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async requestToken(signal?: AbortSignal): Promise<string> {
    const authority = (this.fields.authorityHost || 'https://login.microsoftonline.com').replace(/\/+$/, '');
    const response = await guardedFetch(this.services.outbound, `${authority}/${encodeURIComponent(this.fields.tenantId)}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: this.fields.clientId, client_secret: this.fields.clientSecret, scope: `${this.fields.url.replace(/\/+$/, '')}/.default` }).toString(),
      signal,
    });
    const body = (await response.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
    if (!response.ok || !body.access_token) throw new DynamicsError(hostOf(authority), 'token request (client credentials)', `${body.error ?? response.status}: ${(body.error_description ?? response.statusText).split('\r\n')[0]}`, response.status >= 500 ? response.status : 400);
    this.token = { value: body.access_token, expiresAt: Date.now() + Math.max(0, (body.expires_in ?? 3600) - 60) * 1000 };
    return body.access_token;
  }

  /** One Web API request (path relative to the API base, or an absolute @odata.nextLink); the parsed body, or undefined for 204. */
  async request(operation: string, method: string, path: string, options: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<{ status: number; body: unknown; headers: Headers }> {
    const url = /^https?:/.test(path) ? path : `${this.apiBase}/${path.replace(/^\//, '')}`;
    if (new URL(url).host !== new URL(this.apiBase).host) throw new DynamicsError(this.host, operation, `refusing to follow a link to another host (${hostOf(url)})`, 400);
    const send = async () =>
      guardedFetch(this.services.outbound, url, {
        method,
        headers: { authorization: `Bearer ${await this.accessToken(options.signal)}`, accept: 'application/json', 'odata-version': '4.0', 'odata-maxversion': '4.0', ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
        body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
        signal: options.signal,
      });
    let response = await send();
    if (response.status === 401) {
      // An expired or revoked token: get a new one once.
      this.token = undefined;
      await response.body?.cancel();
      response = await send();
    }
    const text = await response.text();
    const body = text ? (JSON.parse(text) as unknown) : undefined;
    if (!response.ok) {
      const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new DynamicsError(this.host, operation, `${response.status}${error?.code ? ` ${error.code}` : ''}: ${error?.message ?? response.statusText}`, response.status);
    }
    return { status: response.status, body, headers: response.headers };
  }
}

export function clientHandle(services: RuntimeServices, credential: NodeCredential<DynamicsFields>): PooledResource<DynamicsClient> {
  return new PooledResource(services.resources, 'crm:dynamics:client', async () => new DynamicsClient(credential.fields, services), () => undefined, { credential, idleMs: 60_000 });
}

/** An OData string literal: single quotes doubled (the OData ABNF), for values from messages in $filter. */
export function odataLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return `'${String(value).replace(/'/g, "''")}'`;
}
