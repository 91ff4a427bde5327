/**
 * The route x role matrix: EVERY route of the route table, called over HTTP by every kind of caller, must allow or
 * deny exactly as the route's declared access and the role's permissions say.
 *
 * Callers: an instance admin (session), the owner, editor, operator and viewer of project "alpha" (sessions), an
 * editor of another project with no role in alpha, a viewer of alpha who edits another project (the router's
 * "held somewhere" gate lets them through: the service must stop them), an anonymous caller, and an API token of
 * alpha's owner whose scopes hold every project permission except the one the route needs. Each call gets a fresh target from a fixture
 * (a flow, run, credential... in alpha), so destructive routes never starve the next caller.
 *
 * Allowed = the request reached the service and did its work: not 401/403, not a 404 for the fixture's existing
 * target, not a 5xx. Denied = 401 for anonymous callers, otherwise 403, or 404 when the caller may not even see
 * the target (access.ts: no leak of existence).
 *
 * A route added to the table without a fixture here, or public without being on the public list below, fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSTANCE_ONLY, PERMISSIONS, ROLE_PERMISSIONS, type Permission } from '../identity/actor.ts';
import { startTestServer, type Credentials, type TestServer } from '../testing/server.ts';
import type { Route } from './route-table.ts';
import { ROUTES } from './routes/index.ts';
import { FIXTURES, MatrixSetup, type Fixture, type MatrixRole } from './route-matrix.fixtures.ts';

/** The only routes anyone may call without credentials (issue 8: health, the API document, sign-in and setup). */
const PUBLIC = new Set(['GET /health', 'GET /health/live', 'GET /health/ready', 'GET /openapi.json', 'GET /auth/status', 'POST /auth/setup', 'POST /auth/login',
  // A signed answer link is its own permission (waiting/links.ts): single use, expiring.
  'GET /waits/link/{token}', 'POST /waits/link/{token}/answer',
  // The OAuth2 provider's redirect back (oauth/authorization-code.ts): only a single-use state bound to the browser by a cookie.
  'GET /oauth2/callback']);

type Role = MatrixRole;
const ROLES: Role[] = ['admin', 'owner', 'editor', 'operator', 'viewer', 'no role here', 'viewer here, editor elsewhere', 'anonymous', 'token without it'];
/** Project permissions a token can hold (instance-wide ones never). */
const TOKEN_PERMISSIONS = PERMISSIONS.filter((p) => !INSTANCE_ONLY.has(p));

const key = (route: Pick<Route, 'method' | 'path'>) => `${route.method.toUpperCase()} ${route.path}`;

let server: TestServer;
let ctx: MatrixSetup;
const sessions = new Map<Role, Credentials>();
const tokensWithout = new Map<Permission | 'none', Credentials>();

function expectedAllowed(route: Route, fixture: Fixture, role: Role): boolean {
  const access = route.access;
  if (access === 'public') return true;
  if (role === 'anonymous') return false;
  if (access === 'authenticated') return role !== 'no role here' || fixture.scope === 'any';
  if (access === 'user') return role !== 'token without it' && (role !== 'no role here' || fixture.scope === 'any');
  if (role === 'admin') return true;
  if (role === 'token without it') return false;
  if (INSTANCE_ONLY.has(access)) return false;
  // The outsider is an editor elsewhere: enough for routes over "projects where you may", never for alpha's things.
  if (role === 'no role here') return fixture.scope === 'any' && ROLE_PERMISSIONS.editor.has(access);
  if (role === 'viewer here, editor elsewhere') return ROLE_PERMISSIONS.viewer.has(access) || (fixture.scope === 'any' && ROLE_PERMISSIONS.editor.has(access));
  return ROLE_PERMISSIONS[role].has(access);
}

