/**
 * The administrator's outbound allow-list (FLOWCREW_OUTBOUND_ALLOW, comma-separated). An entry lets flows reach
 * addresses the guard refuses by default:
 *   10.1.2.3            one address (any port)        127.0.0.1:9000     one address and port
 *   10.0.0.0/8          a network                     [::1]:8080, fd00::/8   IPv6, bracketed when a port follows
 *   db.internal         a host name (any address it resolves to)          *.internal.example   its subdomains
 *   db.internal:5432    a host name and port          *                  everything except cloud metadata
 * Cloud metadata addresses are reachable only through an entry naming the exact address (or exact host name):
 * never through a network, a wildcard or `*`.
 */
import ipaddr from 'ipaddr.js';
import { inNetwork, parseAddress, unmapped } from './addresses.ts';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

export type AllowEntry =
  | { kind: 'any'; text: string }
  | { kind: 'network'; text: string; network: Address; bits: number; exact: boolean; port?: number }
  | { kind: 'name'; text: string; name: string; wildcard: boolean; port?: number };

export class AllowListError extends Error {}

function parsePort(text: string, entry: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new AllowListError(`outbound allow-list entry "${entry}": port must be 1-65535`);
  return port;
}

const NAME = /^(\*\.)?([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

export function parseAllowEntry(raw: string): AllowEntry {
  const text = raw.trim();
  if (text === '*') return { kind: 'any', text };
  let host = text.toLowerCase();
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (bracketed) {
    host = bracketed[1]!;
    if (bracketed[2] !== undefined) port = parsePort(bracketed[2], text);
  } else if (!host.includes('/') && (host.match(/:/g) ?? []).length === 1) {
    const at = host.lastIndexOf(':');
    port = parsePort(host.slice(at + 1), text);
    host = host.slice(0, at);
  } else {
    const cidrPort = /^(.+\/\d+):(\d+)$/.exec(host);
    if (cidrPort && !cidrPort[1]!.includes(':')) {
      host = cidrPort[1]!;
      port = parsePort(cidrPort[2]!, text);
    }
  }
  if (host.includes('/')) {
    try {
      const [network, bits] = ipaddr.parseCIDR(host);
      return { kind: 'network', text, network, bits, exact: bits === (network.kind() === 'ipv4' ? 32 : 128), port };
    } catch {
      throw new AllowListError(`outbound allow-list entry "${text}" is not a valid network (e.g. 10.0.0.0/8 or fd00::/8)`);
    }
  }
  const address = parseAddress(host);
  if (address) return { kind: 'network', text, network: address, bits: address.kind() === 'ipv4' ? 32 : 128, exact: true, port };
  host = host.replace(/\.$/, '');
  if (!NAME.test(host)) throw new AllowListError(`outbound allow-list entry "${text}" is neither an address, a network, a host name nor *.domain`);
  const wildcard = host.startsWith('*.');
  return { kind: 'name', text, name: wildcard ? host.slice(1) : host, wildcard, port };
}

export class AllowList {
  readonly entries: readonly AllowEntry[];

  constructor(entries: ReadonlyArray<string | AllowEntry> = []) {
    this.entries = entries.map((e) => (typeof e === 'string' ? parseAllowEntry(e) : e));
  }

  /** Comma- or whitespace-separated entries (the environment variable's form). */
  static parse(text: string | undefined): AllowList {
    return new AllowList(
      (text ?? '')
        .split(/[\s,]+/)
        .map((s) => s.trim())
        .filter(Boolean),
    );
  }

  get empty(): boolean {
    return this.entries.length === 0;
  }

  /**
   * Whether a refused `address` may be reached when connecting to `host` (as the flow named it) on `port`.
   * `metadata`: only an entry naming this exact address counts.
   */
  allows(host: string, port: number, address: Address, metadata: boolean): boolean {
    const plain = unmapped(address);
    return this.entries.some((entry) => {
      if (entry.kind === 'any') return !metadata;
      if (entry.port !== undefined && entry.port !== port) return false;
      if (entry.kind === 'name') {
        if (metadata && entry.wildcard) return false;
        return entry.wildcard ? host.endsWith(entry.name) && host.length > entry.name.length : host === entry.name;
      }
      if (metadata && !entry.exact) return false;
      for (const candidate of plain === address ? [address] : [address, plain]) {
        if (inNetwork(candidate, entry.network, entry.bits)) return true;
      }
      return false;
    });
  }
}
