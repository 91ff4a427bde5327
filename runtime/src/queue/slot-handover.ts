/**
 * FIFO of a flow's concurrency slots across workers (settings.concurrency in queue mode). A run that finds no free
 * slot goes back to storage queued and nobody's (its job waits in BullMQ's delayed set); storage keeps the order:
 * RunLeases.start lets a run take a slot only when the runs of its flow queued before it fit too, so a newer run never
 * overtakes an older one. When a run of such a flow ends on a worker, that worker hands the freed slot at once to the
 * oldest run waiting for one, wherever it was accepted: it claims and starts it here, instead of leaving it to its
 * job's next try. The job's delayed try is only the fallback for a slot freed without a run ending on a worker (a run
 * parked on a question, cancelled on a main) and for a worker that died right after a run ended; when it comes, it
 * finds the run taken (not its worker's to run) or finished, and ends.
 */
import type { Logger } from '@flowcrew/sdk';
import type { RunSlots } from './run-slots.ts';

export type Admission = 'ours' | 'not ours' | 'no slot';

export interface SlotHandoverParts {
  /** This worker's run slots: a handed-over run takes one only if one is free. */
  slots: RunSlots;
  /** The oldest runs of the flow waiting for a slot (queued, nobody's), in arrival order, at most `limit`. */
  waiting(flowId: string, limit: number): Promise<string[]>;
  /** Claim and start one run here (QueueWorker's admission: the same transaction and conditional start as a job's). */
  admit(runId: string): Promise<Admission>;
  /** Resolves when the run has ended here (finished, parked, or stopped here): its slot is then given back. */
  ended(runId: string): Promise<void>;
  /** Counts the runs handed a slot (QueueWorker.stats). */
  stats: { handedOver: number };
  log: Logger;
}

export class SlotHandover {
  private closed = false;

  constructor(private readonly parts: SlotHandoverParts) {}

  /** A run of `flowId` (concurrency `limit` > 0) ended here: offer its slot to the flow's oldest waiting run. */
  freed(flowId: string, limit: number): void {
    if (this.closed || limit <= 0) return;
    // After the ended run's job gave its run slot back (the same turn's promise callbacks).
    setImmediate(() => void this.handOver(flowId, limit).catch((e: unknown) => this.parts.log.warn(`flow "${flowId}": a freed slot was not handed over (the waiting run's job tries again): ${(e as Error).message}`)));
  }

  private async handOver(flowId: string, limit: number): Promise<void> {
    const { slots, admit, ended } = this.parts;
    if (this.closed || !slots.tryAcquire()) return; // this worker is full: the waiting run's job brings it to another
    let holding = true;
    try {
      // Oldest first; one another worker took meanwhile is skipped. 'no slot': a run ahead took it (FIFO holds).
      for (const runId of await this.parts.waiting(flowId, limit)) {
        if (this.closed) return;
        const admission = await admit(runId);
        if (admission === 'no slot') return;
        if (admission === 'ours') {
          this.parts.stats.handedOver++;
          holding = false;
          void ended(runId).finally(() => slots.release(1));
          return;
        }
      }
    } finally {
      if (holding) slots.release(1);
    }
  }

  close(): void {
    this.closed = true;
  }
}
