/**
 * Bearer JWTs from an OpenID Connect provider (Keycloak 26, or any other) → an Actor. jose does the cryptography and
 * the standard claim checks (signature against the provider's JWKS, issuer, audience, expiry with a clock tolerance,
 * an allow-list of asymmetric algorithms); this file adds the checks jose cannot know (access token, not an ID or
 * refresh token) and maps realm roles, client roles and groups to Flowcrew's instance and project roles.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { ProblemError } from '../errors.ts';
import { DEFAULT_PROJECT, PROJECT_ROLES, type Actor, type ProjectRole } from './actor.ts';
import type { OidcConfig } from './oidc-config.ts';

export { oidcClientInfo, parseOidcConfig, type OidcConfig } from './oidc-config.ts';

/**
 * A refused token. The response says only 401 (or 403 for a valid user without any Flowcrew role); `reason` is for the
 * audit log and the server log, never for the client.
 */
export class OidcTokenError extends ProblemError {
  constructor(
    readonly reason: string,
    status: 401 | 403 = 401,
  ) {
    super(status, status === 401 ? 'Unauthorized' : 'Forbidden', status === 401 ? 'The bearer token is not valid' : 'Your account has no role in Flowcrew');
    this.name = 'OidcTokenError';
  }
}

export interface OidcVerifier {
  /** The Actor a valid access token stands for. Throws OidcTokenError (401; 403 when the user has no Flowcrew role). */
  verify(token: string): Promise<Actor>;
}

export interface OidcVerifierOptions {
  /** The clock (tests check expiry against a real provider's tokens by moving it). */
  now?: () => Date;
  /** Timeout of the discovery and JWKS requests, ms. */
  timeoutMs?: number;
}

/** Three base64url parts: worth trying as a JWT (API tokens and the admin token are not). */
export function looksLikeJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]*\.[\w-]*$/.test(token);
}

export function createOidcVerifier(config: OidcConfig, options: OidcVerifierOptions = {}): OidcVerifier {
  const timeoutMs = options.timeoutMs ?? 5000;
  let keys: Promise<ReturnType<typeof createRemoteJWKSet>> | null = null;

  // The JWKS address comes from the issuer's own discovery document (unless configured), once; a failure is retried
  // on the next token rather than remembered, so a provider that starts after Flowcrew is picked up.
  const keySet = () => {
    if (!keys) {
      keys = resolveJwksUri(config, timeoutMs).then((uri) =>
        createRemoteJWKSet(new URL(uri), { timeoutDuration: timeoutMs, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 }),
      );
      keys.catch(() => (keys = null));
    }
    return keys;
  };

  return {
    async verify(token) {
      if (typeof token !== 'string' || !looksLikeJwt(token)) throw new OidcTokenError('not a JWT');
      let payload: JWTPayload;
      try {
        const jwks = await keySet();
        ({ payload } = await jwtVerify(token, jwks, {
          issuer: config.issuer,
          audience: config.audience,
          algorithms: config.algorithms,
          clockTolerance: config.clockToleranceSec,
          requiredClaims: ['exp', 'iat', 'sub'],
          currentDate: options.now?.(),
        }));
      } catch (error) {
        throw new OidcTokenError(describeFailure(error));
      }
      // Keycloak marks its tokens: an ID token (aud = the client) or a refresh token must not pass as an access token.
      if (payload.typ !== undefined && payload.typ !== 'Bearer') throw new OidcTokenError(`not an access token (typ ${String(payload.typ)})`);
      return toActor(payload, config);
    },
  };
}

async function resolveJwksUri(config: OidcConfig, timeoutMs: number): Promise<string> {
  if (config.jwksUri) return config.jwksUri;
  const url = `${config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`OIDC discovery ${url} answered ${response.status}`);
  const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
  // The discovery document must be the configured issuer's (OpenID Connect Discovery 1.0, section 4.3).
  if (document.issuer !== config.issuer) throw new Error(`OIDC discovery ${url} names issuer ${String(document.issuer)}, not ${config.issuer}`);
  if (typeof document.jwks_uri !== 'string') throw new Error(`OIDC discovery ${url} has no jwks_uri`);
  return document.jwks_uri;
}

function describeFailure(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `claim ${error.claim} ${error.reason}`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature verification failed';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no matching signing key';
  if (error instanceof errors.JOSEError) return `${error.code}: ${error.message}`;
  return `cannot check the token: ${(error as Error)?.message ?? String(error)}`;
}

const RANK = new Map<ProjectRole, number>(PROJECT_ROLES.map((role, i) => [role, i]));
const isProjectRole = (value: string): value is ProjectRole => RANK.has(value as ProjectRole);
/** Same shape as project ids elsewhere (they appear in URLs). */
const PROJECT_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

function claimAt(payload: JWTPayload, path: string): unknown {
  let value: unknown = payload;
  for (const key of path.split('.')) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

/** Realm roles, the roles of Flowcrew's client and audiences, a plain `roles` claim, and the configured roles claim. */
function rolesOf(payload: JWTPayload, config: OidcConfig): Set<string> {
  const roles = new Set<string>(strings(claimAt(payload, 'realm_access.roles')));
  const resourceAccess = (payload.resource_access ?? {}) as Record<string, { roles?: unknown }>;
  for (const client of new Set([config.clientId, ...config.audience])) for (const role of strings(resourceAccess[client]?.roles)) roles.add(role);
  for (const role of strings(payload.roles)) roles.add(role);
  if (config.rolesClaim) for (const role of strings(claimAt(payload, config.rolesClaim))) roles.add(role);
  return roles;
}

/** Maps the token's roles and groups to an Actor; a user with no Flowcrew role at all is refused (403). */
export function toActor(payload: JWTPayload, config: OidcConfig): Actor {
  const roles = rolesOf(payload, config);
  const projects: Record<string, ProjectRole> = {};
  const grant = (project: string, role: ProjectRole) => {
    const held = projects[project];
    if (held === undefined || RANK.get(role)! < RANK.get(held)!) projects[project] = role;
  };

  if (config.rolePrefix) {
    for (const role of roles) {
      const name = role.startsWith(config.rolePrefix) ? role.slice(config.rolePrefix.length) : '';
      if (isProjectRole(name)) grant(DEFAULT_PROJECT, name);
    }
  }
  // Group paths with or without the leading '/' (Keycloak's "full group path" switch).
  const prefix = config.groupPrefix.replace(/^\//, '');
  if (prefix) {
    for (const group of strings(claimAt(payload, config.groupsClaim))) {
      const path = group.replace(/^\//, '');
      if (!path.startsWith(prefix)) continue;
      const [project, role, ...rest] = path.slice(prefix.length).split('/');
      if (rest.length === 0 && project && PROJECT_ID.test(project) && role && isProjectRole(role)) grant(project, role);
    }
  }

  const admin = config.adminRoles.some((role) => roles.has(role));
  if (!admin && Object.keys(projects).length === 0) throw new OidcTokenError('no Flowcrew role or group', 403);

  const name = [payload.preferred_username, payload.email, payload.sub].find((v): v is string => typeof v === 'string' && v !== '')!;
  return { kind: 'user', id: `oidc:${payload.sub}`, name, instanceRole: admin ? 'admin' : 'member', projects, via: 'oidc' };
}
