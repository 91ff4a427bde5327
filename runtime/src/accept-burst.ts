/**
 * Whether this process is accepting a burst of new connections. libuv accepts ONE connection per event-loop turn
 * (since 1.45, "unix: don't accept() connections in a loop"; Node 20 has 1.46), so the 50 connections a load
 * generator opens at once are accepted one turn at a time: when each turn also runs every request that arrived on the
 * connections accepted before, the last of them waited for 50 long turns (bench/tail.ts: 0.5 s on a quiet machine,
 * 2-3 s at load 15, while the first connections were served hundreds of times). While connections keep arriving,
 * the dispatcher keeps its turns short (executor/dispatch.ts), so each turn gets back to accept the next one.
 *
 * The state is process-wide, as the event loop is: on from an accepted connection until a turn passes without one
 * (libuv accepts one in every turn while any is waiting, so a turn without one means none is).
 */
import type { Server } from 'node:net';

let accepting = false;
let acceptedThisTurn = false;

/** True while connections are being accepted turn after turn (see above). */
export function acceptingConnections(): boolean {
  return accepting;
}

/** Checked once per turn while accepting: a turn that accepted nothing ends the burst. */
function endOfTurn(): void {
  if (acceptedThisTurn) {
    acceptedThisTurn = false;
    setImmediate(endOfTurn);
  } else {
    accepting = false;
  }
}

function accepted(): void {
  acceptedThisTurn = true;
  if (!accepting) {
    accepting = true;
    setImmediate(endOfTurn);
  }
}

/** Follow a server's accepted connections; returns the function that stops following them. */
export function watchAccepts(server: Server): () => void {
  server.on('connection', accepted);
  return () => server.off('connection', accepted);
}
