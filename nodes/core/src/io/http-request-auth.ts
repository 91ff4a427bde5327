/**
 * REST authentication for the http-request node from its http-auth credential: basic, bearer, an API key (in a
 * header or the query string), and OAuth2 access tokens (client credentials grant, or a refresh token obtained by
 * the authorization code flow), fetched from the token endpoint through the outbound guard and cached per credential
 * revision (a pooled resource) until shortly before they expire. Every host that sees a secret, the token endpoint included, must be in
 * the credential's allowedHosts.
 */
import { hostAllowedBy, NodeInputError, type OutboundServices } from '@flowcrew/sdk';

export const AUTH_TYPES = ['', 'basic', 'bearer', 'apiKey', 'oauth2', 'digest'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

/** The http-auth credential's fields (all optional: which are used depends on the node's authType). */
export interface HttpAuthFields {
  user?: string;
  password?: string;
  allowedHosts?: string[];
  apiKeyName?: string;
  apiKeyIn?: 'header' | 'query';
  apiKey?: string;
  grantType?: 'client_credentials' | 'refresh_token';
  tokenUrl?: string;
  /** The consent page of the authorization code flow (the runtime's POST /credentials/{id}/oauth2/authorize). */
  authorizationUrl?: string;
  clientId?: string;
  clientSecret?: string;
  clientAuth?: 'basic' | 'body';
  scope?: string;
  audience?: string;
  refreshToken?: string;
}

export const httpAuthFieldProperties = {
  apiKeyName: { title: 'API key name', type: 'string', default: 'X-API-Key', description: 'apiKey: the header or query parameter carrying the key.' },
  apiKeyIn: { title: 'API key in', enum: ['header', 'query'], default: 'header' },
  apiKey: { title: 'API key', type: 'string', writeOnly: true },
  grantType: { title: 'OAuth2 grant', enum: ['client_credentials', 'refresh_token'], default: 'client_credentials', description: 'client_credentials: the app acts as itself. refresh_token: on behalf of a user, with the refresh token their consent (authorization code flow) gave.' },
  tokenUrl: { title: 'Token URL', type: 'string', pattern: '^https?://', description: 'OAuth2: the token endpoint. Its host must be in allowedHosts too (the client secret is sent there).' },
  authorizationUrl: { title: 'Authorization URL', type: 'string', pattern: '^https?://', description: 'OAuth2 authorization code flow: the provider\'s consent page. "Connect" on the credential opens it and stores the refresh token it gives (register <this runtime>/api/v1/oauth2/callback as the redirect URI).' },
  clientId: { title: 'Client id', type: 'string' },
  clientSecret: { title: 'Client secret', type: 'string', writeOnly: true },
  clientAuth: { title: 'Client authentication', enum: ['basic', 'body'], default: 'basic', description: 'How the client id and secret go to the token endpoint: HTTP basic (client_secret_basic) or form fields (client_secret_post).' },
  scope: { title: 'Scope', type: 'string', description: 'Space-separated scopes to ask for.' },
  audience: { title: 'Audience', type: 'string', description: 'Sent as "audience" when set (Auth0 and others).' },
  refreshToken: { title: 'Refresh token', type: 'string', writeOnly: true, description: 'refresh_token: the token from the authorization code flow.' },
} as const;

export interface AppliedAuth {
  /** Headers to set (e.g. authorization, or the API key's header). */
  headers: Record<string, string>;
  /** Query parameters to add to the URL (an API key in the query). */
  query: Array<[string, string]>;
}

interface CachedToken {
  accessToken: string;
  /** ms since the epoch; refresh a little before. */
  expiresAt: number;
  /** A rotated refresh token the server answered with (used for the next refresh in this process). */
  refreshToken?: string;
}

const EXPIRY_MARGIN_MS = 30_000;

export class OAuth2Error extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'OAuth2Error';
  }
}

