/**
 * The one behavioural test suite for `Storage`, run against every implementation (sqlite.test.ts, postgres.test.ts)
 * so both dialects are held to exactly the same contract.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FlowDocument } from '../flow/types.ts';
import { flowDoc, makeInvocation, makeRun } from './fixtures.ts';
import { defineHardeningTests } from './hardening.suite.ts';
import { MIGRATIONS, migrate } from './migrations.ts';
import { SqlStorage } from './sql-storage.ts';
import {
  InvocationNotPendingError,
  VersionConflictError,
  type RunRecord,
  type Storage,
} from './types.ts';

export interface OpenedStorage {
  storage: Storage;
  /** Open the same database again (after `storage.close()`); absent when the database cannot outlive its handle. */
  reopen?: () => Promise<Storage>;
}

export interface StorageHarness {
  /** A fresh, empty, migrated storage for one test. */
  open(): Promise<OpenedStorage>;
  /** A fresh, empty storage with no schema at all (to test migrations). */
  openBlank(): Promise<SqlStorage>;
}

export { flowDoc, makeInvocation, makeRun } from './fixtures.ts';

export function defineStorageSuite(name: string, harness: StorageHarness): void {
  describe(`Storage contract: ${name}`, () => {
    const opened: Storage[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close().catch(() => {})));
    });
    async function open(): Promise<Storage & Partial<SqlStorage>> {
      const o = await harness.open();
      opened.push(o.storage);
      return o.storage;
    }
    async function openWithReopen(): Promise<OpenedStorage> {
      const o = await harness.open();
      opened.push(o.storage);
      return o;
    }

    describe('schema', () => {
      it('migrate() is idempotent and recorded once per version', async () => {
        const s = await open();
        await s.migrate();
        await s.migrate();
        expect(s).toBeInstanceOf(SqlStorage);
        const rows = await (s as SqlStorage).driver.all('SELECT version, name FROM schema_migrations ORDER BY version');
        expect(rows.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
      });

      it('upgrades a database created by an older version, keeping its data', async () => {
        const s = await harness.openBlank();
        opened.push(s);
        await migrate(s.driver, MIGRATIONS.slice(0, 1)); // as an install of schema version 1 left it
        await s.driver.writeBatch([
          { sql: `INSERT INTO runs (id, flow_id, flow_version, status, created_at) VALUES ('old', 'f', 1, 'succeeded', 5)` },
        ]);
        await s.migrate();
        const rows = await s.driver.all('SELECT version FROM schema_migrations ORDER BY version');
        expect(rows.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
        expect(await s.getRun('old')).toMatchObject({ id: 'old', status: 'succeeded', createdAt: 5, input: null });
        const run = makeRun();
        await s.acceptRun(run, [makeInvocation(run.id, 1, { usage: { promptTokens: 1 } })]);
        expect((await s.listInvocations(run.id))[0]!.usage).toEqual({ promptTokens: 1 });
      });
    });

    describe('flows', () => {
      it('first save is version 1; each save increments; createdAt is kept', async () => {
        const s = await open();
        const first = await s.saveFlow(flowDoc('a', { version: 42 }));
        expect(first.flow.version).toBe(1);
        expect(first.deployedVersion).toBeNull();
        expect(first.createdAt).toBe(first.updatedAt);
        const second = await s.saveFlow(flowDoc('a', { name: 'Renamed' }));
        expect(second.flow.version).toBe(2);
        expect(second.flow.name).toBe('Renamed');
        expect(second.createdAt).toBe(first.createdAt);
        const got = await s.getFlow('a');
        expect(got?.flow).toEqual({ ...flowDoc('a', { name: 'Renamed' }), version: 2 });
        expect(await s.getFlow('missing')).toBeNull();
      });

      it('lists flows ordered by name, case-insensitively', async () => {
        const s = await open();
        await s.saveFlow(flowDoc('z', { name: 'beta' }));
        await s.saveFlow(flowDoc('x', { name: 'Gamma' }));
        await s.saveFlow(flowDoc('y', { name: 'Alpha' }));
        expect((await s.listFlows()).map((f) => f.flow.id)).toEqual(['y', 'z', 'x']);
      });

      it('expectedVersion: saves when it matches, VersionConflictError when it does not', async () => {
        const s = await open();
        await s.saveFlow(flowDoc('a'));
        await s.saveFlow(flowDoc('a', { description: 'v2' })); // an unchanged document would not be a new version
        const third = await s.saveFlow(flowDoc('a', { description: 'v3' }), 2);
        expect(third.flow.version).toBe(3);

        const conflict = await s.saveFlow(flowDoc('a', { description: 'stale' }), 2).catch((e: unknown) => e);
        expect(conflict).toBeInstanceOf(VersionConflictError);
        expect(conflict).toMatchObject({ flowId: 'a', expected: 2, actual: 3 });
        const stored = await s.getFlow('a');
        expect(stored?.flow.version).toBe(3);
        expect(stored?.flow.description).toBe('v3');
      });

      it('expectedVersion 0 creates only when absent; other versions of a missing flow conflict', async () => {
        const s = await open();
        expect((await s.saveFlow(flowDoc('new'), 0)).flow.version).toBe(1);
        await expect(s.saveFlow(flowDoc('new'), 0)).rejects.toMatchObject({ name: 'VersionConflictError', actual: 1 });
        await expect(s.saveFlow(flowDoc('ghost'), 5)).rejects.toMatchObject({ expected: 5, actual: 0 });
        expect(await s.getFlow('ghost')).toBeNull();
      });

      it('concurrent saves with the same expectedVersion: exactly one wins', async () => {
        const s = await open();
        await s.saveFlow(flowDoc('race'));
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) => s.saveFlow(flowDoc('race', { description: `writer ${i}` }), 1)),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        expect(won).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(VersionConflictError);
        const stored = await s.getFlow('race');
        expect(stored?.flow.version).toBe(2);
        expect(stored?.flow.description).toBe((won[0] as PromiseFulfilledResult<{ flow: FlowDocument }>).value.flow.description);
      });

      it('setDeployed marks and clears the deployed revision; unknown flow rejects', async () => {
        const s = await open();
        await s.saveFlow(flowDoc('a'));
        await s.setDeployed('a', 1);
        expect((await s.getFlow('a'))?.deployedVersion).toBe(1);
        await s.saveFlow({ ...flowDoc('a'), name: 'edited after deploy' });
        const edited = await s.getFlow('a');
        expect(edited?.deployedVersion).toBe(1); // editing does not redeploy
        expect(edited?.flow).toMatchObject({ version: 2, name: 'edited after deploy' });
        expect(edited?.deployedFlow).toMatchObject({ version: 1, name: flowDoc('a').name }); // the deployed snapshot stays
        await expect(s.setDeployed('a', 1)).rejects.toThrow(VersionConflictError); // no longer the current revision
        await s.setDeployed('a', null);
        expect((await s.getFlow('a'))?.deployedVersion).toBeNull();
        expect((await s.getFlow('a'))?.deployedFlow).toBeNull();
        await expect(s.setDeployed('nope', 1)).rejects.toThrow(/no such flow/);
      });

      it('deleteFlow reports whether it deleted', async () => {
        const s = await open();
        await s.saveFlow(flowDoc('a'));
        expect(await s.deleteFlow('a')).toBe(true);
        expect(await s.deleteFlow('a')).toBe(false);
        expect(await s.getFlow('a')).toBeNull();
      });
    });

    describe('runs: dashboard timings', () => {
      it('listRunTimings returns status and timing of runs created since a time, newest first', async () => {
        const s = await open();
        const old = makeRun({ createdAt: 1_000, startedAt: 1_001 });
        const a = makeRun({ createdAt: 5_000, startedAt: 5_010, finishedAt: 5_110, status: 'succeeded' });
        const b = makeRun({ flowId: 'f2', createdAt: 6_000, startedAt: 6_000, finishedAt: 6_500, status: 'failed' });
        for (const r of [old, a, b]) await s.acceptRun(r, []);
        expect(await s.listRunTimings(2_000, 100)).toEqual([
          { flowId: 'f2', status: 'failed', createdAt: 6_000, startedAt: 6_000, finishedAt: 6_500 },
          { flowId: 'f1', status: 'succeeded', createdAt: 5_000, startedAt: 5_010, finishedAt: 5_110 },
        ]);
        expect(await s.listRunTimings(2_000, 1)).toHaveLength(1);
      });
    });

    describe('runs: durable path', () => {
      it('acceptRun stores the run and its first invocations (JSON round-trips)', async () => {
        const s = await open();
        const run = makeRun({ input: { payload: { nested: [1, 'two', null, true] } } });
        const first = [makeInvocation(run.id, 1), makeInvocation(run.id, 2, { input: undefined })];
        await s.acceptRun(run, first);
        expect(await s.getRun(run.id)).toEqual(run);
        const invs = await s.listInvocations(run.id);
        expect(invs).toEqual([first[0], { ...first[1], input: null }]);
        expect(await s.getRun('missing')).toBeNull();
      });

      it('acceptRun is atomic: a failing invocation insert leaves no run behind', async () => {
        const s = await open();
        const run = makeRun();
        const dup = makeInvocation(run.id, 1);
        await expect(s.acceptRun(run, [dup, { ...dup, seq: 2 }])).rejects.toThrow();
        expect(await s.getRun(run.id)).toBeNull();
        expect(await s.listInvocations(run.id)).toEqual([]);
      });

      it('completeInvocation commits the result, the next invocations and the run update together', async () => {
        const s = await open();
        const run = makeRun();
        const trigger = makeInvocation(run.id, 1);
        await s.acceptRun(run, [trigger]);
        const next = [makeInvocation(run.id, 2, { parentId: trigger.id }), makeInvocation(run.id, 3, { parentId: trigger.id })];
        await s.completeInvocation({
          invocation: {
            id: trigger.id,
            status: 'succeeded',
            attempt: 1,
            outputs: [{ port: 0, msg: { payload: 'out' } }],
            error: null,
            startedAt: 10,
            finishedAt: 20,
            usage: { model: 'gpt-x', promptTokens: 12, completionTokens: 3, costUsd: 0.001 },
          },
          next,
          run: { id: run.id, status: 'waiting' },
        });
        const invs = await s.listInvocations(run.id);
        expect(invs.map((i) => [i.seq, i.status])).toEqual([
          [1, 'succeeded'],
          [2, 'pending'],
          [3, 'pending'],
        ]);
        expect(invs[0]).toMatchObject({ attempt: 1, outputs: [{ port: 0, msg: { payload: 'out' } }], startedAt: 10, finishedAt: 20 });
        expect(invs[0]!.usage).toEqual({ model: 'gpt-x', promptTokens: 12, completionTokens: 3, costUsd: 0.001 });
        expect(invs[1]).toEqual(next[0]);
        const stored = await s.getRun(run.id);
        expect(stored).toEqual({ ...run, status: 'waiting' }); // untouched fields kept
      });

      it('completeInvocation is atomic: if any part fails, nothing of it is written', async () => {
        const s = await open();
        const run = makeRun();
        const trigger = makeInvocation(run.id, 1);
        await s.acceptRun(run, [trigger]);
        // The "next" invocation reuses an existing id: the insert fails after the update ran in the transaction.
        await expect(
          s.completeInvocation({
            invocation: { id: trigger.id, status: 'succeeded', attempt: 1, outputs: [], error: null, startedAt: 1, finishedAt: 2 },
            next: [makeInvocation(run.id, 2), makeInvocation(run.id, 3, { id: trigger.id })],
            run: { id: run.id, status: 'succeeded', finishedAt: 3 },
          }),
        ).rejects.toThrow();
        expect(await s.listInvocations(run.id)).toEqual([trigger]);
        expect(await s.getRun(run.id)).toEqual(run);
      });

      it('completeInvocation of a non-pending invocation rejects with InvocationNotPendingError and writes nothing', async () => {
        const s = await open();
        const run = makeRun();
        const trigger = makeInvocation(run.id, 1);
        await s.acceptRun(run, [trigger]);
        await s.cancelRun(run.id, 99);
        const err = await s
          .completeInvocation({
            invocation: { id: trigger.id, status: 'succeeded', attempt: 1, outputs: [], error: null, startedAt: 1, finishedAt: 2 },
            next: [makeInvocation(run.id, 2)],
            run: { id: run.id, status: 'succeeded' },
          })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(InvocationNotPendingError);
        expect((await s.getRun(run.id))?.status).toBe('cancelled');
        expect((await s.listInvocations(run.id)).map((i) => i.status)).toEqual(['cancelled']);
        await expect(
          s.completeInvocation({
            invocation: { id: 'unknown', status: 'succeeded', attempt: 1, outputs: null, error: null, startedAt: 1, finishedAt: 2 },
            next: [],
          }),
        ).rejects.toBeInstanceOf(InvocationNotPendingError);
      });

      it('updateRun writes only the given fields; null clears', async () => {
        const s = await open();
        const run = makeRun({ error: 'old' });
        await s.acceptRun(run, []);
        await s.updateRun({ id: run.id, status: 'failed', finishedAt: 5 });
        expect(await s.getRun(run.id)).toEqual({ ...run, status: 'failed', finishedAt: 5 });
        await s.updateRun({ id: run.id, error: null });
        expect((await s.getRun(run.id))?.error).toBeNull();
        await s.updateRun({ id: run.id }); // nothing to write: no-op
      });

      it('listResumableRuns returns active runs with their pending invocations in seq order and maxSeq', async () => {
        const s = await open();
        const running = makeRun({ createdAt: 1 });
        const queued = makeRun({ status: 'queued', createdAt: 2, startedAt: null });
        const waiting = makeRun({ status: 'waiting', createdAt: 3 });
        const done = makeRun({ status: 'succeeded', createdAt: 0, finishedAt: 5 });
        await s.acceptRun(running, [
          makeInvocation(running.id, 1, { status: 'succeeded' }),
          makeInvocation(running.id, 4),
          makeInvocation(running.id, 2),
          makeInvocation(running.id, 7, { status: 'failed' }),
        ]);
        await s.acceptRun(queued, [makeInvocation(queued.id, 1)]);
        await s.acceptRun(waiting, []);
        await s.acceptRun(done, [makeInvocation(done.id, 1)]); // a stray pending one in a finished run: ignored

        const resumable = await s.listResumableRuns();
        expect(resumable.map((r) => r.run.id)).toEqual([running.id, queued.id, waiting.id]);
        expect(resumable[0]!.pending.map((i) => i.seq)).toEqual([2, 4]);
        expect(resumable[0]!.maxSeq).toBe(7);
        expect(resumable[1]!.pending).toHaveLength(1);
        expect(resumable[1]!.run).toEqual(queued);
        expect(resumable[2]).toEqual({ run: waiting, pending: [], maxSeq: 0 });
      });

      it('cancelRun cancels pending invocations and the run together; finished work is kept', async () => {
        const s = await open();
        const run = makeRun();
        const doneInv = makeInvocation(run.id, 1, { status: 'succeeded', finishedAt: 3 });
        await s.acceptRun(run, [doneInv, makeInvocation(run.id, 2), makeInvocation(run.id, 3)]);
        await s.cancelRun(run.id, 1234);
        expect(await s.getRun(run.id)).toMatchObject({ status: 'cancelled', finishedAt: 1234 });
        const invs = await s.listInvocations(run.id);
        expect(invs[0]).toEqual(doneInv);
        expect(invs.slice(1).map((i) => [i.status, i.finishedAt])).toEqual([
          ['cancelled', 1234],
          ['cancelled', 1234],
        ]);
        expect(await s.listResumableRuns()).toEqual([]);
      });

      it('cancelRun leaves an already finished run as it was', async () => {
        const s = await open();
        const run = makeRun({ status: 'succeeded', finishedAt: 50 });
        await s.acceptRun(run, []);
        await s.cancelRun(run.id, 99);
        expect(await s.getRun(run.id)).toEqual(run);
      });
    });

    describe('runs: history', () => {
      it('listRuns: newest first, filters by flow and status, limit', async () => {
        const s = await open();
        const runs = [
          makeRun({ flowId: 'a', createdAt: 10, status: 'succeeded' }),
          makeRun({ flowId: 'b', createdAt: 20, status: 'failed' }),
          makeRun({ flowId: 'a', createdAt: 30, status: 'failed' }),
          makeRun({ flowId: 'a', createdAt: 40, status: 'running' }),
        ];
        for (const r of runs) await s.acceptRun(r, []);
        const ids = (list: RunRecord[]) => list.map((r) => r.id);
        expect(ids(await s.listRuns({}))).toEqual([runs[3]!.id, runs[2]!.id, runs[1]!.id, runs[0]!.id]);
        expect(ids(await s.listRuns({ flowId: 'a' }))).toEqual([runs[3]!.id, runs[2]!.id, runs[0]!.id]);
        expect(ids(await s.listRuns({ status: 'failed' }))).toEqual([runs[2]!.id, runs[1]!.id]);
        expect(ids(await s.listRuns({ flowId: 'a', status: 'failed' }))).toEqual([runs[2]!.id]);
        expect(ids(await s.listRuns({ limit: 2 }))).toEqual([runs[3]!.id, runs[2]!.id]);
        expect(await s.listRuns({ flowId: 'zzz' })).toEqual([]);
        expect((await s.listRuns({ flowId: 'b' }))[0]).toEqual(runs[1]);
      });

      it('listRuns: `before` pages through every run exactly once, even with equal timestamps', async () => {
        const s = await open();
        const all: RunRecord[] = [];
        for (let i = 0; i < 23; i++) all.push(makeRun({ createdAt: 1000 + Math.floor(i / 4) })); // ties of 4
        await Promise.all(all.map((r) => s.acceptRun(r, [])));
        const expected = [...all]
          .sort((x, y) => y.createdAt - x.createdAt || (x.id < y.id ? 1 : x.id > y.id ? -1 : 0))
          .map((r) => r.id);
        const seen: string[] = [];
        let before: string | undefined;
        for (;;) {
          const page = await s.listRuns({ limit: 5, before });
          if (page.length === 0) break;
          seen.push(...page.map((r) => r.id));
          before = page.at(-1)!.id;
        }
        expect(seen).toEqual(expected);
        expect(await s.listRuns({ before: 'unknown-run' })).toEqual([]);
      });

      it('deleteRun deletes a finished run with its invocations, never an active one', async () => {
        const s = await open();
        const finished = makeRun({ status: 'failed', finishedAt: 9 });
        const active = makeRun();
        await s.acceptRun(finished, [makeInvocation(finished.id, 1, { status: 'failed' })]);
        await s.acceptRun(active, [makeInvocation(active.id, 1)]);
        await s.deleteRun(finished.id);
        await s.deleteRun(active.id);
        await s.deleteRun('missing');
        expect(await s.getRun(finished.id)).toBeNull();
        expect(await s.listInvocations(finished.id)).toEqual([]);
        expect(await s.getRun(active.id)).toEqual(active);
        expect(await s.listInvocations(active.id)).toHaveLength(1);
      });

      it('pruneRuns deletes finished runs created before the cutoff, in chunks, and counts them', async () => {
        const s = await open();
        const old: RunRecord[] = [];
        for (let i = 0; i < 620; i++) old.push(makeRun({ status: i % 2 ? 'succeeded' : 'cancelled', createdAt: 100 + i, finishedAt: 2000 }));
        const oldActive = makeRun({ status: 'waiting', createdAt: 50 });
        const recent = makeRun({ status: 'succeeded', createdAt: 5000, finishedAt: 5001 });
        await Promise.all(old.map((r) => s.acceptRun(r, [makeInvocation(r.id, 1, { status: 'succeeded' })])));
        await s.acceptRun(oldActive, [makeInvocation(oldActive.id, 1)]);
        await s.acceptRun(recent, []);

        expect(await s.pruneRuns(1000)).toBe(620);
        expect((await s.listRuns({ limit: 1000 })).map((r) => r.id).sort()).toEqual([oldActive.id, recent.id].sort());
        expect(await s.listInvocations(old[0]!.id)).toEqual([]);
        expect(await s.listInvocations(oldActive.id)).toHaveLength(1);
        expect(await s.pruneRuns(1000)).toBe(0);
      });
    });

    describe('context', () => {
      it('round-trips awkward text exactly: quotes, backslashes, semicolons, SQL, placeholders, unicode', async () => {
        const s = await open();
        const nasty = `it's "quoted" \\ back\\slash ; DROP TABLE runs; -- ? $1 :x \u00e9\u{1F600} \n\t end`;
        await s.setContext(`scope ${nasty}`, `key ${nasty}`, { text: nasty, list: [nasty] });
        expect(await s.loadContext(`scope ${nasty}`)).toEqual({ [`key ${nasty}`]: { text: nasty, list: [nasty] } });
        const saved = await s.saveFlow({ ...flowDoc('nasty'), name: nasty });
        expect((await s.getFlow('nasty'))?.flow.name).toBe(nasty);
        expect(saved.flow.name).toBe(nasty);
      });

      it('stores JSON values per scope; overwrite; undefined deletes', async () => {
        const s = await open();
        await s.setContext('global', 'count', 1);
        await s.setContext('global', 'obj', { a: [1, { b: 'c' }] });
        await s.setContext('global', 'nothing', null);
        await s.setContext('flow:f1', 'count', 99);
        await s.setContext('global', 'count', 2);
        expect(await s.loadContext('global')).toEqual({ count: 2, obj: { a: [1, { b: 'c' }] }, nothing: null });
        expect(await s.loadContext('flow:f1')).toEqual({ count: 99 });
        await s.setContext('global', 'obj', undefined);
        expect(await s.loadContext('global')).toEqual({ count: 2, nothing: null });
        expect(await s.loadContext('empty')).toEqual({});
      });

      it('an unserialisable value fails with a clear error, nothing written (a message throws before queueing)', async () => {
        const s = await open();
        await expect(s.setContext('global', 'big', 10n)).rejects.toThrow(/context global\/big: it is not JSON-serialisable/);
        await expect(s.setContext('global', 'fn', () => 1)).rejects.toThrow(/a function is not JSON-serialisable/);
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        const run = makeRun({ input: cyclic });
        expect(() => s.acceptRun(run, [])).toThrow(/the input of run .*not JSON-serialisable/);
        expect(await s.loadContext('global')).toEqual({});
        expect(await s.getRun(run.id)).toBeNull();
      });
    });

    describe('credentials', () => {
      it('replaceCredentialData swaps the encrypted data only if it is still the expected one (key rotation)', async () => {
        const s = await open();
        await s.saveCredential({ id: 'r1', name: 'R', type: 'http', data: 'v2.old.a.b.c', createdAt: 1, updatedAt: 5 });
        expect(await s.replaceCredentialData('r1', 'v2.stale.a.b.c', 'v2.new.a.b.c')).toBe(false);
        expect(await s.replaceCredentialData('r1', 'v2.old.a.b.c', 'v2.new.a.b.c')).toBe(true);
        expect(await s.getCredential('r1')).toMatchObject({ data: 'v2.new.a.b.c', updatedAt: 5 });
        expect(await s.replaceCredentialData('gone', 'x', 'y')).toBe(false);
      });

      it('save (upsert keeps createdAt), get, list by name, delete', async () => {
        const s = await open();
        await s.saveCredential({ id: 'c1', name: 'Zeta', type: 'http', data: 'enc:1', createdAt: 1, updatedAt: 1 });
        await s.saveCredential({ id: 'c2', name: 'Alpha', type: 'openai', data: 'enc:2', createdAt: 2, updatedAt: 2 });
        await s.saveCredential({ id: 'c1', name: 'Zeta', type: 'http', data: 'enc:1b', createdAt: 999, updatedAt: 3 });
        expect(await s.getCredential('c1')).toEqual({ id: 'c1', name: 'Zeta', type: 'http', projectId: 'default', data: 'enc:1b', createdAt: 1, updatedAt: 3 });
        expect((await s.listCredentials()).map((c) => c.id)).toEqual(['c2', 'c1']);
        expect(await s.deleteCredential('c1')).toBe(true);
        expect(await s.deleteCredential('c1')).toBe(false);
        expect(await s.getCredential('c1')).toBeNull();
      });
    });

    describe('group commit', () => {
      it('many concurrent writes all resolve, are all stored, and share transactions', async () => {
        const s = await open();
        const before = { ...(s as SqlStorage).stats };
        const runs = Array.from({ length: 600 }, (_, i) => makeRun({ createdAt: i }));
        const writes: Promise<unknown>[] = [
          ...runs.map((r) => s.acceptRun(r, [makeInvocation(r.id, 1), makeInvocation(r.id, 2)])),
          ...Array.from({ length: 100 }, (_, i) => s.setContext('global', `k${i}`, i)),
          ...Array.from({ length: 20 }, (_, i) => s.saveFlow(flowDoc('hot', { description: `v${i}` }))), // same row, serialised in order
        ];
        await Promise.all(writes);
        const after = (s as SqlStorage).stats;
        const transactions = after.transactions - before.transactions;
        expect(transactions).toBeGreaterThan(0);
        expect(transactions).toBeLessThan(writes.length / 10); // batched, not one transaction per write
        expect(after.largestBatch).toBeGreaterThan(1);

        expect(await s.listRuns({ limit: 1000 })).toHaveLength(600);
        expect(await s.listInvocations(runs[599]!.id)).toHaveLength(2);
        expect(Object.keys(await s.loadContext('global'))).toHaveLength(100);
        expect((await s.getFlow('hot'))?.flow.version).toBe(20);
        expect((await s.listResumableRuns()).reduce((n, r) => n + r.pending.length, 0)).toBe(1200);
      });

      it('a bad write in a batch fails alone; the others in the same batch are stored', async () => {
        const s = await open();
        const existing = makeRun();
        await s.acceptRun(existing, []);
        const good1 = makeRun();
        const good2 = makeRun();
        const failedBefore = (s as SqlStorage).stats.failedBatches;
        const results = await Promise.allSettled([
          s.acceptRun(good1, [makeInvocation(good1.id, 1)]),
          s.acceptRun({ ...existing, flowId: 'other' }, [makeInvocation(existing.id, 2)]), // duplicate run id
          s.setContext('global', 'x', 'y'),
          s.acceptRun(good2, []),
        ]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
        expect((s as SqlStorage).stats.failedBatches).toBe(failedBefore + 1); // really shared one batch first
        expect(await s.getRun(good1.id)).toEqual(good1);
        expect(await s.getRun(good2.id)).toEqual(good2);
        expect(await s.getRun(existing.id)).toEqual(existing);
        expect(await s.listInvocations(existing.id)).toEqual([]); // the failed item's other statements rolled back
        expect(await s.loadContext('global')).toEqual({ x: 'y' });
      });

      it('close() flushes writes issued before it; writes after close reject', async () => {
        const o = await openWithReopen();
        const run = makeRun();
        const pending = o.storage.acceptRun(run, []);
        await o.storage.close();
        await expect(pending).resolves.toBeUndefined();
        await expect(o.storage.setContext('global', 'late', 1)).rejects.toThrow(/closed/);
        if (o.reopen) {
          const again = await o.reopen();
          opened.push(again);
          expect(await again.getRun(run.id)).toEqual(run);
        }
      });
    });

    defineHardeningTests(open);

    describe('durability', () => {
      it('data survives close and reopen', async () => {
        const o = await openWithReopen();
        if (!o.reopen) return; // in-memory database: nothing outlives the handle
        const run = makeRun({ status: 'running' });
        const inv = makeInvocation(run.id, 1);
        await o.storage.saveFlow(flowDoc('persist'));
        await o.storage.setDeployed('persist', 1);
        await o.storage.acceptRun(run, [inv]);
        await o.storage.setContext('global', 'k', { v: 1 });
        await o.storage.saveCredential({ id: 'c', name: 'n', type: 't', data: 'd', createdAt: 1, updatedAt: 1 });
        await o.storage.close();

        const s = await o.reopen();
        opened.push(s);
        await s.migrate(); // reopening an up-to-date database migrates nothing
        expect(await s.getFlow('persist')).toMatchObject({ flow: { version: 1 }, deployedVersion: 1 });
        expect(await s.listResumableRuns()).toEqual([{ run, pending: [inv], maxSeq: 1 }]);
        expect(await s.loadContext('global')).toEqual({ k: { v: 1 } });
        expect(await s.getCredential('c')).toMatchObject({ data: 'd' });
      });
    });
  });
}
