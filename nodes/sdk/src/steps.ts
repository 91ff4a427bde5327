/**
 * Durable steps inside one invocation (ctx.steps): a node doing long, costly work in parts (an AI crew's plan,
 * tasks, delegations and reviews) records each finished part as a child invocation of its own invocation. The run
 * view then shows the work part by part; when the invocation runs again (a retry, a restart after a crash, a run
 * that waited for a person) the node finds the parts already done and skips them; and a re-run can start from a
 * chosen part, the earlier ones copied into the new run (as Temporal activities or Inngest's step.run, kept in the
 * run's own history rather than a side store).
 */
import type { ModelUsage } from './index.ts';

export interface StepRecord {
  /**
   * Unique within the invocation, stable across its attempts for a part the node wants to find again on resume
   * (`task:research`); a part that is only shown gets a key of its own each time (`delegation:research:<n>`).
   */
  key: string;
  /** What kind of part: shown in the run view next to the node type ('task', 'plan', 'delegation', ...). */
  kind: string;
  /** One line for people, e.g. `research (Researcher)`. */
  label: string;
  /** The key of the part this one belongs to (a delegation or review inside a task): a re-run from that part redoes it too. */
  partOf?: string;
  /**
   * A part that only comments on work still going on (a manager's review of a task's draft): the tool calls made since
   * the last part are left to the next part that takes them (the task), instead of being filed under this one.
   */
  leavesToolCalls?: boolean;
  input?: unknown;
  /** JSON: what the node gets back from `finished()`. */
  output: unknown;
  /** Model usage of this part alone (the invocation's own usage, from ctx.recordUsage, already includes it). */
  usage?: ModelUsage;
  startedAt: number;
  finishedAt?: number;
}

export interface FinishedStep extends StepRecord {
  finishedAt: number;
  /** Set when the step was copied from an earlier run by a re-run from a later step. */
  copiedFrom?: { runId: string; invocationId: string };
}

export interface StepJournal {
  /** Parts this invocation finished before (an earlier attempt, before a restart, or copied by a re-run), by key. */
  finished(): Promise<ReadonlyMap<string, FinishedStep>>;
  /**
   * Store a finished part now, as a child invocation of this one; the tool calls made since the last recorded part
   * become its children (unless it `leavesToolCalls`). Durable when the promise resolves. A key already finished is not stored again.
   */
  record(step: StepRecord): Promise<void>;
}
