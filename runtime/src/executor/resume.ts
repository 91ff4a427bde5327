/**
 * Resuming after a stop: every run accepted but not finished is taken back into this process, its pending
 * invocations dispatched again. A start that dies on the same message again and again fails it (poison message)
 * instead of replaying it forever: each interruption is counted durably before anything runs.
 */
import { activeRun } from './admission.ts';
import type { ExecutorHub } from './types.ts';

export class Resumer {
  /** Started runs whose interruption resume() is counting, until they are active: a clean stop takes it back. */
  resuming: string[] = [];

  constructor(private readonly hub: ExecutorHub) {}

  /**
   * Re-dispatch every run that was accepted but not finished when the process last stopped, or, with `runIds`, only
   * those (the runs whose leases this process just took over from a dead one).
   */
  async resume(runIds?: readonly string[]): Promise<number> {
    const { storage } = this.hub.options;
    // A run this process executes already is never adopted twice.
    let resumable = (await storage.listResumableRuns(runIds ? { runIds } : undefined)).filter((r) => !this.hub.active.has(r.run.id));
    // Runs parked on a question stay parked: they resume when it is answered (waiting/park.ts).
    if (this.hub.options.waiting) resumable = await this.hub.options.waiting.withoutParked(resumable);
    // Every pending invocation of a started run was in flight when the process stopped. Count that interruption
    // durably BEFORE running anything again: if this start dies on the same message, the next one knows, and once an
    // invocation has been interrupted maxInterruptions times dispatch fails it instead (a poison message).
    const counted: string[] = [];
    for (const { run, pending } of resumable) {
      if (run.status === 'queued') continue; // never started: nothing of it was running
      this.resuming.push(run.id);
      for (const invocation of pending) {
        invocation.interruptions = (invocation.interruptions ?? 0) + 1;
        counted.push(invocation.id);
      }
    }
    await storage.recordInterruptions(counted);
    // Shut down meanwhile: close() has taken back the interruptions just counted; nothing is run.
    if (this.hub.closing) return resumable.length;
    for (const { run: record, pending, maxSeq } of resumable) {
      const deployed = this.hub.deployed.get(record.flowId);
      if (!deployed) {
        await storage.updateRun({ id: record.id, status: 'failed', error: `flow "${record.flowId}" is no longer deployed`, finishedAt: Date.now() });
        continue;
      }
      const run = activeRun({ ...record }, deployed, maxSeq + 1, pending);
      run.reply = this.hub.options.replyTo?.(record);
      await this.hub.admission.adopt(run, record.status === 'queued');
    }
    this.resuming = [];
    return resumable.length;
  }
}
