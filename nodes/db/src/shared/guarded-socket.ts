/**
 * Sockets for drivers that take a socket (or a socket factory) of ours: the host is resolved and checked by the
 * outbound guard first, and the socket connects to the address the guard returned, never to the name again (no
 * DNS answer between check and connect can send it elsewhere). TLS, when the driver upgrades, still checks the name.
 */
import net from 'node:net';
import { OutboundRefusedError, type OutboundServices } from '@flowcrew/sdk';

/** A socket that connects to `host:port` once the guard allowed it; a refusal destroys it with the guard's error. */
export function guardedSocket(outbound: OutboundServices, host: string, port: number, timeoutMs = 10_000): net.Socket {
  const socket = new net.Socket();
  // A connect that never answers (a black-holed address) fails instead of hanging the node.
  const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
  timer.unref();
  socket.once('connect', () => clearTimeout(timer));
  socket.once('close', () => clearTimeout(timer));
  outbound.check(host, port).then(
    (target) => {
      const address = target.addresses[0];
      if (socket.destroyed) return;
      if (!address) socket.destroy(new OutboundRefusedError(`${host} resolved to no allowed address`));
      else socket.connect(port, address.address);
    },
    (error: unknown) => socket.destroy(error as Error),
  );
  return socket;
}

/** Resolve and check `host` with the guard, for clients that only take a host: the first allowed address. */
export async function checkedAddress(outbound: OutboundServices, host: string, port: number): Promise<string> {
  const target = await outbound.check(host, port);
  const address = target.addresses[0];
  if (!address) throw new OutboundRefusedError(`${host} resolved to no allowed address`);
  return address.address;
}
