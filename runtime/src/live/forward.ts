/**
 * What the executor's events become on the wire (run:started, node:finished, debug, ...), sent to the rooms of the
 * flow and the run when someone listens there. One mapping for a main's Socket.IO server and a worker's Redis emitter.
 */
import type { EventFanout } from '../executor/events.ts';
import type { DebugBuffer } from './debug-buffer.ts';
import { preview } from './preview.ts';

export interface LiveTarget {
  listening(room: string): boolean;
  /** True when no room has a listener (no editor connected): events are then dropped before anything is built. */
  nobody?(): boolean;
  emit(rooms: string[], event: string, payload: unknown): void;
}

/** Forwards until the returned function is called. */
export function forwardRunEvents(source: { events: EventFanout; debugLog: DebugBuffer; previewChars: number }, target: LiveTarget): () => void {
  const max = source.previewChars;
  const send = (flowId: string, runId: string | null, event: string, build: () => unknown) => {
    const rooms: string[] = [];
    if (target.listening(`flow:${flowId}`)) rooms.push(`flow:${flowId}`);
    if (runId && target.listening(`run:${runId}`)) rooms.push(`run:${runId}`);
    if (rooms.length > 0) target.emit(rooms, event, build());
  };
  // Every run and node event passes here (12 per run of the order flow): with no editor connected, nothing is built.
  const nobody = target.nobody?.bind(target);
  const whenListened = <E>(handler: (e: E) => void): ((e: E) => void) => (nobody ? (e) => { if (!nobody()) handler(e); } : handler);
  return source.events.add({
    runStarted: whenListened((run) =>
      send(run.flowId, run.id, 'run:started', () => ({ runId: run.id, flowId: run.flowId, triggerNodeId: run.triggerNodeId, status: run.status, createdAt: run.createdAt, startedAt: run.startedAt }))),
    runFinished: whenListened((run) =>
      send(run.flowId, run.id, 'run:finished', () => ({ runId: run.id, flowId: run.flowId, status: run.status, error: run.error, startedAt: run.startedAt, finishedAt: run.finishedAt }))),
    nodeStarted: whenListened((e) =>
      send(e.flowId, e.runId, 'node:started', () => ({ runId: e.runId, flowId: e.flowId, nodeId: e.nodeId, invocationId: e.invocationId, attempt: e.attempt, input: preview(e.input, max) }))),
    nodeFinished: whenListened((e) =>
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
      }))),
    // The debug buffer already numbered and previewed the message: send exactly what a catching-up client would fetch.
    debug: whenListened((e) => send(e.flowId, e.runId, 'debug', () => source.debugLog.messageFor(e))),
    progress: whenListened((e) => send(e.flowId, e.runId, 'node:progress', () => ({ runId: e.runId, flowId: e.flowId, nodeId: e.nodeId, invocationId: e.invocationId, data: e.data }))),
    status: whenListened((e) => send(e.flowId, null, 'node:status', () => ({ flowId: e.flowId, nodeId: e.nodeId, status: e.status }))),
  });
}
