/**
 * A queued run's first completion on its worker (real PostgreSQL): the main stored the run with its trigger's
 * invocation and the first pending one; the worker claimed it (reading that pending row) and finishes the run in one
 * group commit. The completed invocation then goes into the run's compact history and its pending row is deleted,
 * instead of being updated: the run must read back exactly as with the UPDATE, and a cancel or another worker getting
 * there first must still fail the worker's write, as the UPDATE's pending condition did.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sharedPostgresSchema } from '../testing/storage-backends.ts';
import { INVOCATION_COLUMNS } from './run-compact.ts';
import { StoredPending } from './stored-pending.ts';
import type { SqlStorage } from './sql-storage.ts';
import { InvocationNotPendingError, type InvocationRecord, type RunRecord } from './types.ts';

const openStorage = sharedPostgresSchema('carried', (storage) => storage.saveFlow({ id: 'orders', name: 'orders', version: 1, nodes: [] }));
async function storageOf(owner?: string): Promise<SqlStorage> {
  const storage = await openStorage();
  if (owner) storage.leases!.hold({ owner, ttlMs: 30_000 });
  return storage;
}

let next = 0;
/** A webhook-like run as a queue-mode main accepts it: trigger (done) → a (pending); a → b → end when it runs. */
function queuedRun() {
  const now = Date.now() + ++next;
  const id = `0193a000-0000-7000-8000-${randomBytes(6).toString('hex')}`;
  const run: RunRecord = { id, flowId: 'orders', flowVersion: 1, status: 'queued', triggerNodeId: 'n0', input: { payload: { order: next } }, error: null, parentRunId: null, createdAt: now, startedAt: null, finishedAt: null };
  const invocation = (seq: number, status: InvocationRecord['status'], input: unknown, outputs: InvocationRecord['outputs']): InvocationRecord => ({
    id: `${id}.${seq}`, runId: id, nodeId: `n${seq}`, nodeType: seq === 0 ? 'webhook' : 'change', status, attempt: status === 'pending' ? 0 : 1, input, outputs, error: null,
    parentId: seq === 0 ? null : `${id}.${seq - 1}`, seq, createdAt: now + seq, startedAt: status === 'pending' ? null : now, finishedAt: status === 'pending' ? null : now,
  });
  const trigger = invocation(0, 'succeeded', null, [{ port: 0, msg: run.input as never }]);
  const a = invocation(1, 'pending', run.input, null);
  const b = invocation(2, 'pending', { payload: { order: next, a: true } }, null);
  return { run, trigger, a, b };
}

const done = (inv: InvocationRecord, outputs: InvocationRecord['outputs'], at = Date.now()) => ({ id: inv.id, status: 'succeeded' as const, attempt: 1, outputs, error: null, startedAt: at, finishedAt: at + 1 });

/** The worker's writes of a run finishing in one group commit: a completes (b next), b completes and ends the run. */
function finishOnWorker(worker: SqlStorage, r: ReturnType<typeof queuedRun>) {
  return [
    worker.completeInvocation({ runId: r.run.id, invocation: done(r.a, [{ port: 0, msg: r.b.input as never }]), next: [r.b] }),
    worker.completeInvocation({ runId: r.run.id, invocation: done(r.b, []), next: [], run: { id: r.run.id, status: 'succeeded', error: null, finishedAt: Date.now() } }),
  ];
}

const rows = async (s: SqlStorage, runId: string) => s.driver.all('SELECT id, status FROM invocations WHERE run_id = ? ORDER BY seq', [runId]);

