/**
 * node:http(s) agents whose every new connection goes through the outbound guard: the host is checked (names
 * resolved, private and metadata addresses refused unless allow-listed) and the socket opened to the checked address;
 * TLS still verifies the certificate against the name. For clients built on node:http (the AWS SDK).
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { OutboundRefusedError, type OutboundServices } from '@flowcrew/sdk';

type Callback = (error: Error | null, socket?: net.Socket) => void;

function guardedConnect(outbound: OutboundServices, secure: boolean, options: net.NetConnectOpts & tls.ConnectionOptions & { host?: string; port?: number }, callback: Callback): void {
  const host = options.host ?? 'localhost';
  const port = Number(options.port ?? (secure ? 443 : 80));
  outbound.check(host, port).then(
    (target) => {
      const address = target.addresses[0];
      if (!address) return callback(new OutboundRefusedError(`${host} resolved to no allowed address`));
      const connectOptions = { ...options, host: address.address, port, family: address.family };
      const socket = secure ? tls.connect({ ...connectOptions, servername: options.servername ?? (net.isIP(host) ? undefined : host) }) : net.connect(connectOptions as net.NetConnectOpts);
      callback(null, socket);
    },
    (error: unknown) => callback(error as Error),
  );
}

/** node:http calls `createConnection(options, callback)` and, when it returns nothing, waits for the callback. */
type CreateConnection = (options: net.NetConnectOpts, callback: Callback) => net.Socket | undefined;

export function guardedAgents(outbound: OutboundServices, maxSockets: number): { httpAgent: http.Agent; httpsAgent: https.Agent } {
  const options = { keepAlive: true, maxSockets };
  const httpAgent = new http.Agent(options);
  const httpsAgent = new https.Agent(options);
  (httpAgent as unknown as { createConnection: CreateConnection }).createConnection = (o, callback) => void guardedConnect(outbound, false, o as never, callback);
  (httpsAgent as unknown as { createConnection: CreateConnection }).createConnection = (o, callback) => void guardedConnect(outbound, true, o as never, callback);
  return { httpAgent, httpsAgent };
}
