/**
 * WebSocket endpoints under /webhook/*: nodes register them through RuntimeServices.registerWebSocket (Node-RED's
 * websocket listener); the HTTP server hands each upgrade request here (Socket.IO keeps /socket.io). Paths are
 * literal, one node each; an upgrade to a path no node serves is refused with 404.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketConnection, WebSocketRoute } from '@flowcrew/sdk';
import { WebSocketServer, type WebSocket } from 'ws';

const PREFIX = '/webhook';
/** Node-RED's default maximum message size for its WebSocket nodes is unbounded; ours is the message limit's order. */
const MAX_PAYLOAD = 16 * 1024 * 1024;

const normalise = (path: string) => '/' + path.split('/').filter(Boolean).join('/');

export class WebSocketRouter {
  private readonly routes = new Map<string, { route: WebSocketRoute; sockets: Set<WebSocket> }>();
  private readonly server = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD });

  register(route: WebSocketRoute): () => void {
    const path = normalise(route.path);
    if (this.routes.has(path)) throw new Error(`websocket ${PREFIX}${path} is already served by another node`);
    const entry = { route, sockets: new Set<WebSocket>() };
    this.routes.set(path, entry);
    return () => {
      if (this.routes.get(path) !== entry) return;
      this.routes.delete(path);
      for (const socket of entry.sockets) socket.close(1001, 'endpoint removed');
    };
  }

  /** True when the request is ours to answer (a /webhook/ path); Socket.IO's upgrades are left alone. */
  handles(request: IncomingMessage): boolean {
    const url = request.url ?? '';
    return url === PREFIX || url.startsWith(`${PREFIX}/`);
  }

  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = normalise(new URL(request.url ?? '/', 'http://x').pathname.slice(PREFIX.length));
    const entry = this.routes.get(path);
    if (!entry) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.server.handleUpgrade(request, socket, head, (ws) => {
      entry.sockets.add(ws);
      ws.on('close', () => entry.sockets.delete(ws));
      ws.on('error', () => ws.terminate());
      entry.route.onConnection(wrap(ws), { path, headers: request.headers, remoteAddress: request.socket.remoteAddress });
    });
  }

  list(): string[] {
    return [...this.routes.keys()].map((p) => `${PREFIX}${p}`);
  }

  close(): void {
    for (const { sockets } of this.routes.values()) for (const socket of sockets) socket.terminate();
    this.server.close();
  }
}

export function wrap(ws: WebSocket): WebSocketConnection {
  const id = randomUUID();
  return {
    id,
    send: (data) => ws.send(data),
    close: (code, reason) => ws.close(code, reason),
    onMessage: (listener) => ws.on('message', (data, isBinary) => listener(isBinary ? new Uint8Array(data as Buffer) : data.toString(), isBinary)),
    onClose: (listener) => ws.on('close', listener),
  };
}
