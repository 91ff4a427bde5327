/**
 * Which stored credentials can be connected by the OAuth2 authorization code flow, and how: where the consent page
 * and the token endpoint are (from the credential's own fields) and which fields the tokens go into. One entry per
 * credential type that uses the flow; the grant that refreshes afterwards is the type's own (http-request's
 * refresh_token grant, Salesforce's refresh-token flow).
 */
export interface AuthorizationCodeClient {
  authorizationUrl: string;
  tokenUrl: string;
  clientId: string;
  /** Absent: a public client (PKCE only). */
  clientSecret?: string;
  /** How the secret goes to the token endpoint (RFC 6749 2.3.1). */
  clientAuth: 'basic' | 'body';
  scope?: string;
}

export interface OAuth2Profile {
  /** The client from the credential's fields; throws naming the missing field. */
  client(fields: Record<string, unknown>): AuthorizationCodeClient;
  /** The fields to store after consent. */
  store(tokens: { refreshToken: string }): Record<string, unknown>;
}

function required(fields: Record<string, unknown>, name: string, type: string): string {
  const value = fields[name];
  if (typeof value !== 'string' || value.trim() === '') throw new Error(`the ${type} credential needs "${name}" for the authorization code flow`);
  return value;
}

const optional = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

export const OAUTH2_PROFILES: Readonly<Record<string, OAuth2Profile>> = {
  'http-auth': {
    client: (f) => ({
      authorizationUrl: required(f, 'authorizationUrl', 'http-auth'),
      tokenUrl: required(f, 'tokenUrl', 'http-auth'),
      clientId: required(f, 'clientId', 'http-auth'),
      clientSecret: optional(f.clientSecret),
      clientAuth: f.clientAuth === 'body' ? 'body' : 'basic',
      scope: optional(f.scope),
    }),
    store: ({ refreshToken }) => ({ grantType: 'refresh_token', refreshToken }),
  },
  // Salesforce's web server flow (credential flow web-server): the connected app's key and secret; "refresh_token" scope for offline use.
  salesforce: {
    client: (f) => {
      const login = (optional(f.loginUrl) ?? 'https://login.salesforce.com').replace(/\/+$/, '');
      return {
        authorizationUrl: `${login}/services/oauth2/authorize`,
        tokenUrl: `${login}/services/oauth2/token`,
        clientId: required(f, 'clientId', 'salesforce'),
        clientSecret: optional(f.clientSecret),
        clientAuth: 'body',
        scope: 'api refresh_token',
      };
    },
    store: ({ refreshToken }) => ({ refreshToken }),
  },
};
