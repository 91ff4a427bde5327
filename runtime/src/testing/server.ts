/**
 * Test helpers: a real runtime server on an ephemeral port with a throwaway data directory. FLOWCREW_ADMIN_TOKEN is
 * set to a random value and `api()` sends it, so tests act as an instance admin unless they say otherwise:
 * `apiAs(credentials, ...)` calls as a signed-in user or API token, `apiAs(null, ...)` anonymously.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type RuntimeConfig } from '../config.ts';
import type { InstanceRole, ProjectRole } from '../identity/actor.ts';
import { startServer, type RunningServer } from '../server.ts';
import type { Logger } from '@flowcrew/sdk';

/** How a test request authenticates: a bearer token, or a session cookie with its CSRF token. */
export type Credentials = { token: string } | { cookie: string; csrfToken: string };

export interface ApiAnswer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface TestServer extends RunningServer {
  dataDir: string;
  /** The FLOWCREW_ADMIN_TOKEN of this server (instance admin). */
  adminToken: string;
  /** Calls as the instance admin (the admin token); an `authorization` header given here wins. */
  api<T = any>(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<ApiAnswer<T>>;
  /** Calls as someone else; null = anonymous. */
  apiAs<T = any>(who: Credentials | null, method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<ApiAnswer<T>>;
  /** Signs in with a password: the session cookie and CSRF token. */
  signIn(username: string, password: string): Promise<Credentials & { cookie: string; csrfToken: string }>;
  /** Creates a user (as the admin) with these project roles, signed in. */
  userWith(username: string, roles?: { instanceRole?: InstanceRole; projects?: Record<string, ProjectRole> }): Promise<{ id: string; credentials: Credentials & { cookie: string; csrfToken: string } }>;
  /** Poll a run until it reaches a final state. */
  waitRun(runId: string, timeoutMs?: number): Promise<any>;
  stop(): Promise<void>;
}

export const TEST_PASSWORD = 'correct horse battery staple 42';

function headersFor(who: Credentials | null): Record<string, string> {
  if (!who) return {};
  if ('token' in who) return { authorization: `Bearer ${who.token}` };
  return { cookie: who.cookie, 'x-csrf-token': who.csrfToken };
}

export async function startTestServer(
  overrides: Partial<RuntimeConfig> = {},
  options: { loadExamples?: boolean; env?: Record<string, string>; liveRecheckMs?: number; log?: Logger } = {},
): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'flowcrew-test-')));
  const adminToken = `test-admin-${randomBytes(24).toString('base64url')}`;
  const env = {
    ...process.env,
    DATABASE_URL: '',
    // Tests sign in many users from one address: the sign-in limiter's own tests set it back with options.env.
    FLOWCREW_RATE_LIMIT_LOGIN: '10000',
    ...options.env,
    FLOWCREW_ADMIN_TOKEN: adminToken,
  };
  const config = loadConfig(env, { port: 0, dataDir, logLevel: 'error', ...overrides });
  const server = await startServer(config, { loadExamples: options.loadExamples ?? false, liveRecheckMs: options.liveRecheckMs, log: options.log });

  const call: TestServer['apiAs'] = async (who, method, url, body, headers = {}) => {
    const res = await fetch(server.url + url, {
      method,
      headers: { ...headersFor(who), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed as any, headers: res.headers };
  };
  const admin: Credentials = { token: adminToken };
  const api: TestServer['api'] = (method, url, body, headers = {}) => call(admin, method, url, body, headers);

  const signIn: TestServer['signIn'] = async (username, password) => {
    const res = await call(null, 'POST', '/api/v1/auth/login', { username, password });
    if (res.status !== 200) throw new Error(`sign-in of ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    return { cookie, csrfToken: res.headers.get('x-csrf-token')! };
  };

  return {
    ...server,
    dataDir,
    adminToken,
    api,
    apiAs: call,
    signIn,
    async userWith(username, roles = {}) {
      const created = await api('POST', '/api/v1/users', { username, password: TEST_PASSWORD, instanceRole: roles.instanceRole ?? 'member' });
      if (created.status !== 201) throw new Error(`creating user ${username} failed: ${created.status} ${JSON.stringify(created.body)}`);
      for (const [project, role] of Object.entries(roles.projects ?? {})) {
        const member = await api('PUT', `/api/v1/projects/${project}/members/${created.body.id}`, { role });
        if (member.status !== 200) throw new Error(`making ${username} ${role} of ${project} failed: ${member.status} ${JSON.stringify(member.body)}`);
      }
      return { id: created.body.id as string, credentials: await signIn(username, TEST_PASSWORD) };
    },
    async waitRun(runId, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { body } = await api('GET', `/api/v1/runs/${runId}`);
        if (body && ['succeeded', 'failed', 'cancelled'].includes(body.status)) return body;
        if (Date.now() > deadline) throw new Error(`run ${runId} still ${body?.status} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      await server.close();
      if (!overrides.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
