/**
 * The credential shape both protocol packs' nodes share: an endpoint and how to authenticate to it. The secret is
 * bound to the endpoint: it is sent to that URL's host only (the node's URL comes from the credential, not props).
 */
import type { JsonSchema } from '@flowcrew/sdk';

export interface EndpointAuthFields extends Record<string, unknown> {
  url: string;
  authType?: 'none' | 'bearer' | 'basic' | 'header';
  token?: string;
  headerName?: string;
  username?: string;
  password?: string;
}

export const endpointAuthProperties = {
  url: { title: 'Endpoint URL', type: 'string', format: 'uri', pattern: '^https?://', description: 'The service\'s URL. The outbound guard must allow it (FLOWCREW_OUTBOUND_ALLOW for private addresses).' },
  authType: { title: 'Authentication', enum: ['none', 'bearer', 'basic', 'header'], default: 'none', description: 'bearer: Authorization: Bearer <token>. basic: user and password. header: the token in a header of your choice (an API key).' },
  token: { title: 'Token or API key', type: 'string', writeOnly: true, format: 'password' },
  headerName: { title: 'Header name', type: 'string', default: 'X-API-Key', description: 'header: the header carrying the token.' },
  username: { title: 'User', type: 'string' },
  password: { title: 'Password', type: 'string', writeOnly: true, format: 'password' },
} as const satisfies Record<string, JsonSchema>;

/** The headers that authenticate a request to the credential's endpoint. */
export function authHeaders(fields: EndpointAuthFields | undefined): Record<string, string> {
  switch (fields?.authType) {
    case 'bearer':
      return fields.token ? { authorization: `Bearer ${fields.token}` } : {};
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`${fields.username ?? ''}:${fields.password ?? ''}`).toString('base64')}` };
    case 'header':
      return fields.token ? { [(fields.headerName || 'X-API-Key').toLowerCase()]: fields.token } : {};
    default:
      return {};
  }
}

/** A signal that aborts with the run's, or after `timeoutMs`. */
export function withTimeout(signal: AbortSignal, timeoutMs: number): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
}

/** The answer's body as text, at most `max` characters (for error messages). */
export async function bodyExcerpt(response: Response, max = 500): Promise<string> {
  const text = await response.text().catch(() => '');
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
