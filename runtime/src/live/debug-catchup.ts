/**
 * Debug catch-up pushed on subscribe: a socket subscribing to a flow with `debugAfter: <seq>` (0: everything kept) is
 * sent `debug:catchup` { flowId, messages } right after it joined the flow's room — the same list GET
 * /api/v1/flows/:id/debug?after=<seq> answers (services/flows.ts: this process's buffer, and in queue mode the
 * cluster's list in Redis). Joined first, listed second: a message sent in between may arrive both ways, never
 * neither; messages carry their seq, so the client drops the one it has.
 */
import type { Socket } from 'socket.io';
import type { Actor } from '../identity/actor.ts';
import type { Services } from '../services/index.ts';

export const DEBUG_CATCHUP_EVENT = 'debug:catchup';

export async function pushDebugCatchUp(socket: Socket, services: Services, actor: Actor, target: { flowId?: unknown; debugAfter?: unknown }): Promise<void> {
  if (typeof target?.flowId !== 'string' || typeof target.debugAfter !== 'number' || !Number.isFinite(target.debugAfter)) return;
  const flowId = target.flowId;
  try {
    const messages = await services.flows.debug(actor, flowId, target.debugAfter);
    socket.emit(DEBUG_CATCHUP_EVENT, { flowId, messages });
  } catch (error) {
    socket.emit(DEBUG_CATCHUP_EVENT, { flowId, messages: [], error: (error as Error).message });
  }
}
