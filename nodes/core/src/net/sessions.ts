/**
 * Open TCP connections by session id, so a "tcp out" in reply mode answers on the connection a "tcp in" message
 * came from (Node-RED's msg._session). Process-local: sockets cannot move between processes.
 */
import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';

const sockets = new Map<string, Socket>();

export function registerSession(socket: Socket): string {
  const id = randomUUID();
  sockets.set(id, socket);
  socket.once('close', () => sockets.delete(id));
  return id;
}

export const sessionSocket = (id: unknown): Socket | undefined => (typeof id === 'string' ? sockets.get(id) : undefined);

/** Every open session (a tcp out in reply mode without a session writes to all, as Node-RED does). */
export const allSessions = (): Socket[] => [...sockets.values()];
