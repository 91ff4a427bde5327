/**
 * Live events over Socket.IO. The handshake is authenticated like a REST request (session cookie, or a bearer token
 * in `auth.token`); anonymous sockets are refused. Clients `subscribe` to a flow ({ flowId }) or a run ({ runId })
 * they may read (flow:read / run:read in its project, checked by the services: a flow they may not see is refused
 * exactly like one that does not exist) and receive run:started, run:finished, node:started, node:progress,
 * node:finished, debug and node:status; every socket hears node-types:changed when a node pack changes, and
 * instance admins' sockets hear pack:progress (npm's output while a pack installs). Every socket is re-authenticated periodically: a signed-out session, a
 * revoked token or a lost role ends the connection or the subscription. Message previews are serialised only when
 * someone listens, and truncated to `previewChars`.
 */
import type { IncomingHttpHeaders, IncomingMessage, Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import { ProblemError } from '../errors.ts';
import { can, type Actor, type Permission } from '../identity/actor.ts';
import { hostName } from '../identity/http-guards.ts';
import type { Identity } from '../identity/identity.ts';
import type { PackProgress } from '../packs/palette.ts';
import type { RegistryChange } from '../registry/registry.ts';
import type { Runtime } from '../runtime.ts';
import type { Services } from '../services/index.ts';
import { MainLive } from './cluster.ts';
import { pushDebugCatchUp } from './debug-catchup.ts';
import { forwardRunEvents } from './forward.ts';
import { liveWaits } from '../waiting/live.ts';
import { socketTestRunLive } from '../pins/live.ts';

export interface LiveOptions {
  /** How often every socket is re-authenticated and its subscriptions re-checked (default 30 s). */
  recheckMs?: number;
}

interface SocketState {
  actor: Actor;
  /** What authenticated the handshake, replayed at each re-check. */
  headers: IncomingHttpHeaders;
  ip: string;
  /** room -> the project and permission that let this socket in. */
  rooms: Map<string, { projectId: string; permission: Permission }>;
}

type Ack = (answer: unknown) => void;

const state = (socket: Socket) => socket.data as SocketState;

/** A cross-site page must not open a socket riding on the user's cookie (WebSockets are not covered by CORS). */
function originAllowed(req: IncomingMessage, allowed: ReadonlySet<string>): boolean {
  const origin = req.headers.origin;
  if (!origin) return true; // not a browser page: nothing rides on ambient cookies
  if (allowed.has(origin.replace(/\/+$/, '').toLowerCase())) return true;
  try {
    const host = req.headers.host;
    return host !== undefined && new URL(origin).host.toLowerCase() === host.toLowerCase() && hostName(host) !== null;
  } catch {
    return false;
  }
}

export function attachLive(httpServer: HttpServer, runtime: Runtime, services: Services, identity: Identity, options: LiveOptions = {}): Server {
  const allowedOrigins = new Set(runtime.config.http.corsOrigins.map((o) => o.replace(/\/+$/, '').toLowerCase()));
  const io = new Server(httpServer, {
    path: '/socket.io',
    serveClient: false,
    cors: { origin: false },
    allowRequest: (req, callback) => callback(null, originAllowed(req, allowedOrigins)),
  });

  // Queue mode: the Redis adapter reaches the editors on every main; workers emit into it (live/cluster.ts).
  const cluster = runtime.queue ? new MainLive(io, runtime.config.cluster, runtime.log) : null;

  const authenticate = (headers: IncomingHttpHeaders, ip: string) => identity.authenticate({ headers, ip, method: 'GET' });

  io.use(async (socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    const headers: IncomingHttpHeaders = { ...socket.handshake.headers, ...(typeof token === 'string' && token ? { authorization: `Bearer ${token}` } : {}) };
    try {
      const actor = await authenticate(headers, socket.handshake.address);
      if (!actor) return next(new Error('unauthorized: sign in, or pass { auth: { token } }'));
      socket.data = { actor, headers, ip: socket.handshake.address, rooms: new Map() } satisfies SocketState;
      next();
    } catch {
      next(new Error('unauthorized: sign in, or pass { auth: { token } }'));
    }
  });

  io.on('connection', (socket) => {
    // Instance admins hear npm's output while a pack installs (pack:progress); re-checked like any room.
    if (can(state(socket).actor, 'pack:install')) {
      state(socket).rooms.set('packs', { projectId: 'default', permission: 'pack:install' });
      void socket.join('packs');
    }
    socket.on('subscribe', async (target: { flowId?: unknown; runId?: unknown }, ack?: Ack) => {
      const { actor, rooms } = state(socket);
      const wanted: Array<{ room: string; check: () => Promise<{ projectId: string; permission: Permission }> }> = [];
      if (typeof target?.flowId === 'string') {
        const flowId = target.flowId;
        wanted.push({ room: `flow:${flowId}`, check: async () => ({ projectId: await services.flows.projectOf(actor, flowId), permission: 'flow:read' }) });
      }
      if (typeof target?.runId === 'string') {
        const runId = target.runId;
        wanted.push({ room: `run:${runId}`, check: async () => ({ projectId: (await services.runs.visible(actor, runId)).projectId ?? 'default', permission: 'run:read' }) });
      }
      if (wanted.length === 0) return ack?.({ ok: false, error: 'subscribe needs { flowId } or { runId }' });
      try {
        const granted = await Promise.all(wanted.map(async (w) => ({ room: w.room, grant: await w.check() })));
        for (const { room, grant } of granted) rooms.set(room, grant);
        await socket.join(granted.map((g) => g.room));
        await cluster?.publish(); // workers know of the new listener before the client is told it is subscribed
        ack?.({ ok: true, rooms: granted.map((g) => g.room) });
        void pushDebugCatchUp(socket, services, actor, target); // { flowId, debugAfter }: live/debug-catchup.ts
      } catch (error) {
        // The services' 404 reads the same for a flow that does not exist and one the user may not see.
        ack?.({ ok: false, error: error instanceof ProblemError ? error.message : 'subscription refused' });
      }
    });
    socket.on('unsubscribe', (target: { flowId?: unknown; runId?: unknown }, ack?: Ack) => {
      for (const room of [typeof target?.flowId === 'string' ? `flow:${target.flowId}` : null, typeof target?.runId === 'string' ? `run:${target.runId}` : null]) {
        if (!room) continue;
        state(socket).rooms.delete(room);
        void socket.leave(room);
      }
      ack?.({ ok: true });
    });
  });

  /** Sessions end, tokens get revoked, roles change: re-authenticate each socket and drop what it may no longer read. */
  const recheck = async () => {
    for (const socket of io.sockets.sockets.values()) {
      const s = state(socket);
      if (!s?.actor) continue;
      const actor = await authenticate(s.headers, s.ip).catch(() => null);
      if (!actor) {
        socket.disconnect(true);
        continue;
      }
      s.actor = actor;
      for (const [room, grant] of s.rooms) {
        if (can(actor, grant.permission, grant.projectId)) continue;
        s.rooms.delete(room);
        void socket.leave(room);
        // The client is told, so an editor can say why its live view stopped instead of going quiet.
        socket.emit('subscription:dropped', { room, reason: `no longer allowed: ${grant.permission}` });
      }
    }
  };
  const timer = setInterval(() => void recheck().catch((e: unknown) => runtime.log.warn(`live: re-check failed: ${(e as Error).message}`)), options.recheckMs ?? 30_000);
  timer.unref();
  io.engine.on('close', () => clearInterval(timer));
  httpServer.on('close', () => clearInterval(timer));

  const detachEvents = forwardRunEvents({ events: runtime.events, debugLog: runtime.debugLog, previewChars: runtime.config.previewChars }, {
    listening: (room) => (cluster ? cluster.listening(room) : (io.sockets.adapter.rooms.get(room)?.size ?? 0) > 0),
    nobody: () => (cluster ? cluster.nobody() : io.sockets.adapter.rooms.size === 0),
    emit: (rooms, event, payload) => io.to(rooms).emit(event, payload),
  });
  // A test run's events go to the editor that started it (pins/live.ts).
  services.pins.useLive(socketTestRunLive(io, runtime.config.previewChars));
  // Node types are readable by every signed-in role: each socket hears that the palette changed.
  const typesChanged = (change: RegistryChange) => io.emit('node-types:changed', change);
  const packProgress = (progress: PackProgress) => io.to('packs').emit('pack:progress', progress);
  runtime.registry.on('change', typesChanged);
  services.packs.on('progress', packProgress);
  // The Waiting panel's questions (waits:changed, to readers of runs in their project).
  const detachWaits = runtime.waiting ? liveWaits(io, runtime.waiting, !!cluster) : undefined;
  httpServer.on('close', () => {
    detachWaits?.();
    services.pins.useLive(null);
    detachEvents();
    void cluster?.close();
    runtime.registry.off('change', typesChanged);
    services.packs.off('progress', packProgress);
  });
  return io;
}
