/**
 * Fixtures of the route x role matrix (route-matrix.test.ts): for each route, how to make a fresh target in project
 * "alpha" for one call. Everything is set up through the API as the instance admin (the test server's admin token).
 */
import type { ProjectRole } from '../identity/actor.ts';
import type { Access } from './route-table.ts';
import type { Credentials, TestServer } from '../testing/server.ts';
import { WAIT_FIXTURES } from '../waiting/matrix-fixtures.ts';
import { STEP_FIXTURES } from '../steps/matrix-fixtures.ts';
import { EVAL_FIXTURES } from '../evals/matrix-fixtures.ts';

export interface Target {
  /** Path under /api/v1, with its query string. */
  path: string;
  body?: unknown;
  /** For scope 'any' routes: the path names an existing thing, so an allowed caller must not get 404. */
  exists?: boolean;
  /** The status an allowed caller must get (when the route always answers the same for them). */
  expect?: number;
}

export interface Fixture {
  /** The access this route must declare: the matrix's own statement of the policy, checked against the table. */
  access: Access;
  /** 'project': the target lives in alpha. 'any': the route works over "the projects where you may" (lists, checks). */
  scope: 'project' | 'any';
  /** The call ends the caller's session (sign-out, password change): give it a fresh user with the same roles. */
  freshCaller?: boolean;
  prepare(ctx: MatrixSetup): Promise<Target> | Target;
}

type Signed = { id: string; credentials: Credentials };
export type MatrixRole = 'admin' | ProjectRole | 'no role here' | 'viewer here, editor elsewhere' | 'anonymous' | 'token without it';

const doc = (id: string) => ({ id, name: id, nodes: [{ id: 'go', type: 'inject', wires: [['out']] }, { id: 'out', type: 'debug' }] });

export class MatrixSetup {
  private n = 0;
  flow = '';
  run = '';
  credential = '';

  private constructor(
    readonly server: TestServer,
    readonly users: Record<'admin' | ProjectRole | 'outsider' | 'mixed' | 'member', Signed>,
  ) {}

  static async create(server: TestServer): Promise<MatrixSetup> {
    for (const id of ['alpha', 'beta']) await must(server.api('POST', '/api/v1/projects', { id, name: id }), 201);
    const users = {
      admin: await server.userWith('m-admin', { instanceRole: 'admin' }),
      owner: await server.userWith('m-owner', { projects: { alpha: 'owner' } }),
      editor: await server.userWith('m-editor', { projects: { alpha: 'editor' } }),
      operator: await server.userWith('m-operator', { projects: { alpha: 'operator' } }),
      viewer: await server.userWith('m-viewer', { projects: { alpha: 'viewer' } }),
      outsider: await server.userWith('m-outsider', { projects: { beta: 'editor' } }),
      mixed: await server.userWith('m-mixed', { projects: { alpha: 'viewer', beta: 'editor' } }),
      member: await server.userWith('m-member', { projects: { alpha: 'viewer' } }),
    };
    const ctx = new MatrixSetup(server, users);
    ctx.flow = await ctx.newFlow(true);
    const started = await must(server.api('POST', `/api/v1/flows/${ctx.flow}/runs`, {}), 202);
    ctx.run = (await server.waitRun(started.runId)).id;
    ctx.credential = await ctx.newCredential();
    return ctx;
  }

  unique(prefix: string): string {
    return `${prefix}-${++this.n}`;
  }

  async newFlow(deployed = false): Promise<string> {
    const id = this.unique('m-flow');
    await must(this.server.api('POST', '/api/v1/flows', { ...doc(id), projectId: 'alpha' }), 201);
    if (deployed) await must(this.server.api('POST', `/api/v1/flows/${id}/deploy`), 200);
    return id;
  }

  async newCredential(): Promise<string> {
    return (await must(this.server.api('POST', '/api/v1/credentials', { name: this.unique('m-cred'), type: 'http-auth', fields: { token: 's3cret' }, projectId: 'alpha' }), 201)).id;
  }