async function credentialsFor(role: Role, route: Route, fixture: Fixture): Promise<Credentials | null> {
  if (role === 'anonymous') return null;
  if (role === 'token without it') {
    // Instance-wide permissions, 'authenticated' and 'user' routes: the token holding every project permission.
    const permission = TOKEN_PERMISSIONS.includes(route.access as Permission) ? (route.access as Permission) : 'none';
    return tokensWithout.get(permission)!;
  }
  // Signing out or changing a password ends sessions: those calls get a user of their own with the same roles.
  if (fixture.freshCaller) return (await ctx.userLike(role)).credentials;
  return sessions.get(role)!;
}

beforeAll(async () => {
  server = await startTestServer({}, { loadExamples: false });
  ctx = await MatrixSetup.create(server);
  sessions.set('admin', ctx.users.admin.credentials);
  for (const role of ['owner', 'editor', 'operator', 'viewer'] as const) sessions.set(role, ctx.users[role].credentials);
  sessions.set('no role here', ctx.users.outsider.credentials);
  sessions.set('viewer here, editor elsewhere', ctx.users.mixed.credentials);
  // Tokens of alpha's owner, each holding every project permission but one (and one holding all of them).
  for (const excluded of [...TOKEN_PERMISSIONS, 'none' as const]) {
    const res = await server.apiAs(ctx.users.owner.credentials, 'POST', '/api/v1/tokens', {
      name: `without ${excluded}`,
      projectId: 'alpha',
      permissions: TOKEN_PERMISSIONS.filter((p) => p !== excluded),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    tokensWithout.set(excluded, { token: res.body.secret });
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('the route table', () => {
  it('gives every route an access rule, and only the public list is public', () => {
    for (const route of ROUTES) {
      const access = route.access as string;
      expect(['public', 'authenticated', 'user', ...PERMISSIONS], `${key(route)} has no valid access rule`).toContain(access);
      if (access === 'public') expect(PUBLIC, `${key(route)} is public but not on the public list`).toContain(key(route));
    }
    expect(ROUTES.filter((r) => r.access === 'public').map(key).sort()).toEqual([...PUBLIC].sort());
  });

  it('has a matrix fixture for every route, and none for a route that does not exist', () => {
    const routes = new Set(ROUTES.map(key));
    for (const route of routes) expect(FIXTURES, `no matrix fixture for ${route}: add one to route-matrix.fixtures.ts`).toHaveProperty([route]);
    for (const fixture of Object.keys(FIXTURES)) expect(routes, `fixture for unknown route ${fixture}`).toContain(fixture);
  });

  it('declares for every route the access the matrix expects (a changed permission must be changed in both)', () => {
    for (const route of ROUTES) expect(route.access, key(route)).toBe(FIXTURES[key(route)]?.access);
  });
});

describe('route x role', () => {
  for (const route of ROUTES) {
    it(`${key(route)} (${route.access})`, async () => {
      const fixture = FIXTURES[key(route)];
      expect(fixture, `no matrix fixture for ${key(route)}`).toBeDefined();
      const outcomes: string[] = [];
      for (const role of ROLES) {
        const target = await fixture!.prepare(ctx);
        const who = await credentialsFor(role, route, fixture!);
        const res = await server.apiAs(who, route.method.toUpperCase(), `/api/v1${target.path}`, target.body);
        const allowed = expectedAllowed(route, fixture!, role);
        const where = `${key(route)} as ${role}: ${res.status} ${JSON.stringify(res.body)?.slice(0, 300)}`;
        outcomes.push(`${role}=${res.status}`);
        expect(res.status, where).toBeLessThan(500);
        if (allowed) {
          expect([401, 403], where).not.toContain(res.status);
          if (fixture!.scope !== 'any' || target.exists) expect(res.status, where).not.toBe(404);
          if (target.expect) expect(res.status, where).toBe(target.expect);
        } else if (role === 'anonymous') {
          expect(res.status, where).toBe(401);
          expect(res.headers.get('content-type'), where).toContain('application/problem+json');
        } else {
          expect([403, 404], where).toContain(res.status);
          expect(res.headers.get('content-type'), where).toContain('application/problem+json');
        }
      }
    }, 60_000);
  }
});

