/**
 * The REST client: one function per /api/v1 route the editor uses. Errors become ApiError carrying the
 * problem+json body, so callers can show `errors[].pointer` on the offending nodes and fields.
 */
import { takePrefetched } from '../lib/prefetch';
import type { CatalogEntry, PackDetails, PackInfo, PackOperationResult, PinRecord, PinnedOutput, PinnedRunAnswer } from './types';
import type { AuthStatus, CredentialInfo, CredentialTestResult, CredentialTypeInfo, FlowDocument, FlowView, ImportResult, Issue, NodeTypeInfo, Problem, RunDetail, RunRecord, RunStatus, Stats, UserView } from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.name = 'ApiError';
  }

  get issues(): Issue[] {
    return Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }
}

/** Prefix for every request; empty when the editor is served by the runtime itself. */
let baseUrl = '';
export function setBaseUrl(url: string): void {
  baseUrl = url.replace(/\/$/, '');
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Sign-in routes answer 401 for a wrong password: that is the form's business, not a lost session. */
const SIGN_IN_PATHS = new Set(['/auth/login', '/auth/setup', '/auth/password', '/auth/status']);

export async function request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const auth: Record<string, string> = {};
  // A bearer token (signed in through Keycloak) makes the cookie and its CSRF token irrelevant to the runtime.
  const bearer = await authHooks.bearer?.().catch(() => null);
  if (bearer) auth.authorization = `Bearer ${bearer}`;
  else if (UNSAFE.has(method) && authHooks.csrfToken) auth['x-csrf-token'] = authHooks.csrfToken;
  let response: Response;
  try {
    const early = method === 'GET' && !baseUrl && !bearer ? await takePrefetched(path) : null;
    response = early ?? await fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers: body === undefined ? { accept: 'application/json', ...auth, ...headers } : { 'content-type': 'application/json', accept: 'application/json', ...auth, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      // The session cookie: same-origin when the runtime serves the editor, included when it is elsewhere (dev).
      credentials: baseUrl ? 'include' : 'same-origin',
    });
  } catch (error) {
    // fetch rejects only when the server cannot be reached at all.
    throw new ApiError(0, { title: 'Runtime unreachable', status: 0, detail: (error as Error).message });
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (!response.ok) {
    const problem: Problem =
      parsed && typeof parsed === 'object' && 'title' in parsed
        ? (parsed as Problem)
        : { title: response.statusText || `HTTP ${response.status}`, status: response.status, detail: typeof parsed === 'string' ? parsed.slice(0, 500) : undefined };
    // /flows/validate answers 422 with { valid, issues } rather than a problem.
    if (parsed && typeof parsed === 'object' && Array.isArray((parsed as { issues?: unknown }).issues) && !problem.errors) {
      problem.errors = (parsed as { issues: Issue[] }).issues;
    }
    if (response.status === 401 && !SIGN_IN_PATHS.has(path)) authHooks.onUnauthorized?.();
    throw new ApiError(response.status, problem);
  }
  return parsed as T;
}

/**
 * How requests authenticate, set by the auth store: the session's CSRF token (sent on unsafe methods), a bearer
 * token source (Keycloak: refreshed before it expires), and what to do when the runtime answers 401 (sign in again).
 */
export const authHooks: {
  csrfToken: string | null;
  bearer: (() => Promise<string | null>) | null;
  onUnauthorized: (() => void) | null;
} = { csrfToken: null, bearer: null, onUnauthorized: null };

