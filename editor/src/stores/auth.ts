/**
 * Who is signed in, and how. Local accounts sign in with a password (the runtime sets a session cookie; its CSRF
 * token goes back on unsafe requests); when the runtime reports an OpenID Connect provider (Keycloak), the editor
 * signs in there instead and sends the access token as a bearer. A 401 from any request ends the signed-in state
 * but nothing else: the workspace, its working copies and drafts stay, and signing in again carries on.
 *
 * Local accounts still sign in while OIDC is configured, at `?local` (e.g. the first admin, or when the provider is
 * down).
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { ApiError, api, authHooks } from '../api/client';
import type { AuthStatus, OidcInfo, UserView } from '../api/types';
import type { OidcClient, OidcSession } from '../lib/oidc';

/** keycloak-js is loaded only when the runtime reports an OIDC provider. */
const keycloakClient = async (info: OidcInfo): Promise<OidcClient> => (await import('../lib/oidc')).createOidcClient(info);

export type AuthPhase =
  | 'loading'
  /** No user exists yet: create the first admin. */
  | 'setup'
  | 'sign-in'
  /** On the way to the provider's login page. */
  | 'redirecting'
  | 'signed-in'
  /** Signed in at the provider, but the account has no Flowcrew role. */
  | 'no-access'
  /** The runtime did not answer. */
  | 'unreachable';

export interface SignedInUser {
  username: string;
  name: string;
  via: 'password' | 'oidc';
  /** Instance role, when the runtime tells (local accounts). */
  instanceRole?: UserView['instanceRole'];
}

export interface AuthOptions {
  /** The provider client (tests pass a stand-in; the editor uses keycloak-js). */
  oidcClient?: (info: OidcInfo) => OidcClient;
  /** Ask for the local sign-in form even when OIDC is configured (default: the page has `?local`). */
  local?: boolean;
}

const localRequested = () => typeof location !== 'undefined' && new URLSearchParams(location.search).has('local');

export const useAuthStore = defineStore('auth', () => {
  const phase = ref<AuthPhase>('loading');
  const user = ref<SignedInUser | null>(null);
  const oidc = ref<OidcInfo | null>(null);
  /** Why the sign-in page is shown again (a session that ended while working), or an error to show there. */
  const notice = ref<string | null>(null);
  const error = ref<string | null>(null);
  /** The local form while OIDC is configured. */
  const local = ref(false);
  let oidcClient: OidcClient | null = null;
  let oidcSession: OidcSession | null = null;

  const signedIn = computed(() => phase.value === 'signed-in');
  const canChangePassword = computed(() => user.value?.via === 'password');

  authHooks.onUnauthorized = () => unauthorized();

  function applyStatus(status: AuthStatus): void {
    authHooks.csrfToken = status.csrfToken ?? null;
    oidc.value = status.oidc;
    if (status.user) {
      user.value = { username: status.user.username, name: status.user.name || status.user.username, via: 'password', instanceRole: status.user.instanceRole };
    }
  }

  async function init(options: AuthOptions = {}): Promise<void> {
    phase.value = 'loading';
    local.value = options.local ?? localRequested();
    let status: AuthStatus;
    try {
      status = await api.authStatus();
    } catch (e) {
      error.value = (e as Error).message;
      phase.value = 'unreachable';
      return;
    }
    applyStatus(status);
    if (status.user) {
      phase.value = 'signed-in';
    } else if (status.oidc && !local.value) {
      oidcClient = options.oidcClient ? options.oidcClient(status.oidc) : await keycloakClient(status.oidc);
      await startOidc();
    } else {
      phase.value = status.setupRequired ? 'setup' : 'sign-in';
    }
  }

  async function startOidc(): Promise<void> {
    try {
      oidcSession = await oidcClient!.start();
    } catch (e) {
      error.value = `Could not reach the sign-in service: ${(e as Error).message}`;
      phase.value = 'sign-in';
      return;
    }
    if (!oidcSession) {
      // Straight to the provider's login page, unless we just came back from it without a session (no loop).
      if (oidcClient!.mayRedirect()) await loginWithProvider();
      else phase.value = 'sign-in';
      return;
    }
    const session = oidcSession;
    authHooks.bearer = () => session.token();
    user.value = { username: session.username, name: session.name, via: 'oidc' };
    // The runtime decides what the account may do: a user with no Flowcrew role at all is refused (403).
    try {
      await api.listFlows();
      phase.value = 'signed-in';
      notice.value = null;
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) phase.value = 'no-access';
      else if (e instanceof ApiError && e.status === 401) {
        error.value = 'The runtime did not accept the sign-in.';
        phase.value = 'sign-in';
      } else {
        error.value = (e as Error).message;
        phase.value = 'unreachable';
      }
    }
  }

  async function loginWithProvider(): Promise<void> {
    if (!oidcClient && oidc.value) oidcClient = await keycloakClient(oidc.value);
    phase.value = 'redirecting';
    await oidcClient!.login();
  }

  /** A refused request: show the sign-in again; keep everything else. */
  function unauthorized(): void {
    if (phase.value !== 'signed-in') return;
    authHooks.csrfToken = null;
    notice.value = 'Your session has ended. Sign in again to carry on: your unsaved changes are kept.';
    phase.value = 'sign-in';
  }

  function describe(e: unknown): string {
    if (!(e instanceof ApiError)) return (e as Error).message;
    if (e.status === 401) return 'Wrong username or password.';
    if (e.status === 423) return 'This account is locked after too many failed attempts. Try again later.';
    if (e.status === 429) return 'Too many attempts. Wait a moment and try again.';
    if (e.issues.length) return e.issues.map((i) => i.message).join(' ');
    return e.problem.detail ?? e.message;
  }

  /** After the runtime set a new session cookie: read its user and CSRF token. */
  async function refreshStatus(): Promise<void> {
    const status = await api.authStatus();
    applyStatus(status);
    if (!status.user) throw new Error('Signed in, but the runtime does not see the session (are cookies blocked?)');
  }

  async function login(username: string, password: string): Promise<boolean> {
    error.value = null;
    try {
      await api.login(username, password);
      await refreshStatus();
    } catch (e) {
      error.value = describe(e);
      return false;
    }
    notice.value = null;
    phase.value = 'signed-in';
    return true;
  }

  async function setup(input: { username: string; password: string; name?: string }): Promise<boolean> {
    error.value = null;
    try {
      await api.setup(input);
      await refreshStatus();
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        // Someone else created the first admin meanwhile.
        phase.value = 'sign-in';
        error.value = 'An admin already exists: sign in.';
        return false;
      }
      error.value = describe(e);
      return false;
    }
    phase.value = 'signed-in';
    return true;
  }

  async function logout(): Promise<void> {
    if (oidcSession) {
      const session = oidcSession;
      oidcSession = null;
      authHooks.bearer = null;
      phase.value = 'redirecting';
      await session.logout();
      return;
    }
    try {
      await api.logout();
    } catch {
      /* the session may be gone already: signed out either way */
    }
    authHooks.csrfToken = null;
    user.value = null;
    notice.value = null;
    phase.value = 'sign-in';
  }

  /** Throws ApiError with the runtime's message (wrong current password, weak new one). */
  async function changePassword(currentPassword: string, newPassword: string): Promise<void> {
    await api.changePassword(currentPassword, newPassword);
    // The runtime ends the other sessions and may issue a new cookie and CSRF token.
    await refreshStatus().catch(() => undefined);
  }

  return { phase, user, oidc, notice, error, local, signedIn, canChangePassword, init, login, setup, logout, changePassword, loginWithProvider, unauthorized, describe };
});
