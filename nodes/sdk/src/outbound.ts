/** The outbound-request guard as nodes see it: every connection a node opens goes through it. */

/**
 * Outbound network access, checked after DNS resolution: the connection goes to the address that was checked
 * (no DNS rebinding between check and connect), and every redirect and every new connection is checked again.
 */
export interface OutboundServices {
  /** `fetch` through the guard (http: and https: only). A refused destination rejects with OutboundRefusedError. */
  fetch(url: string | URL, init?: RequestInit): Promise<Response>;
  /**
   * For clients that open their own sockets (database drivers, brokers): resolve and check `host` (a name, an IP
   * literal, `[v6]`, or a URL), and connect to one of the returned addresses, not to the name again.
   */
  check(host: string | URL, port?: number): Promise<OutboundTarget>;
  /** An undici Dispatcher that guards every connection it opens, for fetch-based clients that take one. */
  readonly dispatcher: unknown;
}

export interface OutboundTarget {
  /** The host as checked (lower case, brackets and trailing dot removed, numeric forms normalised). */
  host: string;
  port: number;
  /** Allowed addresses, in resolution order: connect to these. */
  addresses: Array<{ address: string; family: 4 | 6 }>;
}

/** The outbound guard refused a destination. Not retryable: the same request would be refused again. */
export class OutboundRefusedError extends Error {
  readonly retryable = false;
  readonly code = 'EOUTBOUNDREFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'OutboundRefusedError';
  }
}

/**
 * Whether `host` (a URL's hostname) is one a credential may be sent to: `patterns` are exact host names or IP
 * literals (`api.example.com`, `10.1.2.3`, `[::1]`), `*.example.com` for any subdomain, or `host:port` to fix the
 * port too. Case-insensitive. For credential types that bind their secret to hosts (e.g. http-auth `allowedHosts`).
 */
export function hostAllowedBy(patterns: readonly string[], url: URL): boolean {
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '');
  return patterns.some((raw) => {
    let pattern = raw.trim().toLowerCase();
    let wantPort: string | undefined;
    const portMatch = /^(.*[^:]):(\d+)$/.exec(pattern);
    if (portMatch && (pattern.startsWith('[') || !portMatch[1]!.includes(':'))) [, pattern, wantPort] = portMatch as unknown as [string, string, string];
    if (wantPort !== undefined && wantPort !== port) return false;
    pattern = pattern.replace(/\.$/, '');
    if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
    const bare = (h: string) => h.replace(/^\[(.*)\]$/, '$1');
    return bare(pattern) === bare(host);
  });
}
