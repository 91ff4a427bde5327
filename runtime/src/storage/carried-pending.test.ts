/**
 * A queued run's first pending invocation carried in its run row (session 15, run-writes.ts carryFirst,
 * stored-pending.ts CarriedPending), real PostgreSQL: a queue-mode main's acceptance of a run with ONE pending
 * invocation writes no invocation row; the claim answers the pending invocation from the run row; the worker's
 * finishing commit clears it in the run's UPDATE and deletes nothing. Whatever else consumes or reads it (cancel,
 * the reconciler, interruption counts, clean stops, resume, the run view) reads the run row.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sharedPostgresSchema } from '../testing/storage-backends.ts';
import type { SqlStorage } from './sql-storage.ts';
import { InvocationNotPendingError, type InvocationRecord, type RunRecord } from './types.ts';

const openStorage = sharedPostgresSchema('carrypending', (storage) => storage.saveFlow({ id: 'orders', name: 'orders', version: 1, nodes: [] }));
async function storageOf(owner?: string, ttlMs = 30_000): Promise<SqlStorage> {
  const storage = await openStorage();
  if (owner) storage.leases!.hold({ owner, ttlMs });
  return storage;
}

let next = 0;
function queuedRun() {
  const now = Date.now() + ++next;
  const id = `0193b000-0000-7000-8000-${randomBytes(6).toString('hex')}`;
  const run: RunRecord = { id, flowId: 'orders', flowVersion: 1, status: 'queued', triggerNodeId: 'n0', input: { payload: { order: next, text: 'line 1\nline 2' } }, error: null, parentRunId: null, createdAt: now, startedAt: null, finishedAt: null };
  const invocation = (seq: number, status: InvocationRecord['status'], input: unknown, outputs: InvocationRecord['outputs'], parentId: string | null): InvocationRecord => ({
    id: `${id}.${seq}`, runId: id, nodeId: `n${seq}`, nodeType: seq === 0 ? 'webhook' : 'change', status, attempt: status === 'pending' ? 0 : 1, input, outputs, error: null,
    parentId, seq, createdAt: now + seq, startedAt: status === 'pending' ? null : now, finishedAt: status === 'pending' ? null : now,
  });
  const trigger = invocation(0, 'succeeded', null, [{ port: 0, msg: run.input as never }], null);
  const first = invocation(1, 'pending', run.input, null, trigger.id);
  return { run, trigger, first, invocation };
}

const rowCount = async (s: SqlStorage, runId: string) => Number((await s.driver.get('SELECT count(*) AS n FROM invocations WHERE run_id = ?', [runId]))!.n);
const done = (inv: InvocationRecord, outputs: InvocationRecord['outputs'], status: 'succeeded' | 'failed' = 'succeeded') => ({ id: inv.id, status, attempt: 1, outputs, error: status === 'failed' ? 'boom' : null, startedAt: Date.now(), finishedAt: Date.now() + 1 });
const finish = (runId: string) => ({ id: runId, status: 'succeeded' as const, error: null, finishedAt: Date.now() });
const ORDERS = [{ flowId: 'orders', version: 1 }];

describe("a queued run's first pending invocation carried in its run row (real PostgreSQL)", () => {
  it('no invocation row from acceptance to finish; the claim, resume and run view read it from the run row', async () => {
    const main = await storageOf();
    const r = queuedRun();
    await main.acceptRun(r.run, [r.trigger, r.first], { outbox: true });
    expect(await rowCount(main, r.run.id)).toBe(0);
    // Its input is the run's input: not stored a third time in the row (read back from runs.input).
    expect(String((await main.driver.get('SELECT pending_json FROM runs WHERE id = ?', [r.run.id]))!.pending_json)).toMatch(/^=(?![\s\S]*line 1)/);
    expect(await main.listInvocations(r.run.id)).toEqual([r.trigger, r.first]);
    const [resumable] = await main.listResumableRuns({ runIds: [r.run.id] });
    expect(resumable).toMatchObject({ maxSeq: 1, pending: [r.first] });
    const worker = await storageOf('worker');
    const claimed = await worker.leases!.claimToRun([r.run.id], ORDERS);
    expect(claimed.runs.map((c) => [c.maxSeq, c.pending])).toEqual([[1, [r.first]]]);
    expect(claimed.started.has(r.run.id)).toBe(true);
    await worker.completeInvocation({ runId: r.run.id, invocation: done(r.first, []), next: [], run: finish(r.run.id) });
    expect(await rowCount(main, r.run.id)).toBe(0);
    expect((await main.getRun(r.run.id))?.status).toBe('succeeded');
    expect((await main.listInvocations(r.run.id)).map((i) => [i.id, i.status])).toEqual([
      [r.trigger.id, 'succeeded'],
      [r.first.id, 'succeeded'],
    ]);
    // Consumed once: a second completion (a duplicate worker) fails and changes nothing.
    const again = await storageOf('again');
    await expect(again.completeInvocation({ runId: r.run.id, invocation: done(r.first, []), next: [], run: finish(r.run.id) })).rejects.toBeInstanceOf(InvocationNotPendingError);
  });

  it('a cancel before the worker writes wins once: the worker finishing commit fails; the run view shows it cancelled', async () => {
    const main = await storageOf();
    const r = queuedRun();
    await main.acceptRun(r.run, [r.trigger, r.first], { outbox: true });
    const worker = await storageOf('worker');
    await worker.leases!.claimToRun([r.run.id], ORDERS);
    await main.cancelRun(r.run.id, Date.now());
    await expect(worker.completeInvocation({ runId: r.run.id, invocation: done(r.first, []), next: [], run: finish(r.run.id) })).rejects.toBeInstanceOf(InvocationNotPendingError);
    expect((await main.getRun(r.run.id))?.status).toBe('cancelled');
    expect((await main.listInvocations(r.run.id)).map((i) => [i.id, i.status])).toEqual([
      [r.trigger.id, 'succeeded'],
      [r.first.id, 'cancelled'],
    ]);
  });

  it('a hop that does not finish the run writes the completed row and clears the column; the rest are rows as before', async () => {
    const main = await storageOf();
    const r = queuedRun();
    await main.acceptRun(r.run, [r.trigger, r.first], { outbox: true });
    const worker = await storageOf('worker');
    await worker.leases!.claimToRun([r.run.id], ORDERS);
    const second = r.invocation(2, 'pending', { payload: 2 }, null, r.first.id);
    await worker.completeInvocation({ runId: r.run.id, invocation: done(r.first, [{ port: 0, msg: second.input as never }]), next: [second] });
    expect((await main.driver.get('SELECT pending_json FROM runs WHERE id = ?', [r.run.id]))!.pending_json).toBeNull();
    const heir = await storageOf('heir');
    const [resumable] = await heir.listResumableRuns({ runIds: [r.run.id] });
    expect(resumable).toMatchObject({ maxSeq: 2, pending: [expect.objectContaining({ id: second.id })] });
    expect((await main.listInvocations(r.run.id)).map((i) => [i.id, i.status])).toEqual([
      [r.trigger.id, 'succeeded'],
      [r.first.id, 'succeeded'],
      [second.id, 'pending'],
    ]);
  });

  it("a dead worker's claimed run: the reconciler leaves it, take-overs count its interruptions in the run row, a clean stop takes one back, the count stays with the invocation", async () => {
    const main = await storageOf();
    const r = queuedRun();
    await main.acceptRun(r.run, [r.trigger, r.first], { outbox: true });
    const now = Date.now();
    const dead = await storageOf('dead', 1);
    await dead.leases!.claimToRun([r.run.id], ORDERS, now);
    expect(await main.leases!.finishSettled(0, now + 60_000)).not.toContainEqual(expect.objectContaining({ id: r.run.id }));
    for (const [i, owner] of ['heir1', 'heir2'].entries()) {
      const heir = await storageOf(owner, 1);
      const taken = await heir.leases!.claimToRun([r.run.id], ORDERS, now + 10 * (i + 1));
      expect(taken.runs[0]!.pending.map((p) => p.interruptions ?? 0)).toEqual([i]);
      await heir.recordInterruptions([r.first.id]);
    }
    await main.recordCleanStop([r.run.id]);
    const last = await storageOf('last');
    const taken = await last.leases!.claimToRun([r.run.id], ORDERS, now + 100);
    expect(taken.runs[0]!.pending.map((p) => p.interruptions ?? 0)).toEqual([1]);
    await last.recordInterruptions([r.first.id]);
    await last.completeInvocation({ runId: r.run.id, invocation: done(r.first, [], 'failed'), next: [], run: { id: r.run.id, status: 'failed', error: 'poison', finishedAt: Date.now() } });
    const history = await main.listInvocations(r.run.id);
    expect(history.map((i) => [i.id, i.status, i.interruptions ?? 0])).toEqual([
      [r.trigger.id, 'succeeded', 0],
      [r.first.id, 'failed', 2],
    ]);
  });

  it("a node's durable steps (rows with higher sequence numbers) count in the claim's and the resume's max seq", async () => {
    const main = await storageOf();
    const r = queuedRun();
    await main.acceptRun(r.run, [r.trigger, r.first], { outbox: true });
    const step = { ...r.invocation(5, 'succeeded', null, [], r.first.id), id: `${r.first.id}/step` };
    await main.insertFinishedInvocations([step]);
    const [resumable] = await main.listResumableRuns({ runIds: [r.run.id] });
    expect(resumable!.maxSeq).toBe(5);
    const worker = await storageOf('worker');
    const claimed = await worker.leases!.claimToRun([r.run.id], ORDERS);
    expect(claimed.runs.map((c) => [c.maxSeq, c.pending.map((p) => p.id)])).toEqual([[5, [r.first.id]]]);
  });

  it('runs accepted before session 15 (pending rows) are claimed and finished as before', async () => {
    const main = await storageOf();
    const r = queuedRun();
    // As an older main wrote it: the pending invocation as a row.
    await main.acceptRun(r.run, [r.trigger, r.first], { outbox: true });
    await main.driver.writeBatch([{ sql: 'UPDATE runs SET pending_json = NULL WHERE id = ?', params: [r.run.id] }, {
      sql: `INSERT INTO invocations (id, run_id, node_id, node_type, status, attempt, input, outputs, error, parent_id, seq, created_at) VALUES (?, ?, 'n1', 'change', 'pending', 0, ?, NULL, NULL, ?, 1, ?)`,
      params: [r.first.id, r.run.id, JSON.stringify(r.first.input), r.trigger.id, r.first.createdAt],
    }]);
    const worker = await storageOf('worker');
    const claimed = await worker.leases!.claimToRun([r.run.id], ORDERS);
    expect(claimed.runs.map((c) => [c.maxSeq, c.pending])).toEqual([[1, [r.first]]]);
    await worker.completeInvocation({ runId: r.run.id, invocation: done(r.first, []), next: [], run: finish(r.run.id) });
    expect(await rowCount(main, r.run.id)).toBe(0);
    expect((await main.listInvocations(r.run.id)).map((i) => [i.id, i.status])).toEqual([
      [r.trigger.id, 'succeeded'],
      [r.first.id, 'succeeded'],
    ]);
  });
});
