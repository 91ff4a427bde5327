/**
 * The outbound guard: the one way nodes, model providers, MCP clients and connectors reach the network.
 *
 * Every connection is decided on the address it will actually use: the host is resolved here, each address
 * checked (refused ranges, then the administrator's allow-list), and the socket opened to that checked address,
 * so a DNS answer that changes between check and connect (rebinding) changes nothing. Connections are opened by
 * an undici Agent whose connector does this, so each redirect hop and each new pooled connection is checked too.
 */
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import type { Agent } from 'undici';
import { lazyRequire, OutboundRefusedError, type OutboundServices, type OutboundTarget } from '@flowcrew/sdk';
import { isMetadata, parseAddress, refusalReason } from './addresses.ts';
import { AllowList } from './allow-list.ts';

/** undici (~5 MB of heap, CommonJS) is loaded on the first fetch or dispatcher use, not at start: most runtimes never fetch. */
const undici = lazyRequire<typeof import('undici')>('undici', import.meta.url);

export type LookupAll = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export interface OutboundGuardOptions {
  /** Allow-list entries (see allow-list.ts), or a parsed list. */
  allow?: AllowList | readonly string[];
  /** Connect timeout per address, ms (default 10 s). */
  connectTimeoutMs?: number;
  /** DNS resolution; tests substitute one to play a rebinding or internal name. Default: the system resolver (dns.lookup). */
  lookup?: LookupAll;
}

const systemLookup = promisify(dnsLookup);
const defaultLookup: LookupAll = (hostname) => systemLookup(hostname, { all: true, verbatim: true });

/** Errors worth trying the next resolved address for. */
const NEXT_ADDRESS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);

const HINT = 'an administrator can allow it with FLOWCREW_OUTBOUND_ALLOW';

/**
 * A host as the guard compares it: lower case, no brackets, no trailing dot, and IPv4 in any spelling WHATWG URL
 * parsing accepts (2130706433, 0x7f.1, 127.1) turned into its dotted form. Throws for something that is not a host.
 */
export function normaliseHost(raw: string): string {
  let host = raw.trim().toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  host = host.replace(/\.$/, '');
  if (!host) throw new OutboundRefusedError('outbound request refused: no host');
  if (isIP(host) === 6 || host.includes(':')) {
    if (!isIP(host.replace(/%.*$/, ''))) throw new OutboundRefusedError(`outbound request refused: "${raw}" is not a valid host`);
    return host;
  }
  let parsed: string;
  try {
    parsed = new URL(`http://${host}/`).hostname;
  } catch {
    throw new OutboundRefusedError(`outbound request refused: "${raw}" is not a valid host`);
  }
  return parsed.replace(/\.$/, '');
}

export class OutboundGuard implements OutboundServices {
  readonly allow: AllowList;
  private readonly lookup: LookupAll;
  private readonly connectTimeout: number;
  private agent: Agent | undefined;

  constructor(options: OutboundGuardOptions = {}) {
    this.allow = options.allow instanceof AllowList ? options.allow : new AllowList(options.allow ?? []);
    this.lookup = options.lookup ?? defaultLookup;
    this.connectTimeout = options.connectTimeoutMs ?? 10_000;
  }

  /** The undici Agent whose connector checks every connection it opens (made on first use). */
  get dispatcher(): Agent {
    return (this.agent ??= this.createAgent());
  }

  private createAgent(): Agent {
    const { Agent, buildConnector } = undici();
    const base = buildConnector({ timeout: this.connectTimeout });
    return new Agent({
      connect: (opts, callback) => {
        const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
        this.resolve(opts.hostname, port).then(
          (target) => {
            // The socket goes to the checked address; TLS still verifies (and sends SNI for) the name that was asked.
            const attempt = (i: number) =>
              base({ ...opts, hostname: target.addresses[i]!.address }, (error, socket) => {
                const code = (error as { code?: string } | null)?.code;
                if (error && code && NEXT_ADDRESS.has(code) && i + 1 < target.addresses.length) return attempt(i + 1);
                if (error) callback(error, null);
                else callback(null, socket!);
              });
            attempt(0);
          },
          (error: Error) => callback(error, null),
        );
      },
    });
  }