export const api = {
  authStatus: () => request<AuthStatus>('GET', '/auth/status'),
  login: (username: string, password: string) => request<UserView>('POST', '/auth/login', { username, password }),
  /** The first admin; only while the runtime has no user (409 afterwards). */
  setup: (user: { username: string; password: string; name?: string }) => request<UserView>('POST', '/auth/setup', user),
  logout: () => request<void>('POST', '/auth/logout'),
  changePassword: (currentPassword: string, newPassword: string) => request<void>('POST', '/auth/password', { currentPassword, newPassword }),

  nodeTypes: () => request<NodeTypeInfo[]>('GET', '/node-types'),
  /** A node's dynamic choices (x-optionsSource), fetched by the runtime with the node's credential. */
  nodeOptions: (type: string, source: string, body: { props: Record<string, unknown>; credentials?: string }) =>
    request<{ options: Array<{ value: string; label?: string; description?: string }> }>('POST', `/node-types/${encodeURIComponent(type)}/options/${encodeURIComponent(source)}`, body),
  credentials: () => request<CredentialInfo[]>('GET', '/credentials'),
  createCredential: (credential: { name: string; type: string; fields: Record<string, unknown> }) => request<CredentialInfo>('POST', '/credentials', credential),
  /** A field given a value replaces it, null removes it, a field left out keeps its stored value. */
  updateCredential: (id: string, patch: { name?: string; fields?: Record<string, unknown> }) => request<CredentialInfo>('PATCH', `/credentials/${encodeURIComponent(id)}`, patch),
  credentialTypes: () => request<CredentialTypeInfo[]>('GET', '/credential-types'),
  /** Test connection with fields not stored yet. */
  testCredential: (type: string, fields: Record<string, unknown>) => request<CredentialTestResult>('POST', '/credentials/test', { type, fields }),
  /** Test connection with a stored credential, the given fields replacing stored ones (secrets come from the vault). */
  testStoredCredential: (id: string, fields: Record<string, unknown>) => request<CredentialTestResult>('POST', `/credentials/${encodeURIComponent(id)}/test`, { fields }),

  listFlows: () => request<FlowView[]>('GET', '/flows'),
  getFlow: (id: string) => request<FlowView>('GET', `/flows/${encodeURIComponent(id)}`),
  createFlow: (flow: FlowDocument) => request<FlowView>('POST', '/flows', flow),
  /** Optimistic locking: the save fails with 409 if the stored version is no longer `expectedVersion`. */
  updateFlow: (flow: FlowDocument, expectedVersion: number) =>
    request<FlowView>('PUT', `/flows/${encodeURIComponent(flow.id)}`, flow, { 'if-match': `"${expectedVersion}"` }),
  deleteFlow: (id: string) => request<void>('DELETE', `/flows/${encodeURIComponent(id)}`),
  deployFlow: (id: string) => request<FlowView>('POST', `/flows/${encodeURIComponent(id)}/deploy`),
  undeployFlow: (id: string) => request<FlowView>('POST', `/flows/${encodeURIComponent(id)}/undeploy`),
  exportFlow: (id: string) => request<FlowDocument>('GET', `/flows/${encodeURIComponent(id)}/export`),
  importFlows: (body: unknown, options: { replace?: boolean } = {}) => request<ImportResult>('POST', `/flows/import${options.replace ? '?replace=true' : ''}`, body),

  startRun: (flowId: string, input: Record<string, unknown>, nodeId?: string) =>
    request<{ runId: string; status: 'accepted' }>('POST', `/flows/${encodeURIComponent(flowId)}/runs`, nodeId ? { input, nodeId } : { input }),
  listRuns: (filter: { flowId?: string; status?: RunStatus; limit?: number; before?: string; test?: boolean } = {}) => {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(filter)) if (value !== undefined && value !== '') query.set(key, String(value));
    const qs = query.toString();
    return request<RunRecord[]>('GET', `/runs${qs ? `?${qs}` : ''}`);
  },
  getRun: (id: string) => request<RunDetail>('GET', `/runs/${encodeURIComponent(id)}`),
  /** A new run with the past run's original input, entering where it entered (404 no run, 409 not deployed, 422 trigger gone). */
  rerun: (id: string) => request<{ runId: string; status: 'accepted' }>('POST', `/runs/${encodeURIComponent(id)}/rerun`),
  cancelRun: (id: string) => request<RunRecord>('POST', `/runs/${encodeURIComponent(id)}/cancel`),

  /** The projects the signed-in user is a member of (every project for instance admins), with their role. */
  listProjects: () => request<Array<import('./types').ProjectView & { role?: import('./types').ProjectRole }>>('GET', '/projects'),

  /** The palette manager (instance admins): installed packs, the npm registry's packs, install/upgrade/remove. */
  listPacks: () => request<PackInfo[]>('GET', '/node-packs'),
  searchPacks: (q: string) => request<CatalogEntry[]>('GET', `/node-packs/catalog?q=${encodeURIComponent(q)}`),
  packDetails: (name: string) => request<PackDetails>('GET', `/node-packs/catalog/details?name=${encodeURIComponent(name)}`),
  installPack: (name: string, version?: string) => request<PackOperationResult>('POST', '/node-packs/install', version ? { name, version } : { name }),
  removePack: (name: string) => request<PackOperationResult>('POST', '/node-packs/remove', { name }),
  setPackEnabled: (name: string, enabled: boolean) => request<Omit<PackOperationResult, 'operationId' | 'action'>>('POST', `/node-packs/${enabled ? 'enable' : 'disable'}`, { name }),

  /** Pinned node outputs (manual runs use them instead of calling the node). */
  listPins: (flowId: string) => request<PinRecord[]>('GET', `/flows/${encodeURIComponent(flowId)}/pins`),
  setPin: (flowId: string, nodeId: string, pin: PinnedOutput) => request<PinRecord>('PUT', `/flows/${encodeURIComponent(flowId)}/pins/${encodeURIComponent(nodeId)}`, pin),
  deletePin: (flowId: string, nodeId: string) => request<void>('DELETE', `/flows/${encodeURIComponent(flowId)}/pins/${encodeURIComponent(nodeId)}`),
  /**
   * A manual run with the pins, in an isolated deployment (of `flow`, the unsaved working copy, if given): answers with
   * the finished run. With `liveSocket` (this editor's Socket.IO id) its live events come to this editor while it runs.
   */
  runPinned: (flowId: string, input: Record<string, unknown>, nodeId?: string, flow?: FlowDocument, liveSocket?: string) =>
    request<PinnedRunAnswer>('POST', `/flows/${encodeURIComponent(flowId)}/pinned-runs`, { input, ...(nodeId ? { nodeId } : {}), ...(flow ? { flow } : {}), ...(liveSocket ? { liveSocket } : {}) }),

  stats: (minutes = 60) => request<Stats>('GET', `/stats?minutes=${minutes}`),

  // Flow versions (components/versions)
  flowVersions: (id: string) => request<import('../components/versions/types').VersionList>('GET', `/flows/${encodeURIComponent(id)}/versions`),
  flowDiff: (id: string, from: number, to: number) => request<import('../components/versions/types').VersionDiff>('GET', `/flows/${encodeURIComponent(id)}/diff?from=${from}&to=${to}`),
  restoreVersion: (id: string, version: number) => request<FlowView>('POST', `/flows/${encodeURIComponent(id)}/versions/${version}/restore`),
  gitLink: (projectId: string) => request<import('../components/versions/types').GitLink>('GET', `/projects/${encodeURIComponent(projectId)}/git`),
  gitSetLink: (projectId: string, link: { url: string; branch: string; environment?: string; credentialId: string | null; knownHosts?: string; credentialBindings: Record<string, string> }) =>
    request<import('../components/versions/types').GitLink>('PUT', `/projects/${encodeURIComponent(projectId)}/git`, link),
  gitPull: (projectId: string, deploy = false) => request<import('../components/versions/types').GitSyncResult>('POST', `/projects/${encodeURIComponent(projectId)}/git/pull`, { deploy }),
  gitPush: (projectId: string, message?: string) => request<import('../components/versions/types').GitSyncResult>('POST', `/projects/${encodeURIComponent(projectId)}/git/push`, message ? { message } : {}),
  gitPromote: (projectId: string, from: string) => request<import('../components/versions/types').GitSyncResult>('POST', `/projects/${encodeURIComponent(projectId)}/git/promote`, { from }),
  variables: (projectId: string) => request<import('../components/versions/types').ProjectVariable[]>('GET', `/projects/${encodeURIComponent(projectId)}/variables`),
  setVariable: (projectId: string, name: string, input: { value: string; secret?: boolean; description?: string | null }) =>
    request<import('../components/versions/types').ProjectVariable>('PUT', `/projects/${encodeURIComponent(projectId)}/variables/${encodeURIComponent(name)}`, input),
  deleteVariable: (projectId: string, name: string) => request<void>('DELETE', `/projects/${encodeURIComponent(projectId)}/variables/${encodeURIComponent(name)}`),
};

export type Api = typeof api;
