/**
 * The first screen's GET requests, sent the moment the bundle starts (main.ts imports this first), instead of after
 * the app has mounted, asked who is signed in and loaded the lists: on a cold open of a big flow that waterfall was
 * about a third of the time. The API client takes a prefetched answer once, and only a successful one that is still
 * fresh: without a session (or with a Keycloak bearer token, which a prefetch does not carry) the request is simply
 * made again the normal way.
 */
const FRESH_MS = 10_000;
const started = performance.now();
const pending = new Map<string, Promise<Response | null>>();

function get(path: string): void {
  pending.set(
    path,
    fetch(`/api/v1${path}`, { headers: { accept: 'application/json' }, credentials: 'same-origin' }).catch(() => null),
  );
}

/** What the editor opened at (#/flows/<id>) decides the flow fetched with the lists. */
export function prefetchFirstScreen(hash: string): void {
  for (const path of ['/auth/status', '/node-types', '/credentials', '/credential-types', '/flows']) get(path);
  const flow = /^#\/flows\/([^/?#]+)/.exec(hash);
  if (flow) get(`/flows/${flow[1]}`);
}

/** A prefetched successful answer for this GET path, once; null when there is none (or it failed, or is old). */
export async function takePrefetched(path: string): Promise<Response | null> {
  const answer = pending.get(path);
  if (!answer) return null;
  pending.delete(path);
  if (performance.now() - started > FRESH_MS) return null;
  const response = await answer;
  return response?.ok ? response : null;
}