describe("a queued run's first completion on its worker (real PostgreSQL)", () => {
  it('a run finished in one commit: the first invocation joins the compact history, its pending row is deleted; it reads back complete', async () => {
    const main = await storageOf();
    const worker = await storageOf('worker');
    const runs = [queuedRun(), queuedRun(), queuedRun()];
    await Promise.all(runs.map((r) => main.acceptRun(r.run, [r.trigger, r.a], { outbox: true })));
    const claimed = await worker.leases!.claimToRun(runs.map((r) => r.run.id), [{ flowId: 'orders', version: 1 }]);
    expect(claimed.started.size).toBe(3);
    expect(claimed.runs.map((c) => c.pending.map((p) => p.id))).toEqual(runs.map((r) => [r.a.id]));
    await Promise.all(runs.flatMap((r) => finishOnWorker(worker, r)));
    for (const r of runs) {
      // No row is left: the trigger's completion was carried in the run row by the acceptance (session 14), a and b
      // are appended to it by the worker's commit.
      expect(await rows(main, r.run.id)).toEqual([]);
      const history = await main.listInvocations(r.run.id);
      expect(history.map((i) => [i.id, i.seq, i.status, i.parentId])).toEqual([
        [r.trigger.id, 0, 'succeeded', null],
        [r.a.id, 1, 'succeeded', r.trigger.id],
        [r.b.id, 2, 'succeeded', r.a.id],
      ]);
      // a's input is the one the main stored; its outputs the worker's.
      expect(history[1]).toMatchObject({ nodeId: 'n1', nodeType: 'change', input: r.a.input, attempt: 1, outputs: [{ port: 0, msg: r.b.input }], createdAt: r.a.createdAt });
      expect((await main.getRun(r.run.id))?.status).toBe('succeeded');
    }
  });

  it('a run still running after the commit: its first invocation is updated in place, as before', async () => {
    const main = await storageOf();
    const worker = await storageOf('worker');
    const r = queuedRun();
    await main.acceptRun(r.run, [r.trigger, r.a], { outbox: true });
    await worker.leases!.claimToRun([r.run.id], [{ flowId: 'orders', version: 1 }]);
    await worker.completeInvocation({ runId: r.run.id, invocation: done(r.a, [{ port: 0, msg: r.b.input as never }]), next: [r.b] });
    expect(await rows(main, r.run.id)).toEqual([
      { id: r.a.id, status: 'succeeded' },
      { id: r.b.id, status: 'pending' },
    ]);
    await worker.completeInvocation({ runId: r.run.id, invocation: done(r.b, []), next: [], run: { id: r.run.id, status: 'succeeded', error: null, finishedAt: Date.now() } });
    expect((await main.listInvocations(r.run.id)).map((i) => [i.id, i.status])).toEqual([
      [r.trigger.id, 'succeeded'],
      [r.a.id, 'succeeded'],
      [r.b.id, 'succeeded'],
    ]);
  });

  it('a cancel on the main before the worker commits: the worker’s write fails (nothing of it lands), the run stays cancelled; other runs in the commit finish', async () => {
    const main = await storageOf();
    const worker = await storageOf('worker');
    const cancelled = queuedRun();
    const other = queuedRun();
    for (const r of [cancelled, other]) await main.acceptRun(r.run, [r.trigger, r.a], { outbox: true });
    await worker.leases!.claimToRun([cancelled.run.id, other.run.id], [{ flowId: 'orders', version: 1 }]);
    await main.cancelRun(cancelled.run.id, Date.now());
    const [aOfCancelled, endOfCancelled] = finishOnWorker(worker, cancelled);
    const ofOther = finishOnWorker(worker, other);
    await expect(aOfCancelled).rejects.toBeInstanceOf(InvocationNotPendingError);
    // b's completion finds no b (its insert was a's failed write): it fails too, and the run's end with it.
    await expect(endOfCancelled).rejects.toThrow();
    await Promise.all(ofOther);
    expect((await main.getRun(cancelled.run.id))?.status).toBe('cancelled');
    expect((await main.listInvocations(cancelled.run.id)).map((i) => [i.id, i.status])).toEqual([
      [cancelled.trigger.id, 'succeeded'],
      [cancelled.a.id, 'cancelled'],
    ]);
    expect((await main.getRun(other.run.id))?.status).toBe('succeeded');
    expect((await main.listInvocations(other.run.id)).map((i) => i.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });
});

describe('StoredPending (what a worker keeps of the pending rows it claimed)', () => {
  const row = (id: string, input: string) => INVOCATION_COLUMNS.map((column) => (column === 'id' ? id : column === 'input' ? input : null));

  it('gives a row once; keeps no row with a large input; pushes the oldest out past its bounds in rows and input bytes', () => {
    const stored = new StoredPending();
    stored.remember(row('a', '{}'));
    expect(stored.take('a')?.[0]).toBe('a');
    expect(stored.take('a')).toBeUndefined();
    stored.remember(row('big', 'x'.repeat(65 * 1024)));
    expect(stored.take('big')).toBeUndefined();
    // 300 inputs of 60 KB pass the 16 MB bound: the first ones are gone, the last ones kept.
    for (let i = 0; i < 300; i++) stored.remember(row(`m${i}`, 'y'.repeat(60 * 1024)));
    expect(stored.take('m0')).toBeUndefined();
    expect(stored.take('m299')).toBeDefined();
    for (let i = 0; i < 20_001; i++) stored.remember(row(`s${i}`, '{}'));
    expect(stored.take('s0')).toBeUndefined();
    expect(stored.take('s20000')).toBeDefined();
  });
});
