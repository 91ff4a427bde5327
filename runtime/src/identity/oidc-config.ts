/**
 * OIDC settings (Keycloak 26 or any OpenID Connect provider), read from FLOWCREW_OIDC_* variables. Kept apart from
 * the verifier (oidc.ts) so loading the configuration never loads the JWT library.
 */

export interface OidcConfig {
  /** FLOWCREW_OIDC_ISSUER: the provider's issuer URL, exactly as in the tokens' `iss` (Keycloak: <url>/realms/<realm>). */
  issuer: string;
  /** FLOWCREW_OIDC_AUDIENCE: a token must name one of these in `aud` (Keycloak: an audience mapper). */
  audience: string[];
  /** FLOWCREW_OIDC_CLIENT_ID: the editor's public client (authorization code + PKCE); its client roles count too. */
  clientId: string;
  /** FLOWCREW_OIDC_JWKS_URI: where the signing keys are; found through the issuer's discovery document when unset. */
  jwksUri?: string;
  /** FLOWCREW_OIDC_ALGORITHMS: accepted signature algorithms (asymmetric only: never `none` nor HS*). */
  algorithms: string[];
  /** FLOWCREW_OIDC_CLOCK_TOLERANCE: seconds of clock skew accepted on `exp`, `nbf` and `iat`. */
  clockToleranceSec: number;
  /** FLOWCREW_OIDC_ADMIN_ROLE: realm or client roles that make a user an instance admin (comma-separated). */
  adminRoles: string[];
  /** FLOWCREW_OIDC_ROLE_PREFIX: a role `<prefix><owner|editor|operator|viewer>` gives that role in the default project. */
  rolePrefix: string;
  /** FLOWCREW_OIDC_GROUP_PREFIX: a group `<prefix><project>/<role>` gives that role in that project. */
  groupPrefix: string;
  /** FLOWCREW_OIDC_GROUPS_CLAIM: the claim listing the user's groups (Keycloak: a group membership mapper, full path). */
  groupsClaim: string;
  /** FLOWCREW_OIDC_ROLES_CLAIM: an extra claim (dotted path) listing roles, for providers other than Keycloak. */
  rolesClaim?: string;
}

/** Asymmetric algorithms only: with a public JWKS, `none` or an HMAC algorithm would let anyone mint tokens. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

const list = (value: string | undefined): string[] => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);

function httpUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name} must be an http(s) URL (got "${value}")`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`${name} must be an http(s) URL (got "${value}")`);
  return value;
}

/** The OIDC settings, or null when FLOWCREW_OIDC_ISSUER is unset (OIDC off). Throws on a setting that cannot work. */
export function parseOidcConfig(env: NodeJS.ProcessEnv): OidcConfig | null {
  const issuer = env.FLOWCREW_OIDC_ISSUER?.trim();
  if (!issuer) return null;
  httpUrl('FLOWCREW_OIDC_ISSUER', issuer);
  const clientId = env.FLOWCREW_OIDC_CLIENT_ID?.trim() || 'flowcrew-editor';
  const audience = list(env.FLOWCREW_OIDC_AUDIENCE);
  const algorithms = env.FLOWCREW_OIDC_ALGORITHMS ? list(env.FLOWCREW_OIDC_ALGORITHMS) : ['RS256', 'PS256', 'ES256', 'EdDSA'];
  const refused = algorithms.filter((alg) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg));
  if (refused.length > 0 || algorithms.length === 0) {
    throw new Error(`FLOWCREW_OIDC_ALGORITHMS accepts only ${ASYMMETRIC_ALGORITHMS.join(', ')} (refused: ${refused.join(', ') || 'an empty list'})`);
  }
  const tolerance = env.FLOWCREW_OIDC_CLOCK_TOLERANCE ?? '30';
  const clockToleranceSec = Number(tolerance);
  if (!Number.isInteger(clockToleranceSec) || clockToleranceSec < 0 || clockToleranceSec > 300) {
    throw new Error(`FLOWCREW_OIDC_CLOCK_TOLERANCE must be whole seconds from 0 to 300 (got "${tolerance}")`);
  }
  const jwksUri = env.FLOWCREW_OIDC_JWKS_URI?.trim() || undefined;
  if (jwksUri) httpUrl('FLOWCREW_OIDC_JWKS_URI', jwksUri);
  return {
    issuer,
    audience: audience.length > 0 ? audience : ['flowcrew'],
    clientId,
    jwksUri,
    algorithms,
    clockToleranceSec,
    adminRoles: env.FLOWCREW_OIDC_ADMIN_ROLE === undefined ? ['flowcrew-admin'] : list(env.FLOWCREW_OIDC_ADMIN_ROLE),
    rolePrefix: env.FLOWCREW_OIDC_ROLE_PREFIX ?? 'flowcrew-',
    groupPrefix: env.FLOWCREW_OIDC_GROUP_PREFIX ?? '/projects/',
    groupsClaim: env.FLOWCREW_OIDC_GROUPS_CLAIM?.trim() || 'groups',
    rolesClaim: env.FLOWCREW_OIDC_ROLES_CLAIM?.trim() || undefined,
  };
}

/**
 * What the editor needs to sign in (GET /api/v1/auth/status → `oidc`): public values only. For a Keycloak issuer
 * (<url>/realms/<realm>) also `url` and `realm`, which keycloak-js takes.
 */
export function oidcClientInfo(config: OidcConfig | null): null | { issuer: string; clientId: string; url?: string; realm?: string } {
  if (!config) return null;
  const keycloak = /^(.*)\/realms\/([^/]+)\/?$/.exec(config.issuer);
  return keycloak
    ? { issuer: config.issuer, clientId: config.clientId, url: keycloak[1], realm: decodeURIComponent(keycloak[2]!) }
    : { issuer: config.issuer, clientId: config.clientId };
}
