/**
 * A crew's durable steps (ctx.steps): the manager's plan, each finished task, each draft a person reviewed, and, for
 * the run view only, delegations and the manager's assignments and reviews. Each is stored as a child invocation of
 * the crew node's invocation the moment it is done. When the invocation runs again (a retry, the restart after a
 * crash, the answer to a human review) the crew takes the finished tasks from there and starts at the first
 * unfinished one; a re-run from a chosen task (POST /runs/{id}/invocations/{invocationId}/rerun) copies the steps
 * before it into a new run, where they are taken the same way.
 *
 * A host without ctx.steps (the SDK's test harness, another runtime) runs crews without resume points, except what an
 * earlier version's checkpoint in the node's context holds (legacy-checkpoint.ts).
 */
import type { FinishedStep, StepJournal } from '@flowcrew/sdk';
import type { TokenUsage } from '../providers/types.ts';
import type { CrewTaskOutcome } from './crew.ts';
import { forgetLegacy, legacySteps, type LegacySource } from './legacy-checkpoint.ts';

/** When a step began, and the tokens the crew spent on it. */
export interface StepMark {
  at: number;
  usage: TokenUsage;
}

/** What a task's step shows as its input. */
export interface TaskStepInput {
  task: string;
  description: string;
  expectedOutput?: string;
  /** Labels of the earlier answers it was given. */
  context: string[];
}

/** What runCrew asks of its steps. Saves resolve once stored. */
export interface CrewResume {
  task(key: string): CrewTaskOutcome | undefined;
  /** Why a task was taken rather than run (a note in the task's outcome). */
  takenNote(key: string): string;
  saveTask(input: TaskStepInput, outcome: CrewTaskOutcome, mark: StepMark): Promise<void>;
  plan(): string | undefined;
  savePlan(plan: string, mark: StepMark): Promise<void>;
  /** The planner's plans per task (crew planning). */
  planning(): Record<string, string> | undefined;
  savePlanning(plans: Record<string, string>, mark: StepMark): Promise<void>;
  draft(key: string, round: number): CrewTaskOutcome | undefined;
  saveDraft(key: string, round: number, outcome: CrewTaskOutcome, mark: StepMark): Promise<void>;
  /**
   * A step for the run view only (never taken on resume): a delegation, a manager's assignment or review. A manager's
   * steps leave the worker's tool calls to the task's step (`leavesToolCalls`).
   */
  show(step: ShownStep, mark: StepMark): Promise<void>;
}

export interface ShownStep {
  kind: string;
  task: string;
  label: string;
  input?: unknown;
  output: unknown;
  leavesToolCalls?: boolean;
}

const NOTE_RESUMED = 'taken from the checkpoint: this task finished before the runtime restarted, and was not run again';

export class CrewSteps implements CrewResume {
  /** Tasks taken from earlier steps rather than run, for the run record. */
  readonly resumed: string[] = [];
  private shown = 0;

  private constructor(
    private readonly journal: StepJournal | undefined,
    private readonly done: ReadonlyMap<string, FinishedStep>,
    private readonly legacy?: LegacySource,
  ) {}

  /**
   * `legacy`: where an earlier version kept this invocation's checkpoint (legacy-checkpoint.ts); what it holds is
   * stored as steps first, so a crew suspended before an upgrade resumes where it was.
   */
  static async open(journal: StepJournal | undefined, legacy?: LegacySource): Promise<CrewSteps> {
    const done = new Map(journal ? await journal.finished() : []);
    const old = legacy ? legacySteps(legacy) : [];
    for (const step of old) {
      if (done.has(step.key)) continue;
      await journal?.record({ ...step, leavesToolCalls: true });
      done.set(step.key, { ...step, finishedAt: step.finishedAt ?? step.startedAt });
    }
    // Durable as steps now; a host without steps keeps the entry until the crew has finished (settled()).
    if (legacy && journal) forgetLegacy(legacy);
    return new CrewSteps(journal, done, journal ? undefined : legacy);
  }

  /** The crew finished: an earlier version's checkpoint kept by a host without steps is not needed any more. */
  settled(): void {
    if (this.legacy) forgetLegacy(this.legacy);
  }

  task(key: string): CrewTaskOutcome | undefined {
    const step = this.done.get(`task:${key}`);
    if (!step) return undefined;
    if (!this.resumed.includes(key)) this.resumed.push(key);
    return step.output as CrewTaskOutcome;
  }

  takenNote(key: string): string {
    const from = this.done.get(`task:${key}`)?.copiedFrom;
    return from ? `taken from run ${from.runId}: this run was started again from a later task, reusing this one's answer` : NOTE_RESUMED;
  }

  async saveTask(input: TaskStepInput, outcome: CrewTaskOutcome, mark: StepMark): Promise<void> {
    await this.save(`task:${input.task}`, 'task', `${input.task} (${outcome.agent})`, undefined, input, outcome, mark);
  }

  plan(): string | undefined {
    return this.done.get('plan')?.output as string | undefined;
  }

  async savePlan(plan: string, mark: StepMark): Promise<void> {
    await this.save('plan', 'plan', 'the manager\'s plan', undefined, undefined, plan, mark);
  }

  planning(): Record<string, string> | undefined {
    return this.done.get('planning')?.output as Record<string, string> | undefined;
  }

  async savePlanning(plans: Record<string, string>, mark: StepMark): Promise<void> {
    await this.save('planning', 'planning', 'the planner\'s plan for each task', undefined, undefined, plans, mark);
  }

  draft(key: string, round: number): CrewTaskOutcome | undefined {
    return this.done.get(`draft:${key}#${round}`)?.output as CrewTaskOutcome | undefined;
  }

  async saveDraft(key: string, round: number, outcome: CrewTaskOutcome, mark: StepMark): Promise<void> {
    await this.save(`draft:${key}#${round}`, 'draft', `${key}: answer ${round + 1} for a person to review (${outcome.agent})`, `task:${key}`, { task: key, round }, outcome, mark);
  }

  async show(step: ShownStep, mark: StepMark): Promise<void> {
    // A key of its own per attempt: a task redone after a crash shows its new delegations beside the old ones.
    const key = `${step.kind}:${step.task}:${mark.at.toString(36)}-${++this.shown}`;
    await this.save(key, step.kind, step.label, `task:${step.task}`, step.input, step.output, mark, step.leavesToolCalls);
  }

  private async save(key: string, kind: string, label: string, partOf: string | undefined, input: unknown, output: unknown, mark: StepMark, leavesToolCalls?: boolean): Promise<void> {
    if (!this.journal) return;
    await this.journal.record({
      key,
      kind,
      label,
      ...(partOf ? { partOf } : {}),
      ...(leavesToolCalls ? { leavesToolCalls } : {}),
      input,
      output,
      usage: mark.usage,
      startedAt: mark.at,
      finishedAt: Date.now(),
    });
  }
}
