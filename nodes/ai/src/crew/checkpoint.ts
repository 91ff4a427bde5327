/**
 * Durable crew steps: each finished task's outcome (and a hierarchical crew's plan) is written to the crew node's
 * persistent context as soon as it is done, keyed by the invocation. When the runtime dies mid-crew (a crash,
 * kill -9) it runs the invocation again on restart, with the same idempotency key: the crew then takes the finished
 * tasks from here and starts at the first unfinished one, instead of paying for the whole crew again. A retry after
 * a failed attempt resumes the same way. The record is removed when the crew finishes; ones left by invocations that
 * never finished are pruned after a week.
 *
 * Context writes are group-committed within milliseconds: a crash in that window re-runs the task just finished.
 */
import type { ContextStore, Logger } from '@flowcrew/sdk';
import type { CrewTaskOutcome } from './crew.ts';

const PREFIX = 'flowcrew.crew.checkpoint:';
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;

interface Stored {
  savedAt: number;
  plan?: string;
  tasks: Record<string, CrewTaskOutcome>;
  /** humanInput tasks: the answer of each review round ("<task>#<round>"), so feedback applies to what the person saw. */
  drafts?: Record<string, CrewTaskOutcome>;
}

/** What runCrew asks of a checkpoint. */
export interface CrewResume {
  task(key: string): CrewTaskOutcome | undefined;
  saveTask(key: string, outcome: CrewTaskOutcome): void;
  plan(): string | undefined;
  savePlan(plan: string): void;
  draft(key: string, round: number): CrewTaskOutcome | undefined;
  saveDraft(key: string, round: number, outcome: CrewTaskOutcome): void;
}

export class CrewCheckpoint implements CrewResume {
  private readonly key: string;
  private stored: Stored;
  /** Tasks taken from the checkpoint rather than run, for the run record. */
  readonly resumed: string[] = [];

  /** `invocation`: the idempotency key without its attempt (runId:nodeId:invocationId). */
  constructor(
    private readonly context: ContextStore,
    invocation: string,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.key = PREFIX + invocation;
    const found = context.get(this.key) as Stored | undefined;
    this.stored = found && typeof found === 'object' && found.tasks ? found : { savedAt: now(), tasks: {} };
  }

  /** The idempotency key is runId:nodeId:invocationId:attempt; every attempt of one invocation shares the rest. */
  static invocationOf(idempotencyKey: string): string {
    return idempotencyKey.replace(/:\d+$/, '');
  }

  task(key: string): CrewTaskOutcome | undefined {
    const outcome = this.stored.tasks[key];
    if (outcome && !this.resumed.includes(key)) this.resumed.push(key);
    return outcome;
  }

  saveTask(key: string, outcome: CrewTaskOutcome): void {
    this.stored.tasks[key] = outcome;
    this.write();
  }

  plan(): string | undefined {
    return this.stored.plan;
  }

  draft(key: string, round: number): CrewTaskOutcome | undefined {
    return this.stored.drafts?.[`${key}#${round}`];
  }

  saveDraft(key: string, round: number, outcome: CrewTaskOutcome): void {
    (this.stored.drafts ??= {})[`${key}#${round}`] = outcome;
    this.write();
  }

  savePlan(plan: string): void {
    this.stored.plan = plan;
    this.write();
  }

  /** The crew finished: nothing to resume any more. */
  clear(): void {
    this.context.set(this.key, undefined);
  }

  /** Remove checkpoints of invocations that never finished, older than a week. */
  prune(): void {
    for (const key of this.context.keys()) {
      if (!key.startsWith(PREFIX) || key === this.key) continue;
      const savedAt = (this.context.get(key) as Stored | undefined)?.savedAt ?? 0;
      if (this.now() - savedAt > MAX_AGE_MS) this.context.set(key, undefined);
    }
  }

  private write(): void {
    this.stored.savedAt = this.now();
    try {
      this.context.set(this.key, this.stored);
    } catch (error) {
      // Over the context size limits: the crew goes on, only without a resume point for this step.
      this.log.warn(`crew checkpoint not saved (a crash now would run the finished tasks again): ${(error as Error).message}`);
    }
  }
}
