/**
 * A queued run's trigger completion carried in its run row (session 14, run-writes.ts carryFirst), real PostgreSQL:
 * a queue-mode main's acceptance stores the run row (holding the trigger's completed invocation in its compact
 * history) and only the pending invocation as a row. Everything that reads a run's invocations must see the trigger
 * as before; everything that reads pending invocations (claim, resume, take-over, interruptions, the reconciler,
 * cancel) finds them. Since session 15 a single pending invocation is carried in the run row too (carried-pending.test.ts);
 * these cases, with several pending invocations (rows) or one (carried), read the same.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sharedPostgresSchema } from '../testing/storage-backends.ts';
import type { SqlStorage } from './sql-storage.ts';
import type { InvocationRecord, RunRecord } from './types.ts';

const openStorage = sharedPostgresSchema('carryfirst', (storage) => storage.saveFlow({ id: 'orders', name: 'orders', version: 1, nodes: [] }));
async function storageOf(owner?: string, ttlMs = 30_000): Promise<SqlStorage> {
  const storage = await openStorage();
  if (owner) storage.leases!.hold({ owner, ttlMs });
  return storage;
}

let next = 0;
/** A webhook run as a queue-mode main accepts it: trigger (done) → the pending first node(s). */
function queuedRun(firstNodes = 1) {
  const now = Date.now() + ++next;
  const id = `0193a000-0000-7000-8000-${randomBytes(6).toString('hex')}`;
  const run: RunRecord = { id, flowId: 'orders', flowVersion: 1, status: 'queued', triggerNodeId: 'n0', input: { payload: { order: next, text: 'line 1\nline 2' } }, error: null, parentRunId: null, createdAt: now, startedAt: null, finishedAt: null };
  const invocation = (seq: number, status: InvocationRecord['status'], input: unknown, outputs: InvocationRecord['outputs'], parentId: string | null): InvocationRecord => ({
    id: `${id}.${seq}`, runId: id, nodeId: `n${seq}`, nodeType: seq === 0 ? 'webhook' : 'change', status, attempt: status === 'pending' ? 0 : 1, input, outputs, error: null,
    parentId, seq, createdAt: now + seq, startedAt: status === 'pending' ? null : now, finishedAt: status === 'pending' ? null : now,
  });
  const trigger = invocation(0, 'succeeded', null, [{ port: 0, msg: run.input as never }], null);
  const first = Array.from({ length: firstNodes }, (_, i) => invocation(i + 1, 'pending', run.input, null, trigger.id));
  return { run, trigger, first, invocation };
}

const rows = (s: SqlStorage, runId: string) => s.driver.all('SELECT id, status FROM invocations WHERE run_id = ? ORDER BY seq', [runId]);
const done = (inv: InvocationRecord, outputs: InvocationRecord['outputs'], at = Date.now()) => ({ id: inv.id, status: 'succeeded' as const, attempt: 1, outputs, error: null, startedAt: at, finishedAt: at + 1 });

