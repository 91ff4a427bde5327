/**
 * Runs async tasks one at a time, in arrival order. Nodes whose state spans several messages (switch sequences,
 * join groups) process each message to completion before the next, as Node-RED's message queues do.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(task);
    // Keep the chain alive whatever this task does; its caller sees its own failure.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
