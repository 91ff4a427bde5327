/**
 * An http(s).Agent whose every connection goes through the outbound guard: the host is resolved and checked by
 * `outbound.check`, and the socket opened to the checked address (TLS still verifies the certificate against the
 * host name). For client libraries that take an agent rather than a fetch (e.g. @hubspot/api-client).
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { OutboundServices } from '@flowcrew/sdk';

type Callback = (error: Error | null, socket?: net.Socket) => void;

function guardedConnection(outbound: OutboundServices, secure: boolean) {
  return (options: net.NetConnectOpts & tls.ConnectionOptions & { host?: string; port?: number }, callback: Callback): undefined => {
    const host = options.host ?? 'localhost';
    const port = Number(options.port ?? (secure ? 443 : 80));
    outbound.check(host, port).then(
      (target) => {
        const address = target.addresses[0]!.address;
        const socket = secure ? tls.connect({ ...options, host: address, port, servername: net.isIP(host) ? undefined : host }) : net.connect({ ...(options as net.NetConnectOpts), host: address, port } as net.NetConnectOpts);
        callback(null, socket);
      },
      (error: Error) => callback(error),
    );
    return undefined;
  };
}

export function guardedAgent(outbound: OutboundServices, url: string): http.Agent {
  const secure = new URL(url).protocol === 'https:';
  const agent = secure ? new https.Agent({ keepAlive: true, maxSockets: 8 }) : new http.Agent({ keepAlive: true, maxSockets: 8 });
  (agent as unknown as { createConnection: unknown }).createConnection = guardedConnection(outbound, secure);
  return agent;
}