describe("a queued run's trigger completion carried in its run row (real PostgreSQL)", () => {
  it('the main stores one invocation row; the run view, resume and claim read the trigger and the pending node as before', async () => {
    const main = await storageOf();
    const r = queuedRun(2);
    await main.acceptRun(r.run, [r.trigger, ...r.first], { outbox: true });
    expect(await rows(main, r.run.id)).toEqual(r.first.map((inv) => ({ id: inv.id, status: 'pending' })));
    // The run view of the queued run: the trigger's output and the pending nodes.
    const history = await main.listInvocations(r.run.id);
    expect(history).toEqual([r.trigger, ...r.first]);
    const [resumable] = await main.listResumableRuns({ runIds: [r.run.id] });
    expect(resumable).toMatchObject({ maxSeq: 2, pending: r.first.map((inv) => expect.objectContaining({ id: inv.id })) });
    const worker = await storageOf('worker');
    const claimed = await worker.leases!.claimToRun([r.run.id], [{ flowId: 'orders', version: 1 }]);
    expect(claimed.runs.map((c) => [c.maxSeq, c.pending.map((p) => p.id)])).toEqual([[2, r.first.map((inv) => inv.id)]]);
  });

  it('a claimed run whose worker died: the reconciler leaves it (its pending row), a take-over resumes it, interruptions are counted, and it finishes with its whole history', async () => {
    const main = await storageOf();
    const r = queuedRun();
    await main.acceptRun(r.run, [r.trigger, ...r.first], { outbox: true });
    const dead = await storageOf('dead', 1);
    const now = Date.now();
    await dead.leases!.claimToRun([r.run.id], [{ flowId: 'orders', version: 1 }], now);
    expect((await main.getRun(r.run.id))?.status).toBe('running');
    // The reconciler finishes only runs with no pending invocation: this one has its pending row.
    expect(await main.leases!.finishSettled(0, now + 60_000)).not.toContainEqual(expect.objectContaining({ id: r.run.id }));
    const heir = await storageOf('heir');
    const taken = await heir.leases!.claimToRun([r.run.id], [{ flowId: 'orders', version: 1 }], now + 10);
    expect(taken.runs.map((c) => [c.maxSeq, c.pending.map((p) => p.id)])).toEqual([[1, [r.first[0]!.id]]]);
    await heir.recordInterruptions([r.first[0]!.id]);
    const [resumable] = await heir.listResumableRuns({ runIds: [r.run.id] });
    expect(resumable!.pending.map((p) => p.interruptions ?? 0)).toEqual([1]);
    const end = r.invocation(2, 'pending', { payload: 'end' }, null, r.first[0]!.id);
    await Promise.all([
      heir.completeInvocation({ runId: r.run.id, invocation: done(r.first[0]!, [{ port: 0, msg: end.input as never }]), next: [end] }),
      heir.completeInvocation({ runId: r.run.id, invocation: done(end, []), next: [], run: { id: r.run.id, status: 'succeeded', error: null, finishedAt: Date.now() } }),
    ]);
    expect((await main.getRun(r.run.id))?.status).toBe('succeeded');
    expect((await main.listInvocations(r.run.id)).map((i) => [i.id, i.status, i.parentId])).toEqual([
      [r.trigger.id, 'succeeded', null],
      [r.first[0]!.id, 'succeeded', r.trigger.id],
      [end.id, 'succeeded', r.first[0]!.id],
    ]);
    // The trigger's message (with a line break in it) reads back exactly.
    expect((await main.listInvocations(r.run.id))[0]).toEqual(r.trigger);
  });

  it('a cancel before the claim: the pending node is cancelled, the trigger still shown; a finished run is deleted whole', async () => {
    const main = await storageOf();
    const r = queuedRun();
    await main.acceptRun(r.run, [r.trigger, ...r.first], { outbox: true });
    await main.cancelRun(r.run.id, Date.now());
    expect((await main.getRun(r.run.id))?.status).toBe('cancelled');
    expect((await main.listInvocations(r.run.id)).map((i) => [i.id, i.status])).toEqual([
      [r.trigger.id, 'succeeded'],
      [r.first[0]!.id, 'cancelled'],
    ]);
    await main.deleteRun(r.run.id);
    expect(await main.getRun(r.run.id)).toBeNull();
    expect(await main.listInvocations(r.run.id)).toEqual([]);
  });

  it('a queued run accepted and finished in one group commit keeps one history (the carried trigger and the rest)', async () => {
    const main = await storageOf();
    const r = queuedRun();
    await Promise.all([
      main.acceptRun(r.run, [r.trigger, ...r.first], { outbox: true }),
      main.completeInvocation({ runId: r.run.id, invocation: done(r.first[0]!, []), next: [], run: { id: r.run.id, status: 'succeeded', error: null, finishedAt: Date.now() } }),
    ]);
    expect((await main.listInvocations(r.run.id)).map((i) => [i.id, i.status])).toEqual([
      [r.trigger.id, 'succeeded'],
      [r.first[0]!.id, 'succeeded'],
    ]);
  });

  it('an acceptance without a pending invocation keeps its rows (nothing carried)', async () => {
    const main = await storageOf();
    const r = queuedRun(0);
    await main.acceptRun(r.run, [r.trigger], { outbox: true });
    expect(await rows(main, r.run.id)).toEqual([{ id: r.trigger.id, status: 'succeeded' }]);
    expect(await main.listInvocations(r.run.id)).toEqual([r.trigger]);
  });
});
