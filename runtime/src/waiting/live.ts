/**
 * The Waiting panel updates live: each change to a project's questions goes to the sockets of users who read runs
 * in that project, as `waits:changed` ({projectId, runId, waitId?, change}), and the editor reloads its list (the
 * REST list applies the same permission). Questions are rare, so walking the sockets per change costs nothing.
 * Queue mode: a question asked on a worker is not sent (no sockets there); answers, timeouts and cancels happen
 * on mains and are.
 */
import type { Server } from 'socket.io';
import { can, type Actor } from '../identity/actor.ts';
import type { WaitingRuns } from './waiting.ts';

export const WAITS_CHANGED = 'waits:changed';

export function liveWaits(io: Server, waiting: WaitingRuns): () => void {
  return waiting.onChange((change) => {
    for (const socket of io.sockets.sockets.values()) {
      const actor = (socket.data as { actor?: Actor } | undefined)?.actor;
      if (actor && can(actor, 'run:read', change.projectId)) socket.emit(WAITS_CHANGED, change);
    }
  });
}