async function requestToken(fields: HttpAuthFields, outbound: OutboundServices, refreshToken: string | undefined, signal: AbortSignal): Promise<CachedToken> {
  const tokenUrl = new URL(fields.tokenUrl!);
  const body = new URLSearchParams();
  const grant = fields.grantType ?? 'client_credentials';
  body.set('grant_type', grant);
  if (grant === 'refresh_token') body.set('refresh_token', refreshToken ?? '');
  if (fields.scope) body.set('scope', fields.scope);
  if (fields.audience) body.set('audience', fields.audience);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if ((fields.clientAuth ?? 'basic') === 'basic') {
    // RFC 6749 2.3.1: id and secret are form-urlencoded before being joined.
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(fields.clientId ?? '')}:${encodeURIComponent(fields.clientSecret ?? '')}`).toString('base64')}`;
  } else {
    body.set('client_id', fields.clientId ?? '');
    if (fields.clientSecret) body.set('client_secret', fields.clientSecret);
  }
  const where = `OAuth2 token endpoint ${tokenUrl.host}`;
  let response: Response;
  try {
    response = await outbound.fetch(tokenUrl, { method: 'POST', headers, body: body.toString(), signal, redirect: 'error' });
  } catch (error) {
    throw new OAuth2Error(`${where}: ${grant} request failed: ${(error as Error).message}`, (error as { retryable?: boolean }).retryable !== false);
  }
  const text = await response.text();
  let answer: { access_token?: string; expires_in?: number; refresh_token?: string; error?: string; error_description?: string };
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    throw new OAuth2Error(`${where}: ${grant} answered HTTP ${response.status} without JSON: ${text.slice(0, 200)}`, response.status >= 500);
  }
  if (!response.ok || !answer.access_token) {
    const said = answer.error ? `${answer.error}${answer.error_description ? `: ${answer.error_description}` : ''}` : 'no access_token in the answer';
    throw new OAuth2Error(`${where}: ${grant} refused (HTTP ${response.status}): ${said}`, response.status >= 500 || response.status === 429);
  }
  const expiresIn = Number(answer.expires_in) > 0 ? Number(answer.expires_in) * 1000 : 3600_000;
  return { accessToken: answer.access_token, expiresAt: Date.now() + expiresIn - EXPIRY_MARGIN_MS, ...(answer.refresh_token ? { refreshToken: answer.refresh_token } : {}) };
}

/**
 * The access tokens of one credential revision: cached until shortly before they expire, one token request for
 * concurrent callers, and the rotated refresh token the server answered with used for the next refresh. Held as a
 * pooled resource keyed by the credential (shared by every node using it, dropped on a credential edit or undeploy).
 */
export class OAuth2TokenSource {
  private current: Promise<CachedToken> | undefined;
  private refreshToken: string | undefined;

  constructor(
    private readonly fields: HttpAuthFields,
    private readonly outbound: OutboundServices,
    /** Stores a rotated refresh token in the credential (the old one stops working at the server). */
    private readonly onRotated?: (refreshToken: string) => Promise<void>,
  ) {
    this.refreshToken = fields.refreshToken;
  }

  async get(signal: AbortSignal): Promise<string> {
    const cached = this.current && (await this.current.catch(() => undefined));
    if (cached && cached.expiresAt > Date.now()) return cached.accessToken;
    const pending = requestToken(this.fields, this.outbound, this.refreshToken, signal);
    this.current = pending;
    try {
      const token = await pending;
      if (token.refreshToken && token.refreshToken !== this.refreshToken) {
        this.refreshToken = token.refreshToken;
        // Stored before the access token is used: a restart then still has the refresh token that works.
        await this.onRotated?.(token.refreshToken);
      }
      return token.accessToken;
    } catch (error) {
      if (this.current === pending) this.current = undefined;
      throw error;
    }
  }

  /** The API answered 401: the next request fetches a new token. */
  forget(): void {
    this.current = undefined;
  }
}

/** Check at deploy that the credential has what `authType` needs, naming what is missing. */
export function checkAuthFields(authType: AuthType, fields: HttpAuthFields | undefined, allowedHosts: string[]): void {
  if (authType === 'apiKey' && !fields?.apiKey) throw new Error('http-request: authType apiKey needs an http-auth credential with apiKey');
  if (authType === 'oauth2') {
    if (!fields?.tokenUrl || !fields.clientId) throw new Error('http-request: authType oauth2 needs an http-auth credential with tokenUrl and clientId');
    if ((fields.grantType ?? 'client_credentials') === 'refresh_token' && !fields.refreshToken) throw new Error('http-request: the refresh_token grant needs the credential\'s refreshToken (from the authorization code flow)');
    let tokenUrl: URL;
    try {
      tokenUrl = new URL(fields.tokenUrl);
    } catch {
      throw new Error(`http-request: the credential's tokenUrl "${fields.tokenUrl}" is not a URL`);
    }
    if (!hostAllowedBy(allowedHosts, tokenUrl)) throw new Error(`http-request: the credential's tokenUrl host ${tokenUrl.host} is not in its allowedHosts (${allowedHosts.join(', ')}): the client secret would be sent there`);
  }
}

/** The headers and query parameters that authenticate one request (OAuth2 fetches a token when needed). */
export async function applyAuth(authType: AuthType, fields: HttpAuthFields, tokens: (() => Promise<OAuth2TokenSource>) | undefined, signal: AbortSignal): Promise<AppliedAuth> {
  switch (authType) {
    case 'apiKey': {
      const name = fields.apiKeyName || 'X-API-Key';
      return fields.apiKeyIn === 'query' ? { headers: {}, query: [[name, fields.apiKey!]] } : { headers: { [name]: fields.apiKey! }, query: [] };
    }
    case 'oauth2':
      try {
        return { headers: { Authorization: `Bearer ${await (await tokens!()).get(signal)}` }, query: [] };
      } catch (error) {
        if (error instanceof OAuth2Error && !error.retryable) throw new NodeInputError(error.message);
        throw error;
      }
    default:
      return { headers: {}, query: [] };
  }
}
