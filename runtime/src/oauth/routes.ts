/** The OAuth2 authorization code flow's two routes: start connecting a credential, and the provider's redirect back. */
import { actorOf, ok, problem, reply, strictObject, type Route } from '../api/route-table.ts';

/** Cookies of the request (the binding cookie of authorization-code.ts). */
function cookiesOf(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0) cookies[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return cookies;
}

export const oauth2Routes: Route[] = [
  {
    method: 'get',
    path: '/oauth2/callback',
    tag: 'credentials',
    summary: "The OAuth2 provider's redirect back after consent: stores the refresh token in the credential and sends the browser back to the editor",
    access: 'public',
    query: {
      code: { schema: { type: 'string' } },
      state: { schema: { type: 'string' }, required: true },
      iss: { schema: { type: 'string' } },
      error: { schema: { type: 'string' } },
      error_description: { schema: { type: 'string' } },
    },
    responses: { '302': ok('Connected: back to the editor'), '400': problem('The authorization failed or is unknown, expired or from another browser') },
    handle: async (ctx) => {
      const query = new URLSearchParams(Object.entries(ctx.query).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
      const done = await ctx.services.oauth2.callback(query, cookiesOf(ctx.headers.cookie));
      const to = new URL(done.returnTo, 'http://x');
      to.searchParams.set('oauth2', 'connected');
      to.searchParams.set('credential', done.credentialId);
      return { status: 302, headers: { Location: `${to.pathname}${to.search}` } };
    },
  },
  {
    method: 'post',
    path: '/credentials/{id}/oauth2/authorize',
    tag: 'credentials',
    summary: "Start connecting a credential by the OAuth2 authorization code flow (PKCE): answers the provider's consent URL to open in this browser",
    access: 'credential:write',
    params: { id: 'Credential id' },
    body: { schema: strictObject({ returnTo: { type: 'string', description: 'A path of this site to come back to (default /)' } }), required: false },
    responses: {
      '200': ok('The consent URL', { type: 'object', required: ['authorizationUrl'], properties: { authorizationUrl: { type: 'string' } } }),
      '404': problem('No such credential'),
      '422': problem('Not an OAuth2 credential, or a field the flow needs is missing'),
    },
    handle: async (ctx) => {
      const origin = `${ctx.secure ? 'https' : 'http'}://${ctx.headers.host}`;
      const returnTo = (ctx.body as { returnTo?: string } | undefined)?.returnTo;
      const answer = await ctx.services.oauth2.authorize(actorOf(ctx), ctx.params.id!, origin, returnTo);
      return reply.json({ authorizationUrl: answer.authorizationUrl }, 200, { 'Set-Cookie': answer.cookie });
    },
  },
];
