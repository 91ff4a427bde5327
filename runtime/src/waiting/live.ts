/**
 * The Waiting panel updates live: each change to a project's questions goes to the sockets of users who read runs
 * in that project, as `waits:changed` ({projectId, runId, waitId?, change}), and the editor reloads its list (the
 * REST list applies the same permission). Questions are rare, so walking the sockets per change costs nothing.
 *
 * Queue mode: a change can happen on any process (a question is asked on the worker that runs the node; answers on
 * whichever main took the request; timeouts on whichever process swept first), while each main only knows its own
 * sockets. So every change also goes to the other mains as a Socket.IO server-side event over the Redis adapter
 * (workers send it with the Redis emitter, live/cluster.ts), and each main walks its own sockets.
 */
import type { Server } from 'socket.io';
import { can, type Actor } from '../identity/actor.ts';
import type { WaitChange, WaitingRuns } from './waiting.ts';

export const WAITS_CHANGED = 'waits:changed';
/** The server-side event between processes (never sent to a socket). */
export const WAITS_CHANGED_PEER = 'flowcrew:waits:changed';

type ChangeSource = Pick<WaitingRuns, 'onChange'>;

/** On a main: changes made here and on peers reach this main's sockets; `clustered` also tells the peers. */
export function liveWaits(io: Server, waiting: ChangeSource, clustered = false): () => void {
  const deliver = (change: WaitChange) => {
    for (const socket of io.sockets.sockets.values()) {
      const actor = (socket.data as { actor?: Actor } | undefined)?.actor;
      if (actor && can(actor, 'run:read', change.projectId)) socket.emit(WAITS_CHANGED, change);
    }
  };
  const fromPeer = (change: unknown) => {
    if (isWaitChange(change)) deliver(change);
  };
  const nsp = io.of('/');
  if (clustered) nsp.on(WAITS_CHANGED_PEER, fromPeer);
  const stop = waiting.onChange((change) => {
    deliver(change);
    if (clustered) nsp.serverSideEmit(WAITS_CHANGED_PEER, change);
  });
  return () => {
    stop();
    nsp.off(WAITS_CHANGED_PEER, fromPeer);
  };
}

/** On a worker: its changes go to every main (queue/mode.ts wires this to the worker's live emitter). */
export function forwardWaits(waiting: ChangeSource, live: { serverEmit(event: string, payload: unknown): void }): () => void {
  return waiting.onChange((change) => live.serverEmit(WAITS_CHANGED_PEER, change));
}

const CHANGES = new Set<WaitChange['change']>(['asked', 'answered', 'timed_out', 'escalated', 'cancelled']);

/** A peer's message is data from Redis: only a well-formed change reaches the permission check. */
function isWaitChange(value: unknown): value is WaitChange {
  const c = value as Partial<WaitChange> | null;
  return (
    !!c &&
    typeof c === 'object' &&
    typeof c.projectId === 'string' &&
    typeof c.runId === 'string' &&
    (c.waitId === undefined || typeof c.waitId === 'string') &&
    CHANGES.has(c.change as WaitChange['change'])
  );
}
