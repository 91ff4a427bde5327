/**
 * RunLeases.claimToRun on a real PostgreSQL (a queue worker taking a batch of runs): the claim and the start are one
 * statement, so what it answers must still say exactly which runs this worker started, and two workers racing for
 * the same runs must split them, each run claimed and started once.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sharedPostgresSchema } from '../testing/storage-backends.ts';
import type { InvocationRecord, RunRecord, Storage } from './types.ts';

const openStorage = sharedPostgresSchema('claim');
async function storageOf(owner?: string, ttlMs = 30_000): Promise<Storage> {
  const storage = await openStorage();
  if (owner) storage.leases!.hold({ owner, ttlMs });
  return storage;
}

let next = 0;
function run(flowId: string, flowVersion: number, status: RunRecord['status'], startedAt: number | null = null): RunRecord {
  return { id: `r${++next}-${randomBytes(2).toString('hex')}`, flowId, flowVersion, status, triggerNodeId: null, input: {}, error: null, parentRunId: null, createdAt: Date.now() + next, startedAt, finishedAt: null };
}

function invocation(r: RunRecord, seq: number, status: InvocationRecord['status']): InvocationRecord {
  return { id: `${r.id}.${seq}`, runId: r.id, nodeId: `n${seq}`, nodeType: 'change', status, attempt: status === 'pending' ? 0 : 1, input: { seq }, outputs: null, error: null, parentId: null, seq, createdAt: r.createdAt, startedAt: null, finishedAt: null };
}

async function stored(storage: Storage, id: string) {
  const r = await storage.getRun(id);
  return r && { status: r.status, startedAt: r.startedAt };
}

describe('RunLeases.claimToRun (real PostgreSQL)', () => {
  it('claims and starts the queued runs of a startable revision in one go, answering them as read before the start', async () => {
    const main = await storageOf();
    await main.saveFlow({ id: 'f', name: 'f', version: 2, nodes: [] });
    const startable = run('f', 2, 'queued');
    const otherRevision = run('f', 1, 'queued');
    for (const r of [startable, otherRevision]) await main.acceptRun(r, [], { outbox: true });
    // A running run whose process died (its lease ran out): taken over, not started again.
    const dead = await storageOf('dead', 1);
    const takenOver = run('f', 2, 'running', 1_000);
    await dead.acceptRun(takenOver, []);
    await new Promise((resolve) => setTimeout(resolve, 5));

    const worker = await storageOf('worker');
    const claimed = await worker.leases!.claimToRun([startable.id, otherRevision.id, takenOver.id], [{ flowId: 'f', version: 2 }]);

    expect(claimed.runs.map((r) => [r.run.id, r.run.status]).sort()).toEqual(
      [[startable.id, 'queued'], [otherRevision.id, 'queued'], [takenOver.id, 'running']].sort(),
    );
    expect([...claimed.started.keys()]).toEqual([startable.id]);
    const startedAt = claimed.started.get(startable.id)!;
    expect(startedAt).toBeGreaterThan(0);
    expect(await stored(main, startable.id)).toEqual({ status: 'running', startedAt });
    expect(await stored(main, otherRevision.id)).toEqual({ status: 'queued', startedAt: null });
    expect(await stored(main, takenOver.id)).toEqual({ status: 'running', startedAt: 1_000 });
    // All three are the worker's now: a second claimer gets none of them.
    const late = await (await storageOf('late')).leases!.claimToRun([startable.id, otherRevision.id, takenOver.id], [{ flowId: 'f', version: 2 }]);
    expect(late.runs).toEqual([]);
    expect(late.started.size).toBe(0);
  });

  it('two workers racing for the same batch split it: every run claimed and started exactly once', async () => {
    const main = await storageOf();
    await main.saveFlow({ id: 'g', name: 'g', version: 1, nodes: [] });
    const runs = Array.from({ length: 40 }, () => run('g', 1, 'queued'));
    await Promise.all(runs.map((r) => main.acceptRun(r, [], { outbox: true })));
    const ids = runs.map((r) => r.id);
    const [a, b] = await Promise.all([storageOf('worker-a'), storageOf('worker-b')]);
    // Each takes the batch in a different order (the order duplicate deliveries may bring it in).
    const [ofA, ofB] = await Promise.all([a.leases!.claimToRun(ids, [{ flowId: 'g', version: 1 }]), b.leases!.claimToRun([...ids].reverse(), [{ flowId: 'g', version: 1 }])]);

    const claimedA = ofA.runs.map((r) => r.run.id);
    const claimedB = ofB.runs.map((r) => r.run.id);
    expect([...claimedA, ...claimedB].sort()).toEqual([...ids].sort());
    expect([...ofA.started.keys()].sort()).toEqual([...claimedA].sort());
    expect([...ofB.started.keys()].sort()).toEqual([...claimedB].sort());
    for (const r of runs) expect((await stored(main, r.id))?.status).toBe('running');
  });

  it('answers each claimed run with its pending invocations and highest sequence number, in arrival order, a run held already included', async () => {
    const main = await storageOf();
    await main.saveFlow({ id: 'h', name: 'h', version: 1, nodes: [] });
    const [first, second, bare] = [run('h', 1, 'queued'), run('h', 1, 'queued'), run('h', 1, 'queued')];
    await main.acceptRun(first, [invocation(first, 0, 'succeeded'), invocation(first, 1, 'pending')], { outbox: true });
    // The highest sequence number is a failed invocation's, after the pending one.
    await main.acceptRun(second, [invocation(second, 0, 'succeeded'), invocation(second, 1, 'pending'), invocation(second, 2, 'pending'), invocation(second, 3, 'failed')], { outbox: true });
    await main.acceptRun(bare, [], { outbox: true });
    // Another live owner's run: not claimed, nothing of it answered.
    const other = await storageOf('other');
    const theirs = run('h', 1, 'running', 1_000);
    await other.acceptRun(theirs, [invocation(theirs, 0, 'pending')]);

    const worker = await storageOf('worker');
    const ids = [bare.id, theirs.id, second.id, first.id];
    const claimed = await worker.leases!.claimToRun(ids, []);
    const answer = (c: typeof claimed) => c.runs.map((r) => ({ id: r.run.id, status: r.run.status, pending: r.pending.map((i) => [i.id, i.status, i.input]), maxSeq: r.maxSeq }));
    const expected = [
      { id: first.id, status: 'queued', pending: [[`${first.id}.1`, 'pending', { seq: 1 }]], maxSeq: 1 },
      { id: second.id, status: 'queued', pending: [[`${second.id}.1`, 'pending', { seq: 1 }], [`${second.id}.2`, 'pending', { seq: 2 }]], maxSeq: 3 },
      { id: bare.id, status: 'queued', pending: [], maxSeq: 0 },
    ];
    expect(answer(claimed)).toEqual(expected);
    expect(claimed.started.size).toBe(0);

    // The same runs delivered again (a duplicate job), now startable here: held already, so claimed again and started.
    const again = await worker.leases!.claimToRun(ids, [{ flowId: 'h', version: 1 }]);
    expect(answer(again)).toEqual(expected);
    expect([...again.started.keys()].sort()).toEqual([first.id, second.id, bare.id].sort());
    expect(await stored(main, theirs.id)).toEqual({ status: 'running', startedAt: 1_000 });
  });

  it('lists the queued runs nobody holds, accepted before a time and no longer in the outbox, oldest first (to enqueue again)', async () => {
    const main = await storageOf();
    await main.saveFlow({ id: 'u', name: 'u', version: 1, nodes: [] });
    const base = Date.now() - 60_000;
    const at = (r: RunRecord, createdAt: number) => ({ ...r, createdAt });
    const [older, old, inOutbox, young] = [at(run('u', 1, 'queued'), base + 1), at(run('u', 1, 'queued'), base + 2), at(run('u', 1, 'queued'), base + 3), at(run('u', 1, 'queued'), base + 50_000)];
    for (const r of [old, older, inOutbox, young]) await main.acceptRun(r, [], { outbox: true });
    await main.outbox!.remove([older.id, old.id, young.id]);
    const held = at(run('u', 1, 'queued'), base + 4);
    await (await storageOf('holder')).acceptRun(held, []);
    const stale = await main.leases!.unowned(base + 10_000, 100);
    expect(stale.filter((id) => [older, old, inOutbox, young, held].some((r) => r.id === id))).toEqual([older.id, old.id]);
  });

  it('answers the runs of a flow waiting for a slot in arrival order: queued, held by nobody or with their lease run out', async () => {
    const main = await storageOf();
    await main.saveFlow({ id: 'w', name: 'w', version: 1, nodes: [] });
    const base = Date.now() - 60_000;
    const at = (r: RunRecord, createdAt: number) => ({ ...r, createdAt });
    const [second, first, running] = [at(run('w', 1, 'queued'), base + 2), at(run('w', 1, 'queued'), base + 1), at(run('w', 1, 'running', base), base)];
    for (const r of [second, first, running]) await main.acceptRun(r, [], { outbox: true });
    const expired = at(run('w', 1, 'queued'), base + 3);
    await (await storageOf('gone', 1)).acceptRun(expired, []);
    const taken = at(run('w', 1, 'queued'), base + 4);
    await (await storageOf('alive')).acceptRun(taken, []);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await main.leases!.waitingForSlot('w', 10)).toEqual([first.id, second.id, expired.id]);
    expect(await main.leases!.waitingForSlot('w', 2)).toEqual([first.id, second.id]);
  });
});
