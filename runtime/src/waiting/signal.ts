/**
 * The seam between the executor and human-in-the-loop waiting (the executor calls these; waiting/park.ts implements
 * them). Kept tiny so the executor knows nothing of questions, links or timeouts.
 */
import type { WaitAnswer, WaitRequest } from '@flowcrew/sdk';
import type { InvocationRecord, ResumableRun } from '../storage/types.ts';
import type { ActiveRun } from '../executor/types.ts';

/** Where a question is asked from. */
export interface AskedFrom {
  runId: string;
  flowId: string;
  nodeId: string;
  invocationId: string;
  projectId?: string;
}

export interface WaitingHooks {
  /** ctx.waitForInput: the answer when there is one, else rejects with WaitingForInput (the invocation parks). */
  ask(from: AskedFrom, request: WaitRequest): Promise<WaitAnswer>;
  /** dispatch.ts: true when `error` is a park signal (the invocation stays pending and is not completed). */
  parks(run: ActiveRun, invocation: InvocationRecord, error: Error): boolean;
  /** resume.ts: leave out runs parked on a question (they resume when it is answered, not at every start). */
  withoutParked(runs: ResumableRun[]): Promise<ResumableRun[]>;
}

/**
 * Thrown by ctx.waitForInput while the question is open. Not a failure: never retried, never routed to catch nodes.
 * A node must let it through (a node that catches every error must rethrow this one).
 */
export class WaitingForInput extends Error {
  readonly retryable = false;
  constructor(readonly waitId: string) {
    super(`waiting for a person to answer question "${waitId}"`);
    this.name = 'WaitingForInput';
  }
}
