/**
 * Durable steps in storage (storage/steps.ts), on SQLite and on a REAL PostgreSQL (scripts/services): a step is a
 * finished child invocation written while its parent is still pending; it is found again by the parent, does not
 * make the run resumable twice, leaves the parent's completion alone, goes with the run, and is checked against the
 * message limits before anything is written.
 */
import { describe, expect, it } from 'vitest';
import { storageBackends } from '../testing/storage-backends.ts';
import { makeInvocation, makeRun } from './fixtures.ts';
import { createSqliteStorage } from './sqlite.ts';
import type { SqlStorage } from './sql-storage.ts';
import { StepStore, stepInvocation, stepMeta } from './steps.ts';
import { UnstorableMessageError } from './types.ts';

const backends = storageBackends('steps');

describe.each(backends)('steps on %s', (_name, blank) => {
  async function open(): Promise<SqlStorage> {
    const storage = await blank();
    await storage.migrate();
    return storage;
  }

  it('stores steps under a pending invocation, finds them by key in order, and keeps them apart from resume and completion', async () => {
    const storage = await open();
    try {
      const store = new StepStore(storage);
      const run = makeRun();
      const parent = { ...makeInvocation(run.id, 1), nodeType: 'ai-crew', status: 'pending' as const, attempt: 0, outputs: null, finishedAt: null };
      await storage.acceptRun(run, [parent]);
      const at = 1_700_000_000_100;
      const research = stepInvocation(parent, { key: 'task:research', kind: 'task', label: 'research (Researcher)', input: { task: 'research' }, output: { output: 'facts' }, usage: { promptTokens: 12, completionTokens: 3 }, startedAt: at, finishedAt: at + 5 }, 2);
      const review = stepInvocation(parent, { key: 'review:write:1', kind: 'review', label: 'review', partOf: 'task:write', output: { approved: true }, startedAt: at + 6 }, 3);
      await store.insert([research, review]);
      // A row that only looks like a step (its id is not <parent>/<key>) is not one.
      await store.insert([{ ...makeInvocation(run.id, 4), status: 'succeeded', parentId: parent.id, input: { step: { key: 'task:forged', kind: 'task', label: 'x' } } }]);

      const steps = await store.list(run.id, parent.id);
      expect(steps.map((s) => [s.record.id, s.record.nodeType, s.meta.partOf ?? null])).toEqual([
        [`${parent.id}/task:research`, 'ai-crew#task', null],
        [`${parent.id}/review:write:1`, 'ai-crew#review', 'task:write'],
      ]);
      const finished = await store.finished(run.id, parent.id);
      expect(finished.get('task:research')).toEqual({ key: 'task:research', kind: 'task', label: 'research (Researcher)', input: { task: 'research' }, output: { output: 'facts' }, usage: { promptTokens: 12, completionTokens: 3 }, startedAt: at, finishedAt: at + 5 });
      expect(stepMeta(research)).toMatchObject({ key: 'task:research' });

      // Resume sees the parent pending, nothing else; the steps' seq counts in maxSeq.
      const [resumable] = await storage.listResumableRuns({ runIds: [run.id] });
      expect(resumable!.pending.map((i) => i.id)).toEqual([parent.id]);
      expect(resumable!.maxSeq).toBe(4);
      // The parent completes as usual, and the run's deletion takes its steps with it.
      await storage.completeInvocation({ invocation: { id: parent.id, status: 'succeeded', attempt: 1, outputs: [], error: null, startedAt: at, finishedAt: at + 9 }, next: [], run: { id: run.id, status: 'succeeded', finishedAt: at + 9 } });
      expect((await storage.listInvocations(run.id)).map((i) => i.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
      await storage.deleteRun(run.id);
      expect(await storage.listInvocations(run.id)).toEqual([]);
    } finally {
      await storage.close();
    }
  });

  it('refuses a step over the message limits before writing anything', async () => {
    const storage = await open();
    try {
      const store = new StepStore(storage);
      const run = makeRun();
      const parent = { ...makeInvocation(run.id, 1), status: 'pending' as const, finishedAt: null };
      await storage.acceptRun(run, [parent]);
      const small = stepInvocation(parent, { key: 'plan', kind: 'plan', label: 'plan', output: 'short', startedAt: 1 }, 2);
      const big = stepInvocation(parent, { key: 'task:big', kind: 'task', label: 'big', output: 'x'.repeat(storage.limits.maxBytes + 1), startedAt: 1 }, 3);
      await expect(store.insert([small, big])).rejects.toBeInstanceOf(UnstorableMessageError);
      expect(await store.list(run.id, parent.id)).toEqual([]);
    } finally {
      await storage.close();
    }
  });

  it('commits a step only with or after its run: a step recorded right after the run started never lands alone', async () => {
    const storage = await open();
    try {
      const store = new StepStore(storage);
      const run = makeRun();
      const parent = { ...makeInvocation(run.id, 1), status: 'pending' as const, finishedAt: null };
      // A run starts before its acceptance commits; its node's first step is recorded at once.
      const accepted = storage.acceptRun(run, [parent]);
      const stepped = store.insert([stepInvocation(parent, { key: 'plan', kind: 'plan', label: 'plan', output: 'p', startedAt: 1 }, 2)]);
      await stepped;
      // Once the step is stored, so is its run (before: the step was written at once, beside the writer's queue).
      expect((await storage.getRun(run.id))?.id).toBe(run.id);
      await accepted;
      expect((await store.list(run.id, parent.id)).map((s) => s.meta.key)).toEqual(['plan']);
    } finally {
      await storage.close();
    }
  });
});

describe('steps and configured message limits', () => {
  it('checks a step against the storage\'s configured limits (FLOWCREW_MAX_MESSAGE_BYTES), not the defaults', async () => {
    const storage = createSqliteStorage({ filename: ':memory:', limits: { maxBytes: 1024, maxDepth: 32 } });
    await storage.migrate();
    try {
      const store = new StepStore(storage);
      const run = makeRun();
      const parent = { ...makeInvocation(run.id, 1), status: 'pending' as const, finishedAt: null };
      await storage.acceptRun(run, [parent]);
      const big = stepInvocation(parent, { key: 'task:big', kind: 'task', label: 'big', output: 'x'.repeat(2000), startedAt: 1 }, 2);
      await expect(store.insert([big])).rejects.toBeInstanceOf(UnstorableMessageError);
      expect(await store.list(run.id, parent.id)).toEqual([]);
    } finally {
      await storage.close();
    }
  });
});