  async newToken(): Promise<string> {
    return (await must(this.server.api('POST', '/api/v1/tokens', { name: this.unique('m-token'), projectId: 'alpha', permissions: ['flow:read'] }), 201)).token.id;
  }

  async newUser(): Promise<string> {
    return (await must(this.server.api('POST', '/api/v1/users', { username: this.unique('m-user') }), 201)).id;
  }

  async newProject(): Promise<string> {
    return (await must(this.server.api('POST', '/api/v1/projects', { name: this.unique('m-project') }), 201)).id;
  }

  /** A new user with the same roles as `role`'s matrix user, signed in. */
  userLike(role: MatrixRole): Promise<Signed> {
    const name = this.unique('m-fresh');
    if (role === 'admin') return this.server.userWith(name, { instanceRole: 'admin' });
    if (role === 'no role here') return this.server.userWith(name, { projects: { beta: 'editor' } });
    if (role === 'viewer here, editor elsewhere') return this.server.userWith(name, { projects: { alpha: 'viewer', beta: 'editor' } });
    if (role === 'anonymous' || role === 'token without it') throw new Error(`no user is like ${role}`);
    return this.server.userWith(name, { projects: { alpha: role } });
  }
}

async function must<T = any>(answer: Promise<{ status: number; body: T }>, status: number): Promise<T> {
  const res = await answer;
  if (res.status !== status) throw new Error(`matrix setup: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const UNREACHABLE_GIT = 'ssh://git@127.0.0.1:1/matrix.git';
/** Link project alpha to an unreachable remote (idempotent); '' so it can be appended to a path. */
async function linkAlpha(c: MatrixSetup): Promise<string> {
  await must(c.server.api('PUT', '/api/v1/projects/alpha/git', { url: UNREACHABLE_GIT, branch: 'main' }), 200);
  return '';
}

async function unlinkAlpha(c: MatrixSetup): Promise<string> {
  const res = await c.server.api('DELETE', '/api/v1/projects/alpha/git');
  if (res.status !== 204 && res.status !== 404) throw new Error(`matrix setup: unlinking alpha answered ${res.status}`);
  return '';
}

const fixed = (access: Access, scope: Fixture['scope'], path: string, extra: Omit<Target, 'path'> = {}): Fixture => ({ access, scope, prepare: () => ({ path, ...extra }) });

const MATRIX_SUITE = { cases: [{ name: 'runs', input: { node: 'go', msg: { payload: 1 } }, expect: [{ node: 'out', called: true }] }] };
const subflowDoc = (id: string) => ({ id, name: id, nodes: [{ id: 'in', type: 'subflow-in', wires: [['out']] }, { id: 'out', type: 'subflow-out' }] });
async function newSubflow(c: MatrixSetup): Promise<string> {
  const id = c.unique('m-sub');
  await must(c.server.api('POST', '/api/v1/subflows?project=alpha', subflowDoc(id)), 201);
  return id;
}

export const FIXTURES: Record<string, Fixture> = {
  // system
  'GET /health': fixed('public', 'any', '/health', { expect: 200 }),
  'GET /health/live': fixed('public', 'any', '/health/live', { expect: 200 }),
  'GET /health/ready': fixed('public', 'any', '/health/ready', { expect: 200 }),
  'GET /openapi.json': fixed('public', 'any', '/openapi.json', { expect: 200 }),
  'GET /node-types': fixed('pack:read', 'any', '/node-types', { expect: 200 }),
  'GET /node-packs': fixed('pack:read', 'any', '/node-packs', { expect: 200 }),
  // palette manager: each target is refused before any npm registry is asked (the end-to-end test is palette.test.ts)
  'GET /node-packs/catalog': fixed('pack:install', 'any', `/node-packs/catalog?q=${'x'.repeat(201)}`, { expect: 400 }),
  'GET /node-packs/catalog/details': fixed('pack:install', 'any', '/node-packs/catalog/details?name=Not%20a%20name', { expect: 400 }),
  'POST /node-packs/install': fixed('pack:install', 'any', '/node-packs/install', { body: { name: 'Not a name' }, expect: 400 }),
  'POST /node-packs/remove': fixed('pack:install', 'any', '/node-packs/remove', { body: { name: 'flowcrew-nodes-not-installed' }, expect: 404 }),
  'POST /node-packs/disable': fixed('pack:install', 'any', '/node-packs/disable', { body: { name: 'flowcrew-nodes-not-installed' }, expect: 404 }),
  'POST /node-packs/enable': fixed('pack:install', 'any', '/node-packs/enable', { body: { name: 'flowcrew-nodes-not-installed' }, expect: 404 }),
  'GET /stats': fixed('run:read', 'any', '/stats?minutes=5', { expect: 200 }),

  // auth
  'GET /auth/status': fixed('public', 'any', '/auth/status', { expect: 200 }),
  'POST /auth/setup': fixed('public', 'any', '/auth/setup', { body: { username: 'late-admin', password: 'a long enough password 1' }, expect: 409 }),
  'POST /auth/login': fixed('public', 'any', '/auth/login', { body: { username: 'm-member', password: 'correct horse battery staple 42' }, expect: 200 }),
  'POST /auth/logout': { access: 'authenticated', scope: 'any', freshCaller: true, prepare: () => ({ path: '/auth/logout', expect: 204 }) },
  'POST /auth/password': {
    access: 'user',
    scope: 'any',
    freshCaller: true,
    prepare: () => ({ path: '/auth/password', body: { currentPassword: 'correct horse battery staple 42', newPassword: 'another long passphrase 77' }, expect: 204 }),
  },

  // flows
  'GET /flows': fixed('flow:read', 'any', '/flows', { expect: 200 }),
  'POST /flows': { access: 'flow:write', scope: 'project', prepare: (c) => ({ path: '/flows', body: { ...doc(c.unique('m-new')), projectId: 'alpha' }, expect: 201 }) },
  'POST /flows/validate': { access: 'flow:write', scope: 'any', prepare: (c) => ({ path: '/flows/validate', body: doc(c.unique('m-check')), expect: 200 }) },
  'POST /flows/import': { access: 'flow:write', scope: 'project', prepare: (c) => ({ path: '/flows/import?projectId=alpha', body: doc(c.unique('m-import')), expect: 201 }) },
  'GET /flows/{id}': { access: 'flow:read', scope: 'project', prepare: (c) => ({ path: `/flows/${c.flow}`, expect: 200 }) },
  'PUT /flows/{id}': { access: 'flow:write', scope: 'project', prepare: async (c) => { const id = await c.newFlow(); return { path: `/flows/${id}`, body: { ...doc(id), name: 'renamed' }, expect: 200 }; } },
  'DELETE /flows/{id}': { access: 'flow:write', scope: 'project', prepare: async (c) => ({ path: `/flows/${await c.newFlow()}`, expect: 204 }) },
  'POST /flows/{id}/deploy': { access: 'flow:deploy', scope: 'project', prepare: async (c) => ({ path: `/flows/${await c.newFlow()}/deploy`, expect: 200 }) },
  'POST /flows/{id}/undeploy': { access: 'flow:deploy', scope: 'project', prepare: async (c) => ({ path: `/flows/${await c.newFlow(true)}/undeploy`, expect: 200 }) },
  'GET /flows/{id}/export': { access: 'flow:read', scope: 'project', prepare: (c) => ({ path: `/flows/${c.flow}/export`, expect: 200 }) },
  'GET /flows/{id}/debug': { access: 'flow:read', scope: 'project', prepare: (c) => ({ path: `/flows/${c.flow}/debug`, expect: 200 }) },
  'POST /flows/{id}/runs': { access: 'run:start', scope: 'project', prepare: (c) => ({ path: `/flows/${c.flow}/runs`, body: { input: { payload: 1 } }, expect: 202 }) },
  // pinned outputs (pins/service.ts)
  'GET /flows/{id}/pins': { access: 'flow:read', scope: 'project', prepare: (c) => ({ path: `/flows/${c.flow}/pins`, expect: 200 }) },
  'PUT /flows/{id}/pins/{nodeId}': { access: 'flow:write', scope: 'project', prepare: (c) => ({ path: `/flows/${c.flow}/pins/go`, body: { outputs: [{ msg: { payload: 1 } }] }, expect: 200 }) },
  'DELETE /flows/{id}/pins/{nodeId}': {
    access: 'flow:write',
    scope: 'project',
    prepare: async (c) => {
      const id = await c.newFlow();
      await must(c.server.api('PUT', `/api/v1/flows/${id}/pins/go`, { outputs: [{ msg: { payload: 1 } }] }), 200);
      return { path: `/flows/${id}/pins/go`, expect: 204 };
    },
  },
  'POST /flows/{id}/pinned-runs': { access: 'run:start', scope: 'project', prepare: (c) => ({ path: `/flows/${c.flow}/pinned-runs`, body: {}, expect: 200 }) },
  // flow versions (versions/service.ts)
  'GET /flows/{id}/versions': { access: 'flow:read', scope: 'project', prepare: (c) => ({ path: `/flows/${c.flow}/versions`, expect: 200 }) },
  'GET /flows/{id}/versions/{version}': { access: 'flow:read', scope: 'project', prepare: (c) => ({ path: `/flows/${c.flow}/versions/1`, expect: 200 }) },
  'GET /flows/{id}/diff': { access: 'flow:read', scope: 'project', prepare: (c) => ({ path: `/flows/${c.flow}/diff?from=1`, expect: 200 }) },
  'GET /flows/{id}/deployments': { access: 'flow:read', scope: 'project', prepare: (c) => ({ path: `/flows/${c.flow}/deployments`, expect: 200 }) },
  'POST /flows/{id}/versions/{version}/restore': {
    access: 'flow:write',
    scope: 'project',
    prepare: async (c) => {
      const id = await c.newFlow();
      await must(c.server.api('PUT', `/api/v1/flows/${id}`, { ...doc(id), name: 'second' }), 200);
      return { path: `/flows/${id}/versions/1/restore`, expect: 200 };
    },
  },

  // runs
  'GET /runs': fixed('run:read', 'any', '/runs?test=false', { expect: 200 }),
  'GET /runs/{id}': { access: 'run:read', scope: 'project', prepare: (c) => ({ path: `/runs/${c.run}`, expect: 200 }) },
  'POST /runs/{id}/rerun': { access: 'run:start', scope: 'project', prepare: (c) => ({ path: `/runs/${c.run}/rerun`, expect: 202 }) },
  'POST /runs/{id}/cancel': { access: 'run:cancel', scope: 'project', prepare: (c) => ({ path: `/runs/${c.run}/cancel`, expect: 409 }) },

  // credentials
  'GET /credentials': fixed('credential:read', 'any', '/credentials', { expect: 200 }),
  'POST /credentials': { access: 'credential:write', scope: 'project', prepare: (c) => ({ path: '/credentials', body: { name: c.unique('m-cred'), type: 'http-auth', fields: { token: 'x' }, projectId: 'alpha' }, expect: 201 }) },
  'GET /credentials/{id}': { access: 'credential:read', scope: 'project', prepare: (c) => ({ path: `/credentials/${c.credential}`, expect: 200 }) },
  'PATCH /credentials/{id}': { access: 'credential:write', scope: 'project', prepare: (c) => ({ path: `/credentials/${c.credential}`, body: { fields: { token: 'y' } }, expect: 200 }) },
  'DELETE /credentials/{id}': { access: 'credential:write', scope: 'project', prepare: async (c) => ({ path: `/credentials/${await c.newCredential()}`, expect: 204 }) },
  'GET /credential-types': fixed('pack:read', 'any', '/credential-types', { expect: 200 }),
  // A connection test that fails (nothing listens there, or the outbound guard refuses it) still answers 200 with ok: false.
  'POST /credentials/test': fixed('credential:write', 'any', '/credentials/test', { body: { type: 'postgres', fields: { host: '127.0.0.1', port: 9, database: 'x', user: 'x', password: 'x' } }, expect: 200 }),
  // The fixture's credential is an http-auth one, which has no connection test: 422 for every caller allowed to try.
  'POST /node-types/{type}/options/{source}': fixed('flow:write', 'any', '/node-types/inject/options/none', { body: {}, expect: 404 }),
  'GET /oauth2/callback': fixed('public', 'any', '/oauth2/callback?state=unknown&code=x', { expect: 400 }),
  'POST /credentials/{id}/oauth2/authorize': { access: 'credential:write', scope: 'project', prepare: (c) => ({ path: `/credentials/${c.credential}/oauth2/authorize`, body: {}, expect: 422 }) },
  'POST /credentials/{id}/test': { access: 'credential:write', scope: 'project', prepare: (c) => ({ path: `/credentials/${c.credential}/test`, body: {}, expect: 422 }) },

  // projects
  'GET /projects': fixed('authenticated', 'any', '/projects', { expect: 200 }),
  'POST /projects': { access: 'project:create', scope: 'any', prepare: (c) => ({ path: '/projects', body: { name: c.unique('m-proj') }, expect: 201 }) },
  'GET /projects/{id}': fixed('authenticated', 'project', '/projects/alpha', { expect: 200 }),
  'PATCH /projects/{id}': fixed('project:manage', 'project', '/projects/alpha', { body: { description: 'the matrix project' }, expect: 200 }),
  'DELETE /projects/{id}': { access: 'project:create', scope: 'any', prepare: async (c) => ({ path: `/projects/${await c.newProject()}`, exists: true, expect: 204 }) },
  'GET /projects/{id}/members': fixed('project:manage', 'project', '/projects/alpha/members', { expect: 200 }),
  'PUT /projects/{id}/members/{userId}': { access: 'project:manage', scope: 'project', prepare: (c) => ({ path: `/projects/alpha/members/${c.users.member.id}`, body: { role: 'viewer' }, expect: 200 }) },
  'DELETE /projects/{id}/members/{userId}': {
    access: 'project:manage',
    scope: 'project',
    prepare: async (c) => {
      const user = await c.newUser();
      await must(c.server.api('PUT', `/api/v1/projects/alpha/members/${user}`, { role: 'viewer' }), 200);
      return { path: `/projects/alpha/members/${user}`, expect: 204 };
    },
  },

  // Git links (git/service.ts): push/pull/promote target alpha while it is not linked, which every caller allowed to
  // try learns as a 409 after the permission check (the real Git server is exercised by git/git.test.ts).
  'GET /projects/{id}/git': { access: 'flow:read', scope: 'project', prepare: async (c) => ({ path: `/projects/alpha/git${await linkAlpha(c)}`, expect: 200 }) },
  'PUT /projects/{id}/git': fixed('project:manage', 'project', '/projects/alpha/git', { body: { url: UNREACHABLE_GIT, branch: 'main' }, expect: 200 }),
  'DELETE /projects/{id}/git': { access: 'project:manage', scope: 'project', prepare: async (c) => ({ path: `/projects/alpha/git${await linkAlpha(c)}`, expect: 204 }) },
  'POST /projects/{id}/git/push': { access: 'flow:write', scope: 'project', prepare: async (c) => ({ path: `/projects/alpha/git/push${await unlinkAlpha(c)}`, body: {}, expect: 409 }) },
  'POST /projects/{id}/git/pull': { access: 'flow:write', scope: 'project', prepare: async (c) => ({ path: `/projects/alpha/git/pull${await unlinkAlpha(c)}`, body: {}, expect: 409 }) },
  'POST /projects/{id}/git/promote': { access: 'flow:promote', scope: 'project', prepare: async (c) => ({ path: `/projects/alpha/git/promote${await unlinkAlpha(c)}`, body: { from: 'dev' }, expect: 409 }) },

  // per-project environment variables (variables/service.ts); secret ones (credential:write too) in variables.test.ts
  'GET /projects/{id}/variables': fixed('flow:read', 'project', '/projects/alpha/variables', { expect: 200 }),
  'PUT /projects/{id}/variables/{name}': { access: 'flow:write', scope: 'project', prepare: (c) => ({ path: `/projects/alpha/variables/${c.unique('M_VAR').replace(/-/g, '_')}`, body: { value: 'x' }, expect: 200 }) },
  'DELETE /projects/{id}/variables/{name}': {
    access: 'flow:write',
    scope: 'project',
    prepare: async (c) => {
      const name = c.unique('M_VAR').replace(/-/g, '_');
      await must(c.server.api('PUT', `/api/v1/projects/alpha/variables/${name}`, { value: 'x' }), 200);
      return { path: `/projects/alpha/variables/${name}`, expect: 204 };
    },
  },

  // flow tests (flowtest/service.ts) and the sub-flow library (subflows/service.ts)
  'GET /flows/{id}/tests': { access: 'flow:read', scope: 'project', prepare: (c) => ({ path: `/flows/${c.flow}/tests`, expect: 200 }) },
  'PUT /flows/{id}/tests': { access: 'flow:write', scope: 'project', prepare: (c) => ({ path: `/flows/${c.flow}/tests`, body: MATRIX_SUITE, expect: 200 }) },
  'POST /flows/{id}/tests/run': { access: 'run:start', scope: 'project', prepare: (c) => ({ path: `/flows/${c.flow}/tests/run`, body: { suite: MATRIX_SUITE }, expect: 200 }) },
  'GET /flows/{id}/subflows': { access: 'flow:read', scope: 'project', prepare: (c) => ({ path: `/flows/${c.flow}/subflows`, expect: 200 }) },
  'GET /subflows': fixed('pack:read', 'any', '/subflows', { expect: 200 }),
  'POST /subflows': { access: 'flow:write', scope: 'project', prepare: (c) => ({ path: '/subflows?project=alpha', body: subflowDoc(c.unique('m-sub')), expect: 201 }) },
  'POST /subflows/import': { access: 'flow:write', scope: 'project', prepare: (c) => ({ path: '/subflows/import?project=alpha', body: { definitions: [{ ...subflowDoc(c.unique('m-sub')), version: 1 }] }, expect: 200 }) },
  'GET /subflows/{id}': { access: 'pack:read', scope: 'any', prepare: async (c) => ({ path: `/subflows/${await newSubflow(c)}`, exists: true, expect: 200 }) },
  'GET /subflows/{id}/versions/{version}': { access: 'pack:read', scope: 'any', prepare: async (c) => ({ path: `/subflows/${await newSubflow(c)}/versions/1`, exists: true, expect: 200 }) },

  // users
  'GET /users': fixed('user:manage', 'any', '/users', { expect: 200 }),
  'POST /users': { access: 'user:manage', scope: 'any', prepare: (c) => ({ path: '/users', body: { username: c.unique('m-created') }, expect: 201 }) },
  'GET /users/{id}': { access: 'user:manage', scope: 'any', prepare: (c) => ({ path: `/users/${c.users.member.id}`, exists: true, expect: 200 }) },
  'PATCH /users/{id}': { access: 'user:manage', scope: 'any', prepare: (c) => ({ path: `/users/${c.users.member.id}`, body: { name: 'Matrix Member' }, exists: true, expect: 200 }) },
  'DELETE /users/{id}': { access: 'user:manage', scope: 'any', prepare: async (c) => ({ path: `/users/${await c.newUser()}`, exists: true, expect: 204 }) },

  // tokens
  'GET /tokens': fixed('token:manage', 'any', '/tokens', { expect: 200 }),
  'POST /tokens': { access: 'token:manage', scope: 'project', prepare: (c) => ({ path: '/tokens', body: { name: c.unique('m-tok'), projectId: 'alpha', permissions: ['flow:read'] }, expect: 201 }) },
  'DELETE /tokens/{id}': { access: 'token:manage', scope: 'project', prepare: async (c) => ({ path: `/tokens/${await c.newToken()}`, expect: 204 }) },

  // audit
  'GET /audit': fixed('audit:read', 'any', '/audit?limit=5', { expect: 200 }),
  'GET /audit/export': fixed('audit:read', 'any', '/audit/export?format=csv&action=flow.', { expect: 200 }),

  // waiting runs (human in the loop)
  ...WAIT_FIXTURES,
  // re-run from a step (AI crews' tasks)
  ...STEP_FIXTURES,
  // evaluation scores (flowcrew eval)
  ...EVAL_FIXTURES,
};
