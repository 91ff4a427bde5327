/**
 * Broker clients open their own sockets: each connection first asks the outbound guard about the host, then connects
 * to the address the guard returned (no second DNS lookup an attacker could answer differently). TLS still checks
 * the certificate against the host name the user gave (servername).
 */
import { OutboundRefusedError, type OutboundServices } from '@flowcrew/sdk';

export interface GuardedAddress {
  /** The checked IP address to connect to. */
  address: string;
  /** The name the user gave, for TLS (SNI and certificate check) and messages. */
  servername: string;
}

export async function guardedAddress(outbound: OutboundServices, host: string, port: number): Promise<GuardedAddress> {
  const target = await outbound.check(host, port);
  const first = target.addresses[0];
  if (!first) throw new OutboundRefusedError(`${host} resolved to no allowed address`);
  return { address: first.address, servername: host };
}

/** TLS options of the credentials: 'verify' (certificate checked, default with TLS), 'no-verify', or off. */
export type TlsMode = 'off' | 'verify' | 'no-verify';

export function tlsOptions(mode: TlsMode | undefined, servername: string, ca?: string): Record<string, unknown> | undefined {
  if (!mode || mode === 'off') return undefined;
  return { servername, rejectUnauthorized: mode === 'verify', ...(ca ? { ca } : {}) };
}

/** Common TLS fields for the credential schemas. */
export const tlsSchema = {
  tls: {
    title: 'TLS',
    enum: ['off', 'verify', 'no-verify'],
    default: 'off',
    description: 'off: plain TCP (trusted networks only). verify: TLS, the certificate checked against the host name. no-verify: TLS without checking the certificate.',
  },
  ca: { title: 'CA certificate (PEM)', type: 'string', description: 'The CA that signed the server certificate, if not a public one.' },
} as const;
