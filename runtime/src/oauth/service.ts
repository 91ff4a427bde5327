/**
 * Connecting a stored credential by the OAuth2 authorization code flow: who may (credential:write in its project),
 * what is stored (the refresh token, in the vault, as a user edit: running nodes get the new fields and a new
 * revision), and the audit entry (the user who gave consent, the fields, never a value).
 */
import { notFound, ProblemError } from '../errors.ts';
import { DEFAULT_PROJECT, type Actor } from '../identity/actor.ts';
import { createOutboundGuard } from '../outbound/index.ts';
import type { Runtime } from '../runtime.ts';
import { authorize } from '../services/access.ts';
import type { AuditService } from '../services/audit.ts';
import { AuthorizationCodeFlow, CALLBACK_PATH, OAuth2FlowError } from './authorization-code.ts';
import { OAUTH2_PROFILES } from './profiles.ts';

export interface AuthorizeAnswer {
  authorizationUrl: string;
  /** Set on the answer: binds the attempt to this browser (see authorization-code.ts). */
  cookie: string;
}

export class OAuth2Service {
  private flowInstance: AuthorizationCodeFlow | undefined;

  constructor(
    private readonly runtime: Runtime,
    private readonly audit: AuditService,
  ) {}

  private get flow(): AuthorizationCodeFlow {
    this.flowInstance ??= new AuthorizationCodeFlow(createOutboundGuard({ allow: this.runtime.config.outboundAllow }));
    return this.flowInstance;
  }

  /**
   * Start connecting credential `id`: the consent URL to open. `origin` is this runtime as the browser reaches it
   * (the callback URL registered at the provider must be `<origin>/api/v1/oauth2/callback`).
   */
  async authorize(actor: Actor, id: string, origin: string, returnTo = '/'): Promise<AuthorizeAnswer> {
    const record = await this.runtime.storage.getCredential(id);
    if (!record) throw notFound(`credential "${id}"`);
    authorize(actor, 'credential:write', record.projectId ?? DEFAULT_PROJECT, 'credential:read', `credential "${id}"`);
    const profile = OAUTH2_PROFILES[record.type];
    if (!profile) throw new ProblemError(422, 'Not an OAuth2 credential', `credential "${id}" is of type "${record.type}", which has no authorization code flow (types that have one: ${Object.keys(OAUTH2_PROFILES).join(', ')})`);
    if (!returnTo.startsWith('/') || returnTo.startsWith('//')) throw new ProblemError(422, 'Invalid returnTo', 'returnTo must be a path on this site, e.g. /credentials');
    let client;
    try {
      client = profile.client((await this.runtime.vault.resolve(id)) ?? {});
    } catch (error) {
      throw new ProblemError(422, 'Incomplete credential', (error as Error).message);
    }
    const secure = origin.startsWith('https:');
    const begun = await this.flow.begin({ credentialId: id, actor, client, redirectUri: `${origin}${CALLBACK_PATH}`, returnTo });
    const cookie = `${begun.cookie.name}=${begun.cookie.value}; Path=${CALLBACK_PATH}; Max-Age=${begun.cookie.maxAge}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
    return { authorizationUrl: begun.authorizationUrl, cookie };
  }

  /** The provider's redirect back: store the refresh token and say where the browser goes (or why it failed). */
  async callback(query: URLSearchParams, cookies: Record<string, string>): Promise<{ credentialId: string; returnTo: string }> {
    let done;
    try {
      done = await this.flow.complete(query, cookies, AbortSignal.timeout(30_000));
    } catch (error) {
      if (error instanceof OAuth2FlowError) throw new ProblemError(400, 'Authorization failed', error.message);
      throw error;
    }
    const { attempt, refreshToken } = done;
    const record = await this.runtime.storage.getCredential(attempt.credentialId);
    if (!record) throw notFound(`credential "${attempt.credentialId}" (deleted during the authorization)`);
    const fields = OAUTH2_PROFILES[record.type]!.store({ refreshToken });
    await this.runtime.vault.update(attempt.credentialId, { fields });
    await this.runtime.credentialChanged(attempt.credentialId); // nodes use the new token from now on
    await this.audit.record(attempt.actor, 'credential.oauth2-connect', { type: 'credential', id: attempt.credentialId }, record.projectId ?? DEFAULT_PROJECT, {
      fields: Object.keys(fields),
      provider: new URL(attempt.client.authorizationUrl).host,
    });
    return { credentialId: attempt.credentialId, returnTo: attempt.returnTo };
  }
}
