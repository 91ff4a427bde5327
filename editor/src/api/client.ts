/**
 * The REST client: one function per /api/v1 route the editor uses. Errors become ApiError carrying the
 * problem+json body, so callers can show `errors[].pointer` on the offending nodes and fields.
 */
import type { CredentialInfo, DebugEvent, FlowDocument, FlowView, ImportResult, Issue, NodeTypeInfo, Problem, RunDetail, RunRecord, RunStatus, Stats } from './types';

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

async function request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers: body === undefined ? { accept: 'application/json', ...headers } : { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
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
    throw new ApiError(response.status, problem);
  }
  return parsed as T;
}

export const api = {
  nodeTypes: () => request<NodeTypeInfo[]>('GET', '/node-types'),
  credentials: () => request<CredentialInfo[]>('GET', '/credentials'),
  createCredential: (credential: { name: string; type: string; fields: Record<string, unknown> }) => request<CredentialInfo>('POST', '/credentials', credential),

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
  /** The flow's recent debug messages (the runtime keeps the newest 500 in memory) with seq > after, oldest first. */
  debugMessages: (id: string, after?: number) =>
    request<DebugEvent[]>('GET', `/flows/${encodeURIComponent(id)}/debug${after === undefined ? '' : `?after=${after}`}`),
  importFlows: (body: unknown, options: { replace?: boolean } = {}) => request<ImportResult>('POST', `/flows/import${options.replace ? '?replace=true' : ''}`, body),

  startRun: (flowId: string, input: Record<string, unknown>, nodeId?: string) =>
    request<{ runId: string; status: 'accepted' }>('POST', `/flows/${encodeURIComponent(flowId)}/runs`, nodeId ? { input, nodeId } : { input }),
  listRuns: (filter: { flowId?: string; status?: RunStatus; limit?: number; before?: string } = {}) => {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(filter)) if (value !== undefined && value !== '') query.set(key, String(value));
    const qs = query.toString();
    return request<RunRecord[]>('GET', `/runs${qs ? `?${qs}` : ''}`);
  },
  getRun: (id: string) => request<RunDetail>('GET', `/runs/${encodeURIComponent(id)}`),
  /** A new run with the past run's original input, entering where it entered (404 no run, 409 not deployed, 422 trigger gone). */
  rerun: (id: string) => request<{ runId: string; status: 'accepted' }>('POST', `/runs/${encodeURIComponent(id)}/rerun`),
  cancelRun: (id: string) => request<RunRecord>('POST', `/runs/${encodeURIComponent(id)}/cancel`),

  stats: (minutes = 60) => request<Stats>('GET', `/stats?minutes=${minutes}`),
};

export type Api = typeof api;