  /** Resolve `host` and keep the addresses this runtime may connect to; refuses (OutboundRefusedError) when none is left. */
  async resolve(rawHost: string, port: number): Promise<OutboundTarget> {
    const host = normaliseHost(rawHost);
    let resolved: Array<{ address: string; family: number }>;
    if (isIP(host.replace(/%.*$/, ''))) resolved = [{ address: host, family: isIP(host.replace(/%.*$/, '')) }];
    else {
      try {
        resolved = await this.lookup(host);
      } catch (error) {
        const code = (error as { code?: string }).code;
        throw Object.assign(new Error(`cannot resolve ${host}: ${code ?? (error as Error).message}`), { code, cause: error });
      }
    }
    const addresses: OutboundTarget['addresses'] = [];
    const refused: string[] = [];
    for (const { address, family } of resolved) {
      const parsed = parseAddress(address);
      if (!parsed) {
        refused.push(`${address} (not an IP address)`);
        continue;
      }
      const reason = refusalReason(parsed);
      if (reason && !this.allow.allows(host, port, parsed, isMetadata(parsed))) {
        refused.push(address === host ? `a ${reason} address` : `${address}, a ${reason} address`);
        continue;
      }
      addresses.push({ address, family: family === 6 ? 6 : 4 });
    }
    if (addresses.length === 0) {
      const what = refused.length > 0 ? refused.join('; ') : 'no address';
      throw Object.assign(new OutboundRefusedError(`outbound request to ${host.includes(':') ? `[${host}]` : host}:${port} refused: ${what}; ${HINT}`), { host });
    }
    return { host, port, addresses };
  }

  check(target: string | URL, port?: number): Promise<OutboundTarget> {
    let host: string;
    let defaultPort: number | undefined;
    const hostPort = typeof target === 'string' ? /^(?:\[([^\]]+)\]|([^:/]+)):(\d+)$/.exec(target.trim()) : null;
    if (target instanceof URL || /^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
      let url: URL;
      try {
        url = target instanceof URL ? target : new URL(target);
      } catch {
        return Promise.reject(new OutboundRefusedError(`outbound check refused: "${String(target)}" is not a valid URL`));
      }
      host = url.hostname;
      defaultPort = url.port ? Number(url.port) : ({ 'http:': 80, 'https:': 443 } as Record<string, number>)[url.protocol];
    } else if (hostPort) {
      host = hostPort[1] ?? hostPort[2]!;
      defaultPort = Number(hostPort[3]);
    } else host = target;
    const chosen = port ?? defaultPort;
    if (chosen === undefined || !Number.isInteger(chosen) || chosen < 1 || chosen > 65535) {
      return Promise.reject(new OutboundRefusedError(`outbound check of "${String(target)}" needs a port (1-65535)`));
    }
    return this.resolve(host, chosen);
  }

  async fetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    let url: URL;
    try {
      url = input instanceof URL ? input : new URL(input);
    } catch {
      throw new OutboundRefusedError(`outbound request refused: "${String(input)}" is not an absolute URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundRefusedError(`outbound request refused: only http: and https: URLs can be fetched (got ${url.protocol})`);
    // No separate check here: the connector checks each connection as it opens it (a reused keep-alive connection
    // was checked when it opened, and stays pinned to that address), so a request costs no extra DNS lookup.
    try {
      const undiciFetch = undici().fetch;
      return (await undiciFetch(url, { ...(init as object), dispatcher: this.dispatcher } as Parameters<typeof undiciFetch>[1])) as unknown as Response;
    } catch (error) {
      // A redirect to a refused address fails inside fetch: surface the refusal itself, not "fetch failed".
      const cause = (error as { cause?: unknown }).cause;
      if (cause instanceof OutboundRefusedError) {
        const redirected = (cause as { host?: string }).host !== normaliseHost(url.hostname);
        throw new OutboundRefusedError(redirected ? `${cause.message} (reached by a redirect from ${url.origin})` : cause.message);
      }
      throw error;
    }
  }

  close(): Promise<void> {
    return this.agent ? this.agent.close() : Promise.resolve();
  }
}

export function createOutboundGuard(options: OutboundGuardOptions = {}): OutboundGuard {
  return new OutboundGuard(options);
}
