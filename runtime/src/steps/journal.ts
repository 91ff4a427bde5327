/**
 * ctx.steps for one invocation attempt (the executor's hook in invoke.ts): a node's finished parts become child
 * invocations of its invocation as soon as they are done (storage/steps.ts), with the tool calls made since the last
 * part as their own children (a part that `leavesToolCalls`, such as a manager's review, leaves them to the task it
 * reviews), so a crash loses at most the part in progress.
 */
import type { FinishedStep, StepJournal, StepRecord } from '@flowcrew/sdk';
import type { ActiveRun, InvocationScope } from '../executor/types.ts';
import { SqlStorage } from '../storage/sql-storage.ts';
import { StepStore, stepId, stepInvocation, stepMeta, toFinishedStep } from '../storage/steps.ts';
import type { InvocationRecord, Storage } from '../storage/types.ts';

const stores = new WeakMap<Storage, StepStore>();

/** The step a tool call was made for (ToolCall.step), set by the executor when it makes the call. */
export const toolCallSteps = new WeakMap<InvocationRecord, string>();

/**
 * Steps a re-run copied under its new entry invocation (rerun.ts), by that invocation's id, until the run's acceptance
 * has committed: the run starts before that commit (as every run does), and its node must find them meanwhile.
 */
export const copiesInFlight = new Map<string, readonly InvocationRecord[]>();

/** The step store of a SQL storage (one per storage), or undefined for a storage without SQL (then nodes get no ctx.steps). */
export function stepStoreOf(storage: Storage): StepStore | undefined {
  let store = stores.get(storage);
  if (!store && storage instanceof SqlStorage) stores.set(storage, (store = new StepStore(storage)));
  return store;
}

export function stepJournal(storage: Storage, run: ActiveRun, invocation: InvocationRecord, scope: InvocationScope): StepJournal | undefined {
  const store = stepStoreOf(storage);
  return store && new InvocationSteps(store, run, invocation, scope);
}

class InvocationSteps implements StepJournal {
  private done: Promise<Map<string, FinishedStep>> | null = null;

  constructor(
    private readonly store: StepStore,
    private readonly run: ActiveRun,
    private readonly invocation: InvocationRecord,
    private readonly scope: InvocationScope,
  ) {}

  finished(): Promise<ReadonlyMap<string, FinishedStep>> {
    return this.known();
  }

  async record(step: StepRecord): Promise<void> {
    if (!step.key) throw new Error('a step needs a key');
    const done = await this.known();
    if (done.has(step.key)) return;
    // The tool calls this invocation made since its last step were made for this one: they move under it and are
    // stored with it now instead of with the invocation's completion (numbered before it: they happened first).
    const id = stepId(this.invocation.id, step.key);
    const tools = step.leavesToolCalls ? [] : this.takeToolCalls(step);
    const moved = tools.map((t) => ({ ...t, parentId: t.parentId === this.invocation.id ? id : t.parentId, seq: this.run.seq++ }));
    const record = stepInvocation(this.invocation, step, this.run.seq++);
    try {
      await this.store.insert(this.run.flow.redactor.records([record, ...moved]));
    } catch (error) {
      this.scope.tools.unshift(...tools);
      throw error;
    }
    done.set(step.key, toFinishedStep(record, stepMeta(record)!));
  }

  /**
   * The pending tool calls that belong to `step`: those made for it or for the step it is part of (ToolCall.step),
   * and untagged ones; a nested call goes with the call it was made in. The rest stay for their own step.
   */
  private takeToolCalls(step: StepRecord): InvocationRecord[] {
    const pending = this.scope.tools;
    const byId = new Map(pending.map((t) => [t.id, t]));
    const mine = (t: InvocationRecord): boolean => {
      let root = t;
      for (let up = byId.get(root.parentId ?? ''); up; up = byId.get(root.parentId ?? '')) root = up;
      const tag = toolCallSteps.get(root);
      return tag === undefined || tag === step.key || tag === step.partOf;
    };
    const taken = pending.filter(mine);
    const rest = pending.filter((t) => !taken.includes(t));
    pending.splice(0, pending.length, ...rest);
    return taken;
  }

  private known(): Promise<Map<string, FinishedStep>> {
    return (this.done ??= (async () => {
      // Copies first: once they leave the map their commit is done, so the read after it finds them stored.
      const copies = copiesInFlight.get(this.invocation.id) ?? [];
      const done = await this.store.finished(this.run.record.id, this.invocation.id);
      for (const record of copies) {
        const meta = stepMeta(record);
        if (meta && !done.has(meta.key)) done.set(meta.key, toFinishedStep(record, meta));
      }
      return done;
    })());
  }
}
