/**
 * The real Keycloak 26 test server that `scripts/services keycloak` starts (dev mode, 127.0.0.1:8180) with the realm
 * from docker/keycloak/flowcrew-realm.json. Tests get tokens from it with the password grant of the realm's
 * `flowcrew-cli` client. Unreachable: tests FAIL when CI is set, and are skipped with a warning on a developer machine.
 */
import { parseOidcConfig, type OidcConfig } from '../identity/oidc-config.ts';

export const KEYCLOAK_URL = (process.env.FLOWCREW_TEST_KEYCLOAK_URL ?? 'http://127.0.0.1:8180').replace(/\/$/, '');
export const KEYCLOAK_REALM = 'flowcrew';
export const KEYCLOAK_ISSUER = `${KEYCLOAK_URL}/realms/${KEYCLOAK_REALM}`;

/** The realm's test users (docker/keycloak/flowcrew-realm.json): password = `<username>-password`. */
export const KEYCLOAK_USERS = {
  /** realm role flowcrew-admin → instance admin */
  alice: 'alice-password',
  /** groups /projects/default/editor and /projects/marketing/viewer */
  erin: 'erin-password',
  /** realm role flowcrew-operator → operator in the default project */
  oscar: 'oscar-password',
  /** no Flowcrew role or group: refused */
  nora: 'nora-password',
} as const;
export type KeycloakUser = keyof typeof KEYCLOAK_USERS;

/** null when the realm answers, else why not. */
export async function probeKeycloak(): Promise<string | null> {
  try {
    const response = await fetch(`${KEYCLOAK_ISSUER}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000) });
    return response.ok ? null : `discovery answered ${response.status}`;
  } catch (error) {
    return (error as Error).message;
  }
}

export const keycloakUnavailable = (reason: string) =>
  `Keycloak test realm not reachable at ${KEYCLOAK_ISSUER}: ${reason}. Run \`scripts/services keycloak\` to install and start it, or set FLOWCREW_TEST_KEYCLOAK_URL.`;

/** An access token (and the rest of the token response) by the password grant. */
export async function passwordGrant(user: KeycloakUser, clientId = 'flowcrew-cli'): Promise<{ access_token: string; refresh_token: string; id_token?: string; expires_in: number }> {
  const response = await fetch(`${KEYCLOAK_ISSUER}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: clientId, username: user, password: KEYCLOAK_USERS[user], scope: 'openid' }),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`Keycloak password grant for ${user} via ${clientId} failed: ${response.status} ${JSON.stringify(body)}`);
  return body as never;
}

/** The runtime's OIDC settings for the test realm, as an operator would set them (env), plus overrides. */
export function keycloakOidcEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { FLOWCREW_OIDC_ISSUER: KEYCLOAK_ISSUER, FLOWCREW_OIDC_AUDIENCE: 'flowcrew', FLOWCREW_OIDC_CLIENT_ID: 'flowcrew-editor', ...extra };
}

export function keycloakOidcConfig(extra: Record<string, string> = {}): OidcConfig {
  return parseOidcConfig(keycloakOidcEnv(extra))!;
}
