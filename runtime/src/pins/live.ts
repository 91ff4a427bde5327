/**
 * Live events of a test run (pins/service.ts) while it runs, sent to the editor that started it and nowhere else: the
 * run happens in an isolated sandbox, so the flow's room (other editors) never hears of it. The editor names its
 * Socket.IO connection (`liveSocket`, its socket id); that socket must belong to the same actor. Same events and
 * shapes as a real run's (live/forward.ts), each marked `test: true`. Debug messages carry no `seq`: they are not in
 * the flow's catch-up buffer, so they must not move the editor's catch-up cursor.
 */
import type { Server } from 'socket.io';
import type { EventFanout } from '../executor/events.ts';
import type { Actor } from '../identity/actor.ts';
import { DebugBuffer } from '../live/debug-buffer.ts';
import { forwardRunEvents } from '../live/forward.ts';

export interface TestRunLive {
  /** Forward `events` to the actor's socket until the returned function is called; null when the actor has no such socket. */
  open(actor: Actor, socketId: string, events: EventFanout): Promise<(() => void) | null>;
}

/** Debug previews kept per test run, only long enough to send each once. */
const KEPT_PREVIEWS = 50;

export function socketTestRunLive(io: Server, previewChars: number): TestRunLive {
  return {
    async open(actor, socketId, events) {
      // In queue mode the Redis adapter finds a socket connected to another main, and carries the emits there.
      const [socket] = await io.in(socketId).fetchSockets();
      const owner = (socket?.data as { actor?: Pick<Actor, 'id' | 'kind'> } | undefined)?.actor;
      // A room name is not a socket id (socket.id must match), and nobody may direct a run's data to someone else's editor.
      if (!socket || socket.id !== socketId || owner?.id !== actor.id || owner.kind !== actor.kind) return null;
      const debugLog = new DebugBuffer(previewChars, KEPT_PREVIEWS);
      const detachDebug = events.add({ debug: (e) => void debugLog.add(e) });
      const detachForward = forwardRunEvents(
        { events, debugLog, previewChars },
        {
          listening: () => true,
          emit: (_rooms, event, payload) => {
            const { seq: _seq, ...rest } = payload as Record<string, unknown>;
            io.to(socketId).emit(event, { ...(event === 'debug' ? rest : (payload as object)), test: true });
          },
        },
      );
      return () => {
        detachForward();
        detachDebug();
      };
    },
  };
}
