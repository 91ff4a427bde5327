/**
 * Sign-in through the runtime's OpenID Connect provider with keycloak-js: authorization code flow with PKCE (S256),
 * the code returned in the query (the editor's routes live in the fragment), the access token refreshed before it
 * expires, logout through the provider. The route the user was on survives the round trip to the login page.
 */
import Keycloak from 'keycloak-js';
import type { OidcInfo } from '../api/types';

const RETURN_KEY = 'flowcrew.oidc.return';
const REDIRECTED_KEY = 'flowcrew.oidc.redirectedAt';
/** Refresh this long before the access token expires (and whenever a request finds it closer than that). */
const MIN_VALIDITY_S = 30;

export interface OidcSession {
  username: string;
  name: string;
  /** A valid access token (refreshed first when it expires soon); null once the provider's session has ended. */
  token(): Promise<string | null>;
  /** Ends the session at the provider, which sends the browser back to the editor. */
  logout(): Promise<void>;
}

export interface OidcClient {
  /** Completes a return from the login page, if this is one. The session, or null when not signed in. */
  start(): Promise<OidcSession | null>;
  /** Sends the browser to the provider's login page. */
  login(): Promise<void>;
  /** True unless the editor sent the browser to the login page moments ago and it came back unsigned (no loop). */
  mayRedirect(): boolean;
}

/** Where the provider sends the browser back: the editor's page, without the route (restored from sessionStorage). */
const returnUri = () => `${location.origin}${location.pathname}`;

function storage(): Storage | null {
  try {
    return sessionStorage;
  } catch {
    return null;
  }
}

export function createOidcClient(info: OidcInfo): OidcClient {
  const keycloak =
    info.url && info.realm
      ? new Keycloak({ url: info.url, realm: info.realm, clientId: info.clientId })
      : new Keycloak({ clientId: info.clientId, oidcProvider: info.issuer });
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;

  // Keep the token fresh while the editor is open, so the live connection's reconnects and the next save need no wait.
  const scheduleRefresh = () => {
    clearTimeout(refreshTimer);
    const expiresAt = (keycloak.tokenParsed?.exp ?? 0) * 1000 + (keycloak.timeSkew ?? 0) * 1000;
    const delay = Math.max(expiresAt - Date.now() - MIN_VALIDITY_S * 1000, 5000);
    refreshTimer = setTimeout(() => void keycloak.updateToken(MIN_VALIDITY_S).then(scheduleRefresh, () => undefined), delay);
  };

  const session = (): OidcSession => {
    const claims = (keycloak.tokenParsed ?? {}) as { preferred_username?: string; name?: string; email?: string; sub?: string };
    const username = claims.preferred_username ?? claims.email ?? claims.sub ?? 'unknown';
    return {
      username,
      name: claims.name ?? username,
      async token() {
        try {
          if (await keycloak.updateToken(MIN_VALIDITY_S)) scheduleRefresh();
          return keycloak.token ?? null;
        } catch {
          return null; // the refresh token expired or the session was ended elsewhere: sign in again
        }
      },
      async logout() {
        clearTimeout(refreshTimer);
        await keycloak.logout({ redirectUri: returnUri() });
      },
    };
  };

  return {
    async start() {
      const authenticated = await keycloak.init({ pkceMethod: 'S256', responseMode: 'query', checkLoginIframe: false, redirectUri: returnUri() });
      const saved = storage()?.getItem(RETURN_KEY);
      if (authenticated) {
        storage()?.removeItem(RETURN_KEY);
        storage()?.removeItem(REDIRECTED_KEY);
        // Back on the route the user left for the login page (a hash change: the router follows it).
        if (saved && saved !== location.hash) location.replace(saved);
        scheduleRefresh();
        return session();
      }
      return null;
    },
    async login() {
      storage()?.setItem(RETURN_KEY, location.hash || '#/');
      storage()?.setItem(REDIRECTED_KEY, String(Date.now()));
      await keycloak.login({ redirectUri: returnUri() });
    },
    mayRedirect() {
      const at = Number(storage()?.getItem(REDIRECTED_KEY) ?? 0);
      return Date.now() - at > 15_000;
    },
  };
}
