/** The /webhook/* router: trigger nodes register routes through RuntimeServices.registerWebhook. */
import type { WebhookRoute } from '@flowcrew/sdk';

interface CompiledRoute {
  route: WebhookRoute;
  method: string;
  segments: string[];
}

export class WebhookRouter {
  private routes: CompiledRoute[] = [];
  /**
   * Routes without parameters by their path as a request spells it (`/a/b`): such a request is answered without
   * splitting its path or trying every route. The same answer as the walk below: a route whose every segment is
   * literal scores highest, and only one per method (or ALL) can exist at a path.
   */
  private literal = new Map<string, CompiledRoute[]>();

  register(route: WebhookRoute): () => void {
    const method = route.method.toUpperCase();
    const segments = splitPath(route.path);
    const clash = this.routes.find((r) => (r.method === method || r.method === 'ALL' || method === 'ALL') && r.segments.join('/') === segments.join('/'));
    if (clash) throw new Error(`webhook ${method} /webhook/${segments.join('/')} is already registered by another node`);
    const compiled = { route, method, segments };
    this.routes.push(compiled);
    this.indexLiteral();
    return () => {
      this.routes = this.routes.filter((r) => r !== compiled);
      this.indexLiteral();
    };
  }

  private indexLiteral(): void {
    this.literal = new Map();
    for (const r of this.routes) {
      if (r.segments.some((segment) => segment.startsWith(':'))) continue;
      const key = `/${r.segments.join('/')}`;
      const list = this.literal.get(key);
      if (list) list.push(r);
      else this.literal.set(key, [r]);
    }
  }

  /** Find the route for a request; literal segments win over parameters. */
  match(method: string, path: string): { route: WebhookRoute; params: Record<string, string> } | { methodNotAllowed: true } | null {
    const exact = this.literal.get(path);
    if (exact) {
      const upper = method.toUpperCase();
      for (const candidate of exact) if (candidate.method === 'ALL' || candidate.method === upper) return { route: candidate.route, params: {} };
    }
    const parts = splitPath(path);
    let pathMatched = false;
    let best: { route: WebhookRoute; params: Record<string, string>; score: number } | null = null;
    for (const candidate of this.routes) {
      if (candidate.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let score = 0;
      const ok = candidate.segments.every((segment, i) => {
        if (segment.startsWith(':')) {
          params[segment.slice(1)] = decodeURIComponent(parts[i]!);
          return true;
        }
        score++;
        return segment === parts[i];
      });
      if (!ok) continue;
      pathMatched = true;
      if (candidate.method !== 'ALL' && candidate.method !== method.toUpperCase()) continue;
      if (!best || score > best.score) best = { route: candidate.route, params, score };
    }
    if (best) return { route: best.route, params: best.params };
    return pathMatched ? { methodNotAllowed: true } : null;
  }

  list(): Array<{ method: string; path: string }> {
    return this.routes.map((r) => ({ method: r.method, path: `/webhook/${r.segments.join('/')}` }));
  }
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}
