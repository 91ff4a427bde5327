/** Socket.IO clients for tests of live events: one connected socket per call, and a recorder of what it hears. */
import { io as connect, type Socket } from 'socket.io-client';

export type SocketAuth = { token: string } | { cookie: string };

/** Connects (no reconnection, so a refused socket fails the test) and resolves once the server accepted it. */
export async function connectedSocket(url: string, auth: SocketAuth, opened?: Socket[]): Promise<Socket> {
  const socket = connect(url, { transports: ['websocket'], reconnection: false, ...('token' in auth ? { auth } : { extraHeaders: { cookie: auth.cookie } }) });
  opened?.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.on('connect', resolve);
    socket.on('connect_error', reject);
  });
  return socket;
}

/** Every event the socket hears from now on, in order. */
export function recordEvents(socket: Socket): Array<{ event: string; payload: any }> {
  const seen: Array<{ event: string; payload: any }> = [];
  socket.onAny((event: string, payload: unknown) => seen.push({ event, payload }));
  return seen;
}
