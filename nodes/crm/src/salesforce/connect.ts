/**
 * Salesforce sessions with jsforce: the three OAuth 2.0 flows a server-side integration uses (username-password,
 * refresh token, JWT bearer), every request through the outbound guard (GuardedTransport), and a session renewed by
 * jsforce when Salesforce answers 401 INVALID_SESSION_ID. The refresh token and the private key stay in the vault
 * (the credential's fields); access tokens live only in the pooled connection, in memory.
 */
import type { Connection } from 'jsforce';
import { PooledResource, type NodeCredential, type OutboundServices, type RuntimeServices } from '@flowcrew/sdk';
import { hostOf } from '../shared/http.ts';
import { loadJose, loadJsforce } from '../shared/libs.ts';
import { guardedTransport } from './transport.ts';

export interface SalesforceFields extends Record<string, unknown> {
  flow: 'password' | 'refresh-token' | 'jwt' | 'web-server';
  loginUrl?: string;
  clientId: string;
  clientSecret?: string;
  username?: string;
  password?: string;
  securityToken?: string;
  refreshToken?: string;
  privateKey?: string;
  apiVersion?: string;
}

export const DEFAULT_LOGIN_URL = 'https://login.salesforce.com';
export const DEFAULT_API_VERSION = '62.0';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** A Salesforce error, naming the host, the operation and what Salesforce said (errorCode: message, fields). */
export class SalesforceError extends Error {
  readonly retryable: boolean;
  readonly errorCode: string | undefined;
  constructor(host: string, operation: string, error: unknown) {
    const e = error as Error & { errorCode?: string; data?: { fields?: string[] } | Array<{ errorCode?: string; message?: string; fields?: string[] }> };
    const details = Array.isArray(e.data) ? e.data : undefined;
    let said = e.errorCode && e.errorCode !== 'Error' ? `${e.errorCode}: ${e.message}` : e.name && e.name !== 'Error' && /^[a-z_]+$/.test(e.name) ? `${e.name}: ${e.message}` : e.message;
    if (details && details.length > 1) said = details.map((d) => `${d.errorCode}: ${d.message}${d.fields?.length ? ` (fields ${d.fields.join(', ')})` : ''}`).join('; ');
    else {
      const fields = (e.data as { fields?: string[] } | undefined)?.fields;
      if (fields?.length) said += ` (fields ${fields.join(', ')})`;
    }
    super(`Salesforce ${host}: ${operation} failed: ${said}`, { cause: error });
    this.name = 'SalesforceError';
    this.errorCode = e.errorCode;
    // Network trouble, rate limits and server errors may pass; a refused request will be refused again.
    this.retryable = !e.errorCode || /^ERROR_HTTP_5|REQUEST_LIMIT_EXCEEDED|SERVER_UNAVAILABLE|UNABLE_TO_LOCK_ROW/.test(e.errorCode) || e.name === 'RequestError';
  }
}

export function loginUrlOf(fields: SalesforceFields): string {
  return (fields.loginUrl || DEFAULT_LOGIN_URL).replace(/\/+$/, '');
}

/** Sign the JWT bearer assertion (RS256) with the connected app's certificate key: iss client id, sub user, aud login host. */
async function jwtAssertion(fields: SalesforceFields): Promise<string> {
  const { importPKCS8, SignJWT } = await loadJose();
  const key = await importPKCS8(fields.privateKey!, 'RS256');
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(fields.clientId)
    .setSubject(fields.username!)
    .setAudience(loginUrlOf(fields))
    .setIssuedAt()
    .setExpirationTime('3m')
    .sign(key);
}

/**
 * Open an authenticated connection for `fields`. Throws a SalesforceError naming the login host. `onRotated` hears
 * a refresh token Salesforce replaced (refresh token rotation): the old one stops working, so it must be stored.
 */
