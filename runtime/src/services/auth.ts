/**
 * Signing in and out: the first-admin setup, password sign-in, sign-out, password change, and the status the editor
 * starts from. The mechanisms (argon2id, sessions, lock-out, CSRF tokens, audit of every attempt) are Identity's.
 */
import type { RuntimeConfig } from '../config.ts';
import type { Actor } from '../identity/actor.ts';
import type { Identity } from '../identity/identity.ts';
import { oidcClientInfo } from '../identity/oidc-config.ts';
import type { AuthRequest, NewUser, RequestFrom, SignedIn, UserView } from '../identity/types.ts';

export interface AuthStatus {
  setupRequired: boolean;
  user: UserView | null;
  csrfToken?: string;
  oidc: null | { issuer: string; clientId: string; realm?: string; url?: string };
}

export class AuthService {
  constructor(
    private readonly identity: Identity,
    private readonly config: RuntimeConfig,
  ) {}

  async status(actor: Actor | null, req: Pick<AuthRequest, 'headers'>): Promise<AuthStatus> {
    const user = actor ? await this.identity.currentUser(actor) : null;
    const csrfToken = user && actor?.via === 'session' ? this.identity.csrfTokenFor(req) : null;
    return { setupRequired: await this.identity.setupRequired(), user, ...(csrfToken ? { csrfToken } : {}), oidc: oidcClientInfo(this.config.oidc) };
  }

  /** The first admin (only while no user exists: 409 afterwards), signed in. */
  setup(input: NewUser, from: RequestFrom): Promise<SignedIn> {
    return this.identity.setup(input, from);
  }

  login(username: string, password: string, from: RequestFrom): Promise<SignedIn> {
    return this.identity.login(username, password, from);
  }

  /** Ends the session; returns the Set-Cookie value that clears the cookie. */
  async logout(actor: Actor, from: RequestFrom): Promise<string> {
    await this.identity.logout(actor);
    return this.identity.clearSessionCookie(from);
  }

  changePassword(actor: Actor, current: string, next: string, from: RequestFrom): Promise<SignedIn | null> {
    return this.identity.changePassword(actor, current, next, from);
  }
}
