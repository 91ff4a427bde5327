/**
 * The OAuth2 authorization code flow with PKCE (RFC 6749 4.1, RFC 7636) for a stored credential, on oauth4webapi:
 * `begin` makes the consent URL and remembers the attempt; `complete` takes the provider's redirect back, checks it
 * and exchanges the code (through the outbound guard) for tokens.
 *
 * An attempt is bound to the browser that began it: a random binding secret goes into an HttpOnly SameSite=Lax
 * cookie scoped to the callback path, and only its hash is kept with the state. (The session cookie is
 * SameSite=Strict, so the provider's cross-site redirect does not carry it; the binding cookie does.) Attempts live
 * in memory for 10 minutes and are used once: a restart in between means starting again.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import * as oauth from 'oauth4webapi';
import type { OutboundServices } from '@flowcrew/sdk';
import type { Actor } from '../identity/actor.ts';
import type { AuthorizationCodeClient } from './profiles.ts';

export const CALLBACK_PATH = '/api/v1/oauth2/callback';
const TTL_MS = 10 * 60_000;

export interface Attempt {
  credentialId: string;
  actor: Actor;
  client: AuthorizationCodeClient;
  redirectUri: string;
  verifier: string;
  bindingHash: string;
  /** Where the browser goes afterwards (a path of this site). */
  returnTo: string;
}

export class OAuth2FlowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OAuth2FlowError';
  }
}

const hash = (value: string) => createHash('sha256').update(value).digest();
export const bindingCookie = (state: string) => `flowcrew_oauth2_${state.slice(0, 16)}`;

export class AuthorizationCodeFlow {
  private readonly attempts = new LRUCache<string, Attempt>({ max: 1000, ttl: TTL_MS });

  constructor(private readonly outbound: OutboundServices) {}

  /** The consent URL, and the cookie (name, value, max age in s) binding the attempt to this browser. */
  async begin(input: Omit<Attempt, 'verifier' | 'bindingHash'>): Promise<{ authorizationUrl: string; state: string; cookie: { name: string; value: string; maxAge: number } }> {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const binding = randomBytes(32).toString('base64url');
    const url = new URL(input.client.authorizationUrl);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', input.client.clientId);
    url.searchParams.set('redirect_uri', input.redirectUri);
    if (input.client.scope) url.searchParams.set('scope', input.client.scope);
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    this.attempts.set(state, { ...input, verifier, bindingHash: hash(binding).toString('hex') });
    return { authorizationUrl: url.href, state, cookie: { name: bindingCookie(state), value: binding, maxAge: TTL_MS / 1000 } };
  }

  /**
   * Check the redirect back (state known and not used, same browser, no error from the provider) and exchange the
   * code. The attempt is consumed whatever the outcome.
   */
  async complete(query: URLSearchParams, cookies: Record<string, string>, signal: AbortSignal): Promise<{ attempt: Attempt; refreshToken: string }> {
    const state = query.get('state') ?? '';
    const attempt = state ? this.attempts.get(state) : undefined;
    if (!attempt) throw new OAuth2FlowError('unknown or expired authorization attempt (state): start the connection again from the credential');
    this.attempts.delete(state);
    const binding = cookies[bindingCookie(state)];
    if (!binding || !timingSafeEqual(hash(binding), Buffer.from(attempt.bindingHash, 'hex'))) {
      throw new OAuth2FlowError('this authorization was started in another browser (its binding cookie is missing): start it again here');
    }
    const client = attempt.client;
    const tokenUrl = new URL(client.tokenUrl);
    // The issuer, when the provider names it (RFC 9207), must be where its consent page is: a mixed-up provider is refused.
    const iss = query.get('iss');
    if (iss !== null && !client.authorizationUrl.startsWith(iss.replace(/\/?$/, '/'))) {
      throw new OAuth2FlowError(`the answer names issuer ${iss}, which does not serve ${new URL(client.authorizationUrl).host}'s consent page`);
    }
    const as: oauth.AuthorizationServer = { issuer: iss ?? tokenUrl.origin, authorization_endpoint: client.authorizationUrl, token_endpoint: client.tokenUrl };
    const oauthClient: oauth.Client = { client_id: client.clientId };
    let params: URLSearchParams;
    try {
      params = oauth.validateAuthResponse(as, oauthClient, query, state);
    } catch (error) {
      const e = error as Error & { error?: string; error_description?: string; cause?: URLSearchParams };
      const said = e.cause instanceof URLSearchParams ? `${e.cause.get('error')}${e.cause.get('error_description') ? `: ${e.cause.get('error_description')}` : ''}` : e.message;
      throw new OAuth2FlowError(`the provider did not authorize: ${said}`);
    }
    const auth = !client.clientSecret ? oauth.None() : client.clientAuth === 'body' ? oauth.ClientSecretPost(client.clientSecret) : oauth.ClientSecretBasic(client.clientSecret);
    const options = {
      [oauth.customFetch]: (url: string, init: RequestInit) => this.outbound.fetch(url, { ...init, redirect: 'error' }),
      // Plain http only where the administrator configured an http token URL (a provider on the local network).
      [oauth.allowInsecureRequests]: tokenUrl.protocol === 'http:',
      signal,
    };
    let result: oauth.TokenEndpointResponse;
    try {
      const response = await oauth.authorizationCodeGrantRequest(as, oauthClient, auth, params, attempt.redirectUri, attempt.verifier, options);
      result = await oauth.processAuthorizationCodeResponse(as, oauthClient, response);
    } catch (error) {
      const e = error as Error & { error?: string; error_description?: string };
      const said = e.error ? `${e.error}${e.error_description ? `: ${e.error_description}` : ''}` : e.message;
      throw new OAuth2FlowError(`token endpoint ${tokenUrl.host} refused the authorization code: ${said}`);
    }
    if (!result.refresh_token) throw new OAuth2FlowError(`token endpoint ${tokenUrl.host} gave no refresh token (ask for offline access in the scope, e.g. offline_access or refresh_token)`);
    return { attempt, refreshToken: result.refresh_token };
  }
}