export async function connect(fields: SalesforceFields, outbound: OutboundServices, onRotated?: (refreshToken: string) => Promise<void>): Promise<Connection> {
  const [jsforce, transport] = await Promise.all([loadJsforce(), guardedTransport(outbound)]);
  const loginUrl = loginUrlOf(fields);
  const version = fields.apiVersion || DEFAULT_API_VERSION;
  const oauth2 = new jsforce.OAuth2({ loginUrl, clientId: fields.clientId, clientSecret: fields.clientSecret, redirectUri: `${loginUrl}/services/oauth2/success` });
  (oauth2 as unknown as { _transport: unknown })._transport = transport;
  const guarded = (conn: Connection) => {
    (conn as unknown as { _transport: unknown })._transport = transport;
    return conn;
  };
  try {
    switch (fields.flow) {
      case 'password': {
        // jsforce logs in again by itself when the session expires (it keeps the refresh function, not the token).
        const conn = guarded(new jsforce.Connection({ oauth2, version, loginUrl }));
        await conn.login(fields.username!, `${fields.password ?? ''}${fields.securityToken ?? ''}`);
        return conn;
      }
      case 'web-server':
      case 'refresh-token': {
        if (!fields.refreshToken) throw new Error('not connected yet: use "Connect" on the credential to give consent (authorization code flow)');
        // jsforce's own refresh keeps the first refresh token: with rotation on, the second refresh would fail.
        let current = fields.refreshToken!;
        const refresh = async () => {
          const token = await oauth2.refreshToken(current);
          if (token.refresh_token && token.refresh_token !== current) {
            current = token.refresh_token;
            await onRotated?.(current);
          }
          return token;
        };
        const refreshFn = async (conn: Connection, callback: (error?: Error, accessToken?: string) => void) => {
          try {
            const again = await refresh();
            (conn as unknown as { _establish(o: object): void })._establish({ instanceUrl: again.instance_url, accessToken: again.access_token, refreshToken: current });
            callback(undefined, again.access_token);
          } catch (error) {
            callback(error as Error);
          }
        };
        const token = await refresh();
        return guarded(new jsforce.Connection({ oauth2, version, loginUrl, instanceUrl: token.instance_url, accessToken: token.access_token, refreshFn }));
      }
      case 'jwt': {
        const token = await oauth2.requestToken({ grant_type: JWT_BEARER, assertion: await jwtAssertion(fields) });
        // No refresh token in this flow: an expired session is renewed with a freshly signed assertion.
        const refreshFn = async (conn: Connection, callback: (error?: Error, accessToken?: string) => void) => {
          try {
            const again = await oauth2.requestToken({ grant_type: JWT_BEARER, assertion: await jwtAssertion(fields) });
            (conn as unknown as { _establish(o: object): void })._establish({ instanceUrl: again.instance_url, accessToken: again.access_token });
            callback(undefined, again.access_token);
          } catch (error) {
            callback(error as Error);
          }
        };
        return guarded(new jsforce.Connection({ oauth2, version, loginUrl, instanceUrl: token.instance_url, accessToken: token.access_token, refreshFn }));
      }
      default:
        throw new Error(`unknown flow ${JSON.stringify(fields.flow)}`);
    }
  } catch (error) {
    throw new SalesforceError(hostOf(loginUrl), `login (${fields.flow} flow)`, error);
  }
}

/** One authenticated connection per credential revision, shared by every Salesforce node (fetch-based: no sockets of its own). */
export function connectionHandle(services: RuntimeServices, credential: NodeCredential<SalesforceFields>): PooledResource<Connection> {
  const onRotated = async (refreshToken: string) => {
    // Stored before the new token is used: a crash now still leaves the vault with the token that works.
    if (credential.writeBack) await credential.writeBack({ refreshToken }, 'Salesforce rotated the refresh token');
  };
  return new PooledResource(services.resources, 'crm:salesforce:connection', () => connect(credential.fields, services.outbound, onRotated), () => undefined, { credential, idleMs: 60_000 });
}
