/**
 * A tiny hash router (three views do not need vue-router): #/flows/<id>, #/runs/<id>, #/dashboard.
 * Hash routes keep the runtime's SPA fallback trivial and make every view linkable.
 */
import { readonly, ref } from 'vue';

export type Route = { view: 'editor'; flowId?: string; runId?: string } | { view: 'dashboard' };

function parse(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 'dashboard') return { view: 'dashboard' };
  if (parts[0] === 'flows' && parts[1]) return { view: 'editor', flowId: parts[1] };
  if (parts[0] === 'runs' && parts[1]) return { view: 'editor', runId: parts[1] };
  return { view: 'editor' };
}

export function routeHash(route: Route): string {
  if (route.view === 'dashboard') return '#/dashboard';
  if (route.runId) return `#/runs/${encodeURIComponent(route.runId)}`;
  if (route.flowId) return `#/flows/${encodeURIComponent(route.flowId)}`;
  return '#/';
}

const current = ref<Route>(parse(typeof location === 'undefined' ? '' : location.hash));
if (typeof window !== 'undefined') window.addEventListener('hashchange', () => (current.value = parse(location.hash)));

export const route = readonly(current);

export function navigate(next: Route, replace = false): void {
  const hash = routeHash(next);
  if (location.hash === hash) return;
  if (replace) history.replaceState(null, '', hash);
  else location.hash = hash;
  current.value = parse(hash);
}
