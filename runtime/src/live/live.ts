/**
 * Live events over Socket.IO. Clients `subscribe` to a flow ({ flowId }) or a run ({ runId }) and receive
 * run:started, run:finished, node:started, node:progress, node:finished, debug and node:status. Message previews are
 * serialised only when someone listens, and truncated to `previewChars`.
 */
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { Runtime } from '../runtime.ts';
import { preview } from './preview.ts';

export function attachLive(httpServer: HttpServer, runtime: Runtime): Server {
  const io = new Server(httpServer, { path: '/socket.io', serveClient: false, cors: { origin: false } });
  const max = runtime.config.previewChars;

  io.on('connection', (socket) => {
    socket.on('subscribe', (target: { flowId?: unknown; runId?: unknown }, ack?: (answer: unknown) => void) => {
      const rooms: string[] = [];
      if (typeof target?.flowId === 'string') rooms.push(`flow:${target.flowId}`);
      if (typeof target?.runId === 'string') rooms.push(`run:${target.runId}`);
      if (rooms.length === 0) return ack?.({ ok: false, error: 'subscribe needs { flowId } or { runId }' });
      void socket.join(rooms);
      ack?.({ ok: true, rooms });
    });
    socket.on('unsubscribe', (target: { flowId?: unknown; runId?: unknown }, ack?: (answer: unknown) => void) => {
      if (typeof target?.flowId === 'string') void socket.leave(`flow:${target.flowId}`);
      if (typeof target?.runId === 'string') void socket.leave(`run:${target.runId}`);
      ack?.({ ok: true });
    });
  });

  const listening = (room: string) => (io.sockets.adapter.rooms.get(room)?.size ?? 0) > 0;
  const send = (flowId: string, runId: string | null, event: string, build: () => unknown) => {
    const targets: string[] = [];
    if (listening(`flow:${flowId}`)) targets.push(`flow:${flowId}`);
    if (runId && listening(`run:${runId}`)) targets.push(`run:${runId}`);
    if (targets.length > 0) io.to(targets).emit(event, build());
  };

  runtime.events.add({
    runStarted: (run) =>
      send(run.flowId, run.id, 'run:started', () => ({ runId: run.id, flowId: run.flowId, triggerNodeId: run.triggerNodeId, status: run.status, createdAt: run.createdAt, startedAt: run.startedAt })),
    runFinished: (run) =>
      send(run.flowId, run.id, 'run:finished', () => ({ runId: run.id, flowId: run.flowId, status: run.status, error: run.error, startedAt: run.startedAt, finishedAt: run.finishedAt })),
    nodeStarted: (e) =>
      send(e.flowId, e.runId, 'node:started', () => ({ runId: e.runId, flowId: e.flowId, nodeId: e.nodeId, invocationId: e.invocationId, attempt: e.attempt, input: preview(e.input, max) })),
    nodeFinished: (e) =>
      send(e.flowId, e.runId, 'node:finished', () => ({
        runId: e.runId,
        flowId: e.flowId,
        nodeId: e.nodeId,
        invocationId: e.invocationId,
        attempt: e.attempt,
        status: e.status,
        error: e.error,
        durationMs: e.durationMs,
        outputs: e.outputs.map((o) => ({ port: o.port, msg: preview(o.msg, max) })),
      })),
    // The debug buffer already numbered and previewed the message: send exactly what a catching-up client would fetch.
    debug: (e) => send(e.flowId, e.runId, 'debug', () => runtime.debugLog.messageFor(e)),
    progress: (e) => send(e.flowId, e.runId, 'node:progress', () => ({ runId: e.runId, flowId: e.flowId, nodeId: e.nodeId, invocationId: e.invocationId, data: e.data })),
    status: (e) => send(e.flowId, null, 'node:status', () => ({ flowId: e.flowId, nodeId: e.nodeId, status: e.status })),
  });
  return io;
}
