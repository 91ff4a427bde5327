/**
 * Which IP addresses a flow may not reach without an administrator's say-so. The decision is made on the numeric
 * address a name resolved to (or the literal), so every spelling of a host (2130706433, 0x7f.1, 127.1,
 * [::ffff:127.0.0.1], a DNS name pointing inside) ends up here as the same address.
 */
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** ipaddr.js range names, as the reason a refusal gives. Everything but global unicast is refused. */
const RANGE_REASONS: Record<string, string> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade NAT (100.64.0.0/10)',
  private: 'private',
  reserved: 'reserved',
  uniqueLocal: 'unique-local (private IPv6)',
  ipv4Mapped: 'IPv4-mapped IPv6',
  rfc6145: 'IPv4-translated IPv6',
  rfc6052: 'NAT64 (IPv4-embedded IPv6)',
  '6to4': '6to4 (IPv4-embedded IPv6)',
  teredo: 'Teredo (IPv4-embedded IPv6)',
};

/** Not global unicast, though ipaddr.js 1.x files them under unicast. */
const EXTRA_REFUSED: Array<[string, string]> = [
  ['198.18.0.0/15', 'benchmarking (198.18.0.0/15)'],
  ['fec0::/10', 'site-local (deprecated private IPv6)'],
  ['100::/64', 'discard-only IPv6'],
];
const extraRanges = EXTRA_REFUSED.map(([cidr, reason]) => ({ range: ipaddr.parseCIDR(cidr), reason }));

/**
 * Cloud instance metadata services: the credentials of the machine. Refused even when a broader allow-list entry
 * (a CIDR, `*`) covers them; only an entry naming the exact address lets a flow reach one.
 */
export const METADATA_ADDRESSES = new Set([
  '169.254.169.254', // AWS, GCP, Azure, OpenStack, DigitalOcean...
  '169.254.170.2', // AWS ECS task metadata
  '169.254.169.123', // AWS time sync
  '100.100.100.200', // Alibaba Cloud
  '192.0.0.192', // Oracle Cloud (legacy)
  'fd00:ec2::254', // AWS over IPv6
  'fd00:ec2::23', // AWS DNS over IPv6
]);

/** Parse an IP literal (no brackets, no zone); null when `text` is not one. */
export function parseAddress(text: string): Address | null {
  const bare = text.replace(/%.*$/, '');
  if (!ipaddr.isValid(bare)) return null;
  try {
    return ipaddr.parse(bare);
  } catch {
    return null;
  }
}

/** The canonical text of an address: IPv4 dotted quad, IPv6 compressed, IPv4-mapped IPv6 unwrapped to IPv4 for matching. */
export function canonical(address: Address): string {
  return address.toString();
}

/** The IPv4 address inside an IPv4-mapped IPv6 address, for allow-list matching ("127.0.0.1" allows ::ffff:127.0.0.1). */
export function unmapped(address: Address): Address {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() ? (address as ipaddr.IPv6).toIPv4Address() : address;
}

/** Why this address is refused by default (e.g. 'loopback'), or null for a global unicast address. */
export function refusalReason(address: Address): string | null {
  if (METADATA_ADDRESSES.has(canonical(address))) return 'cloud metadata';
  const range = address.range();
  if (range !== 'unicast') return RANGE_REASONS[range] ?? range;
  for (const { range: [network, bits], reason } of extraRanges) if (inNetwork(address, network, bits)) return reason;
  return null;
}

/** Whether `address` lies in `network`/`bits` (false across IPv4 and IPv6). */
export function inNetwork(address: Address, network: Address, bits: number): boolean {
  if (address.kind() !== network.kind()) return false;
  return address.kind() === 'ipv4' ? (address as ipaddr.IPv4).match(network as ipaddr.IPv4, bits) : (address as ipaddr.IPv6).match(network as ipaddr.IPv6, bits);
}

export function isMetadata(address: Address): boolean {
  return METADATA_ADDRESSES.has(canonical(unmapped(address)));
}
