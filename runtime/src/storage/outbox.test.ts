/**
 * The queue mode's outbox deletes on a real PostgreSQL (a main's relay removing the rows of runs it handed over): they
 * wait for the writer's next transaction and go in it as one statement, or on their own when the writer stays idle;
 * either way every row is gone once its promise settles, and nothing else the main writes is held back.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sharedPostgresSchema } from '../testing/storage-backends.ts';
import type { SqlStorage } from './sql-storage.ts';
import { makeRun } from './fixtures.ts';

const storage = sharedPostgresSchema('outbox');

const queued = () => makeRun({ flowId: `f-${randomBytes(3).toString('hex')}`, status: 'queued', startedAt: null });
const inOutbox = async (s: SqlStorage, ids: string[]) => (await s.outbox!.pending(10_000)).filter((row) => ids.includes(row.runId)).length;

describe('RunOutbox.remove (real PostgreSQL)', () => {
  it('deletes of several hand-overs ride in the next acceptance’s transaction; every row is gone when they settle', async () => {
    const s = await storage();
    const first = [queued(), queued(), queued()];
    await Promise.all(first.map((run) => s.acceptRun(run, [], { outbox: true })));
    expect(await inOutbox(s, first.map((r) => r.id))).toBe(3);
    const commits: number[] = [];
    s.observeCommits((commit) => commits.push(commit.writes));
    // Two hand-overs, then an acceptance: one transaction, in which the two hand-overs' deletes are ONE write.
    const removed = [s.outbox!.remove([first[0]!.id]), s.outbox!.remove([first[1]!.id, first[2]!.id])];
    const next = queued();
    await Promise.all([...removed, s.acceptRun(next, [], { outbox: true })]);
    expect(commits).toEqual([2]);
    expect(await inOutbox(s, first.map((r) => r.id))).toBe(0);
    expect(await inOutbox(s, [next.id])).toBe(1);
    expect((await s.getRun(next.id))?.status).toBe('queued');
  });

  it('an idle writer deletes on its own, without waiting for another write', async () => {
    const s = await storage();
    const runs = [queued(), queued()];
    await Promise.all(runs.map((run) => s.acceptRun(run, [], { outbox: true })));
    await s.outbox!.remove(runs.map((r) => r.id));
    expect(await inOutbox(s, runs.map((r) => r.id))).toBe(0);
  });

  it('closing the storage writes the deletes still waiting', async () => {
    const s = await storage();
    const runs = [queued(), queued()];
    await Promise.all(runs.map((run) => s.acceptRun(run, [], { outbox: true })));
    const removed = s.outbox!.remove(runs.map((r) => r.id));
    await s.close();
    await removed;
    const other = await storage();
    expect(await inOutbox(other, runs.map((r) => r.id))).toBe(0);
  });
});
