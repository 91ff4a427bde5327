/** Long synchronous work on large flows (validation, deploy) gives the event loop a turn every so often. */

/** Nodes handled between two turns given to the event loop: small enough that /health never waits long. */
export const NODES_PER_TURN = 256;

/** Resolves on the next turn of the event loop, after pending I/O callbacks (an HTTP request waiting, a timer). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
