/** Signing in: status, first-admin setup, password sign-in, sign-out, password change. */
import type { RequestFrom, SignedIn } from '../../identity/types.ts';
import { actorOf, ok, problem, ref, reply, strictObject, type Reply, type RouteContext, type Route } from '../route-table.ts';

export const fromOf = (ctx: RouteContext): RequestFrom => ({ ip: ctx.ip, userAgent: ctx.headers['user-agent'], secure: ctx.secure });

/** The session goes in the cookie; the CSRF token in a header too, so the client need not ask /auth/status. */
const signedIn = (status: number, { user, session }: SignedIn): Reply => reply.json(user, status, { 'Set-Cookie': session.cookie, 'X-CSRF-Token': session.csrfToken });

const password = { type: 'string', minLength: 1, maxLength: 1024 };
const sessionHeaders = {
  'Set-Cookie': { description: 'The session cookie (HttpOnly, SameSite=Strict)', schema: { type: 'string' } },
  'X-CSRF-Token': { description: 'Send it back in X-CSRF-Token on unsafe requests', schema: { type: 'string' } },
};

export const authRoutes: Route[] = [
  {
    method: 'get',
    path: '/auth/status',
    tag: 'auth',
    summary: 'Whether the first admin must be set up, who you are, your CSRF token, and the OIDC provider if any',
    access: 'public',
    responses: { '200': ok('Status', ref('AuthStatus')) },
    handle: async (ctx) => reply.json(await ctx.services.auth.status(ctx.actor, ctx)),
  },
  {
    method: 'post',
    path: '/auth/setup',
    tag: 'auth',
    summary: 'Create the first admin (only while no user exists) and sign in',
    access: 'public',
    rateLimit: 'login',
    body: { required: true, schema: strictObject({ username: { type: 'string', minLength: 1, maxLength: 64 }, password, name: { type: 'string', minLength: 1, maxLength: 200 } }, ['username', 'password']) },
    responses: {
      '201': { ...ok('The first admin, signed in', ref('User')), headers: sessionHeaders },
      '409': problem('A user exists already: sign in instead'),
      '422': problem('Username or password not acceptable'),
    },
    handle: async (ctx) => {
      const { username, password: secret, name } = ctx.body as { username: string; password: string; name?: string };
      return signedIn(201, await ctx.services.auth.setup({ username, password: secret, name }, fromOf(ctx)));
    },
  },
  {
    method: 'post',
    path: '/auth/login',
    tag: 'auth',
    summary: 'Sign in with a username and password',
    access: 'public',
    rateLimit: 'login',
    body: { required: true, schema: strictObject({ username: { type: 'string', minLength: 1, maxLength: 256 }, password }, ['username', 'password']) },
    responses: {
      '200': { ...ok('Signed in', ref('User')), headers: sessionHeaders },
      '401': problem('Wrong username or password (never which)'),
      '423': problem('Account locked after repeated failures'),
    },
    handle: async (ctx) => {
      const { username, password: secret } = ctx.body as { username: string; password: string };
      return signedIn(200, await ctx.services.auth.login(username, secret, fromOf(ctx)));
    },
  },
  {
    method: 'post',
    path: '/auth/logout',
    tag: 'auth',
    summary: 'Sign out (ends the session; a no-op for bearer tokens)',
    access: 'authenticated',
    responses: { '204': ok('Signed out') },
    handle: async (ctx) => reply.noContent({ 'Set-Cookie': await ctx.services.auth.logout(actorOf(ctx), fromOf(ctx)) }),
  },
  {
    method: 'post',
    path: '/auth/password',
    tag: 'auth',
    summary: 'Change your password (ends your other sessions; this one gets a new cookie)',
    access: 'user',
    rateLimit: 'login',
    body: { required: true, schema: strictObject({ currentPassword: password, newPassword: password }, ['currentPassword', 'newPassword']) },
    responses: { '204': ok('Changed'), '422': problem('The new password is not acceptable') },
    handle: async (ctx) => {
      const { currentPassword, newPassword } = ctx.body as { currentPassword: string; newPassword: string };
      const renewed = await ctx.services.auth.changePassword(actorOf(ctx), currentPassword, newPassword, fromOf(ctx));
      return reply.noContent(renewed ? { 'Set-Cookie': renewed.session.cookie, 'X-CSRF-Token': renewed.session.csrfToken } : undefined);
    },
  },
];
