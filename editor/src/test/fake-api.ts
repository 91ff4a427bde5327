/**
 * A stand-in for the runtime's REST API in component and store tests: routes answer with canned JSON, every
 * request is recorded. (The end-to-end tests in editor/e2e run against the real runtime.)
 */
import { vi } from 'vitest';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
}

export type Reply = { status?: number; body?: unknown };
export type Route = Reply | ((request: RecordedRequest) => Reply | Promise<Reply>);

/** Routes are keyed "METHOD /path" (below /api/v1, without the query string). Unknown routes answer 404. */
export function fakeApi(routes: Record<string, Route>): { calls: RecordedRequest[]; called(key: string): RecordedRequest[] } {
  const calls: RecordedRequest[] = [];
  vi.stubGlobal('fetch', async (input: string, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://editor.test');
    const path = url.pathname.replace(/^\/api\/v1/, '');
    const request: RecordedRequest = {
      method: (init.method ?? 'GET').toUpperCase(),
      path,
      query: url.searchParams,
      headers: Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v])),
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    calls.push(request);
    const route = routes[`${request.method} ${path}`];
    const reply: Reply = route === undefined ? { status: 404, body: { title: 'Not Found', status: 404, detail: `no route ${request.method} ${path}` } } : typeof route === 'function' ? await route(request) : route;
    const status = reply.status ?? 200;
    const problem = status >= 400;
    return new Response(reply.body === undefined ? '' : JSON.stringify(reply.body), {
      status,
      headers: { 'content-type': problem ? 'application/problem+json' : 'application/json' },
    });
  });
  return { calls, called: (key) => calls.filter((c) => `${c.method} ${c.path}` === key) };
}
