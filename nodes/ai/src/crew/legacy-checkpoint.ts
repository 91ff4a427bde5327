/**
 * Crew checkpoints of earlier versions (before crew steps became child invocations, dac0861): the finished tasks,
 * the manager's plan and the human-review drafts of one invocation were kept in the crew node's persistent context
 * under `flowcrew.crew.checkpoint:<runId>:<nodeId>:<invocationId>`. A run that crashed or waited for a person under
 * such a version finds them here when it resumes after the upgrade: they are stored as the invocation's steps (so the
 * crew takes them as it takes its own) and the context entry is removed once they are. Entries of invocations that
 * never came back are removed after a week, as the earlier versions did.
 */
import type { ContextStore, Logger, StepJournal, StepRecord } from '@flowcrew/sdk';
import type { CrewTaskOutcome } from './crew.ts';

const PREFIX = 'flowcrew.crew.checkpoint:';
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/** The value the earlier versions stored. */
interface Stored {
  savedAt: number;
  plan?: string;
  tasks: Record<string, CrewTaskOutcome>;
  drafts?: Record<string, CrewTaskOutcome>;
}

export interface LegacySource {
  /** The crew node's own context (ctx.context.node). */
  context: ContextStore;
  /** ctx.idempotencyKey: `runId:nodeId:invocationId:attempt`; every attempt of one invocation shares all but the attempt. */
  idempotencyKey: string;
  log: Logger;
}

const isOutcome = (v: unknown): v is CrewTaskOutcome =>
  typeof v === 'object' && v !== null && typeof (v as CrewTaskOutcome).output === 'string' && typeof (v as CrewTaskOutcome).agent === 'string';

/**
 * The steps an earlier version's checkpoint of this invocation stands for (in the order they were made: the plan,
 * then per task its drafts and the task), or [] when there is none. Malformed parts are skipped with a warning.
 */
export function legacySteps(source: LegacySource): StepRecord[] {
  const found = source.context.get(keyOf(source.idempotencyKey)) as Stored | undefined;
  if (!found || typeof found !== 'object' || typeof found.tasks !== 'object' || found.tasks === null) return [];
  const at = typeof found.savedAt === 'number' ? found.savedAt : Date.now();
  const from = { from: 'a crew checkpoint stored by an earlier Flowcrew version' };
  const steps: StepRecord[] = [];
  const skipped: string[] = [];
  if (typeof found.plan === 'string') steps.push({ key: 'plan', kind: 'plan', label: "the manager's plan", input: from, output: found.plan, startedAt: at, finishedAt: at });
  const drafts = Object.entries(found.drafts ?? {}).map(([id, outcome]) => ({ id, task: id.replace(/#\d+$/, ''), round: Number(id.match(/#(\d+)$/)?.[1]), outcome }));
  const draftsOf = (task: string) =>
    drafts
      .filter((d) => d.task === task)
      .sort((a, b) => a.round - b.round)
      .flatMap(({ id, round, outcome }) => {
        if (!Number.isInteger(round) || !isOutcome(outcome)) return (skipped.push(`draft "${id}"`), []);
        const label = `${task}: answer ${round + 1} for a person to review (${outcome.agent})`;
        return [{ key: `draft:${task}#${round}`, kind: 'draft', label, partOf: `task:${task}`, input: { task, round, ...from }, output: outcome, startedAt: at, finishedAt: at }];
      });
  for (const [task, outcome] of Object.entries(found.tasks)) {
    steps.push(...draftsOf(task));
    if (!isOutcome(outcome)) skipped.push(`task "${task}"`);
    else steps.push({ key: `task:${task}`, kind: 'task', label: `${task} (${outcome.agent})`, input: { task, ...from }, output: outcome, startedAt: at, finishedAt: at });
  }
  // Drafts of a task still under review (no finished task yet) come last.
  for (const task of new Set(drafts.map((d) => d.task))) if (!(task in found.tasks)) steps.push(...draftsOf(task));
  if (skipped.length) source.log.warn(`crew checkpoint of an earlier version: ${skipped.join(', ')} not readable, done again`);
  return steps;
}

/** The earlier version's entry of this invocation is no longer needed (its steps are stored), nor week-old ones of others. */
export function forgetLegacy(source: LegacySource, now = Date.now()): void {
  const own = keyOf(source.idempotencyKey);
  for (const key of source.context.keys()) {
    if (!key.startsWith(PREFIX)) continue;
    const savedAt = (source.context.get(key) as Partial<Stored> | undefined)?.savedAt;
    if (key === own || typeof savedAt !== 'number' || now - savedAt > MAX_AGE_MS) source.context.set(key, undefined);
  }
}

function keyOf(idempotencyKey: string): string {
  return PREFIX + idempotencyKey.replace(/:\d+$/, '');
}
