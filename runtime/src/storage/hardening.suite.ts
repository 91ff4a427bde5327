/**
 * Storage contract for the hardening work, run by storage.suite.ts on every implementation: imports saved in one
 * transaction, insert-if-absent for flows and credentials, durable interruption counts (poison runs), message limits.
 */
import { describe, expect, it } from 'vitest';
import { flowDoc, makeInvocation, makeRun } from './fixtures.ts';
import type { SqlStorage } from './sql-storage.ts';
import { UnstorableMessageError, VersionConflictError, type Storage } from './types.ts';

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

export function defineHardeningTests(open: () => Promise<Storage & Partial<SqlStorage>>): void {
  describe('imports: saveFlows', () => {
    it('saves every flow in one transaction, at the next version, marked deployed with `deploy`', async () => {
      const s = await open();
      await s.saveFlow(flowDoc('old'));
      const stored = await s.saveFlows(
        [
          { flow: flowDoc('a'), expectedVersion: 0 },
          { flow: flowDoc('old', { name: 'replaced' }), expectedVersion: 1 },
        ],
        { deploy: true },
      );
      expect(stored.map((f) => [f.flow.id, f.flow.version, f.deployedVersion])).toEqual([
        ['a', 1, 1],
        ['old', 2, 2],
      ]);
      expect((await s.getFlow('old'))?.deployedFlow).toMatchObject({ name: 'replaced', version: 2 });
      const plain = await s.saveFlows([{ flow: flowDoc('b'), expectedVersion: 0 }]);
      expect(plain[0]).toMatchObject({ flow: { id: 'b', version: 1 }, deployedVersion: null });
    });

    it('one conflict writes nothing of the import', async () => {
      const s = await open();
      await s.saveFlow(flowDoc('taken'));
      await s.saveFlow(flowDoc('edited'));
      const error = await s
        .saveFlows(
          [
            { flow: flowDoc('new1'), expectedVersion: 0 },
            { flow: flowDoc('edited', { name: 'mine' }), expectedVersion: 1 },
            { flow: flowDoc('taken'), expectedVersion: 0 }, // exists: conflict
            { flow: flowDoc('new2'), expectedVersion: 0 },
          ],
          { deploy: true },
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VersionConflictError);
      expect(error).toMatchObject({ flowId: 'taken', expected: 0, actual: 1 });
      expect(await s.getFlow('new1')).toBeNull();
      expect(await s.getFlow('new2')).toBeNull();
      expect(await s.getFlow('edited')).toMatchObject({ flow: { version: 1, name: 'Flow edited' }, deployedVersion: null });
    });

    it('a conflicting import sharing a group-commit batch fails alone', async () => {
      const s = await open();
      await s.saveFlow(flowDoc('taken'));
      const [bad, good, ctx] = await Promise.allSettled([
        s.saveFlows([{ flow: flowDoc('x'), expectedVersion: 0 }, { flow: flowDoc('taken'), expectedVersion: 0 }]),
        s.saveFlows([{ flow: flowDoc('y'), expectedVersion: 0 }]),
        s.setContext('global', 'k', 1),
      ]);
      expect(bad.status).toBe('rejected');
      expect(good.status).toBe('fulfilled');
      expect(ctx.status).toBe('fulfilled');
      expect(await s.getFlow('x')).toBeNull();
      expect(await s.getFlow('y')).not.toBeNull();
    });

    it('20 concurrent creates of one new id: exactly one wins', async () => {
      const s = await open();
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => s.saveFlow(flowDoc('same', { description: `w${i}` }), 0)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(VersionConflictError);
      expect((await s.getFlow('same'))?.flow.version).toBe(1);
    });
  });

  describe('credentials: insertCredential', () => {
    it('inserts a new id, refuses a taken one and leaves it untouched', async () => {
      const s = await open();
      expect(await s.insertCredential({ id: 'c', name: 'first', type: 't', data: 'enc:1', createdAt: 1, updatedAt: 1 })).toBe(true);
      expect(await s.insertCredential({ id: 'c', name: 'second', type: 't', data: 'enc:2', createdAt: 2, updatedAt: 2 })).toBe(false);
      expect(await s.getCredential('c')).toMatchObject({ name: 'first', data: 'enc:1', updatedAt: 1 });
    });
  });

  describe('interruptions (poison runs)', () => {
    it('counts interruptions of pending invocations durably; a clean stop takes one back in advance', async () => {
      const s = await open();
      const run = makeRun();
      const [a, b] = [makeInvocation(run.id, 1), makeInvocation(run.id, 2)];
      await s.acceptRun(run, [a, b]);
      await s.recordInterruptions([a.id]);
      await s.recordInterruptions([a.id, b.id]);
      let [resumable] = await s.listResumableRuns();
      expect(resumable!.pending.map((i) => i.interruptions ?? 0)).toEqual([2, 1]);
      await s.recordCleanStop([run.id]);
      [resumable] = await s.listResumableRuns();
      expect(resumable!.pending.map((i) => i.interruptions ?? 0)).toEqual([1, 0]);
      // Only pending invocations count: a finished one keeps its number.
      await s.completeInvocation({ invocation: { id: a.id, status: 'succeeded', attempt: 1, outputs: [], error: null, startedAt: 1, finishedAt: 2 }, next: [] });
      await s.recordInterruptions([a.id, b.id]);
      expect((await s.listInvocations(run.id)).map((i) => i.interruptions ?? 0)).toEqual([1, 1]);
      await s.recordInterruptions([]);
      await s.recordCleanStop([]);
    });
  });

  describe('message limits', () => {
    it('a message over the size limit throws UnstorableMessageError synchronously and nothing is written', async () => {
      const s = await open();
      const run = makeRun({ input: { payload: 'x'.repeat(17 * 1024 * 1024) } });
      let thrown: unknown;
      try {
        void s.acceptRun(run, []);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(UnstorableMessageError);
      expect(thrown).toMatchObject({ reason: 'size', message: expect.stringMatching(/the input of run .* is 17\.0 MB of JSON, over the 16\.0 MB limit \(FLOWCREW_MAX_MESSAGE_BYTES\)/) });
      expect(await s.getRun(run.id)).toBeNull();
    });

    it('an output nested too deep, or not JSON, fails the completion synchronously; the invocation stays pending', async () => {
      const s = await open();
      const run = makeRun();
      const inv = makeInvocation(run.id, 1);
      await s.acceptRun(run, [inv]);
      const complete = (msg: unknown) => () =>
        s.completeInvocation({
          invocation: { id: inv.id, status: 'succeeded', attempt: 1, outputs: [{ port: 0, msg }], error: null, startedAt: 1, finishedAt: 2 },
          next: [makeInvocation(run.id, 2, { input: msg })],
        });
      expect(complete(nested(129))).toThrow(expect.objectContaining({ name: 'UnstorableMessageError', reason: 'depth', message: expect.stringMatching(/more than 128 levels deep/) }));
      expect(complete(nested(5000))).toThrow(expect.objectContaining({ reason: 'depth' }));
      expect(complete({ payload: 10n })).toThrow(expect.objectContaining({ reason: 'type', message: expect.stringMatching(/not JSON-serialisable/) }));
      expect((await s.listInvocations(run.id)).map((i) => i.status)).toEqual(['pending']);
      // Within the limits it is stored as usual.
      await complete(nested(120))();
      expect((await s.listInvocations(run.id)).map((i) => i.status)).toEqual(['succeeded', 'pending']);
    });
  });
}
