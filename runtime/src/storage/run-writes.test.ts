/**
 * The coalesced run write path: what one group-commit batch becomes (statements), and that real SQLite stores the same
 * final state as writing each change on its own, with failures still confined to the write at fault.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeInvocation, makeRun } from './fixtures.ts';
import { decodeInvocations } from './run-compact.ts';
import { RunOutbox } from './outbox.ts';
import { CarriedPending } from './stored-pending.ts';
import { acceptRunWrite, completeInvocationWrite, planBatch, runUpdateWrite, statementsOf } from './run-writes.ts';
import type { SqlStorage } from './sql-storage.ts';
import { createSqliteStorage } from './sqlite.ts';
import { DEFAULT_MESSAGE_LIMITS } from './sql-storage.ts';
import { InvocationNotPendingError, type InvocationRecord, type RunRecord } from './types.ts';

const limits = DEFAULT_MESSAGE_LIMITS;
const NO_LEASE: [null, null] = [null, null];

/** A webhook-like run: trigger (done) → a → b; a and b complete, b ends the run. */
function webhookRun(): { run: RunRecord; trigger: InvocationRecord; a: InvocationRecord; b: InvocationRecord } {
  const run = makeRun();
  const trigger = makeInvocation(run.id, 0, { status: 'succeeded', attempt: 1, input: null, outputs: [{ port: 0, msg: { payload: 0 } }], startedAt: 1, finishedAt: 1 });
  const a = makeInvocation(run.id, 1, { parentId: trigger.id });
  const b = makeInvocation(run.id, 2, { parentId: a.id });
  return { run, trigger, a, b };
}

const done = (inv: InvocationRecord, outputs: InvocationRecord['outputs']) => ({ id: inv.id, status: 'succeeded' as const, attempt: 1, outputs, error: null, startedAt: 10, finishedAt: 11 });

describe('planBatch', () => {
  it('writes a run accepted and finished in one batch as ONE run row carrying its final invocations (compact history)', () => {
    const { run, trigger, a, b } = webhookRun();
    const plan = planBatch([
      { run: acceptRunWrite(run, [trigger, a], limits, NO_LEASE) },
      { run: completeInvocationWrite({ invocation: done(a, [{ port: 0, msg: { payload: 1 } }]), next: [b] }, limits) },
      { run: completeInvocationWrite({ invocation: done(b, []), next: [], run: { id: run.id, status: 'succeeded', error: null, finishedAt: 12 } }, limits) },
    ]);
    expect(plan.statements.map((s) => s.sql.split(' (')[0])).toEqual(['INSERT INTO runs']);
    expect(plan.slices).toEqual([
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
    const runRow = plan.statements[0]!.params!;
    expect(runRow[3]).toBe('succeeded');
    expect(runRow[10]).toBe(12);
    // Every invocation is in its final state: no invocation row (and no pending-index entry) is written at all.
    const compact = decodeInvocations(String(runRow[13]), run.id);
    expect(compact.map((i) => [i.id, i.status, i.attempt])).toEqual([
      [trigger.id, 'succeeded', 1],
      [a.id, 'succeeded', 1],
      [b.id, 'succeeded', 1],
    ]);
    expect(compact[1]!.outputs).toEqual([{ port: 0, msg: { payload: 1 } }]);
    expect(compact[2]!.input).toEqual(b.input);
  });

  it("a queued acceptance carries the trigger's completion and its first pending invocation in the run row; the finishing UPDATE of a stored run appends on PostgreSQL, sets on SQLite", () => {
    const { run, trigger, a, b } = webhookRun();
    const accepted = planBatch([{ run: acceptRunWrite(run, [trigger, a], limits, NO_LEASE, RunOutbox.insert(run.id, run.createdAt)) }]);
    expect(accepted.statements.map((s) => s.sql.split(' (')[0])).toEqual(['INSERT INTO runs', 'INSERT INTO run_outbox']);
    expect(decodeInvocations(String(accepted.statements[0]!.params![13]), run.id)).toEqual([trigger]);
    expect(decodeInvocations(String(accepted.statements[0]!.params![14]), run.id)).toEqual([a]);
    const finish = () => [
      { run: completeInvocationWrite({ invocation: done(a, [{ port: 0, msg: { payload: 1 } }]), next: [b] }, limits) },
      { run: completeInvocationWrite({ invocation: done(b, []), next: [], run: { id: run.id, status: 'succeeded', error: null, finishedAt: 12 } }, limits) },
    ];
    const update = (appendCompact: boolean) => planBatch(finish(), appendCompact).statements.find((s) => s.sql.startsWith('UPDATE runs'))!.sql;
    expect(update(true)).toMatch(/invocations_json = COALESCE\(invocations_json \|\| '\n', ''\) \|\| \?/);
    expect(update(false)).toMatch(/invocations_json = \? WHERE/);
  });

  it('a run still running at the end of the batch keeps its invocations as rows, already merged', () => {
    const { run, trigger, a, b } = webhookRun();
    const plan = planBatch([
      { run: acceptRunWrite(run, [trigger, a], limits, NO_LEASE) },
      { run: completeInvocationWrite({ invocation: done(a, [{ port: 0, msg: { payload: 1 } }]), next: [b] }, limits) },
    ]);
    expect(plan.statements.map((s) => s.sql.split(' (')[0])).toEqual(['INSERT INTO runs', 'INSERT INTO invocations']);
    expect(plan.statements[0]!.params![13]).toBeNull();
    // An embedded run's row is inserted as before session 15: no carried-pending column in the statement.
    expect(plan.statements[0]!.sql).not.toContain('pending_json');
    expect(plan.statements[0]!.params!.length).toBe(16);
    const rows = plan.statements[1]!.params!;
    expect(rows.length).toBe(3 * 15);
    expect([rows[4], rows[15 + 4], rows[30 + 4]]).toEqual(['succeeded', 'succeeded', 'pending']);
    expect(rows[15 + 7]).toBe('[{"port":0,"msg":{"payload":1}}]');
  });

  it('keeps an UPDATE (with its pending check) for an invocation stored by an earlier batch, and merges run updates', () => {
    const { run, a, b } = webhookRun();
    const plan = planBatch([
      { run: completeInvocationWrite({ invocation: done(a, []), next: [b] }, limits) },
      { run: runUpdateWrite({ id: run.id, status: 'waiting' })! },
      { run: runUpdateWrite({ id: run.id, status: 'running', startedAt: 5 })! },
    ]);
    expect(plan.statements.map((s) => s.sql.replace(/\s+/g, ' ').split(' SET')[0]!.split(' (')[0])).toEqual(['INSERT INTO invocations', 'UPDATE invocations', 'UPDATE runs']);
    expect(plan.statements[1]!.check).toBeTypeOf('function');
    expect(plan.statements[2]!.params).toEqual(['running', 5, run.id]);
  });

  it('does not coalesce across another write: that write keeps its place and its own results', () => {
    const { run, trigger, a } = webhookRun();
    const cancel = [{ sql: 'UPDATE runs SET status = ? WHERE id = ?', params: ['cancelled', run.id] }];
    const plan = planBatch([{ run: acceptRunWrite(run, [trigger, a], limits, NO_LEASE) }, { statements: cancel }, { run: completeInvocationWrite({ invocation: done(a, []), next: [] }, limits) }]);
    expect(plan.statements.map((s) => s.sql.split(' (')[0]!.split(' SET')[0])).toEqual(['INSERT INTO runs', 'INSERT INTO invocations', 'UPDATE runs', 'UPDATE invocations']);
    expect(plan.slices[1]).toEqual([2, 3]);
  });

  it("the acceptances' outbox rows (queue mode) are ONE multi-row INSERT per batch, after their runs", () => {
    const one = webhookRun();
    const two = webhookRun();
    const plan = planBatch([
      { run: acceptRunWrite(one.run, [one.trigger, one.a], limits, NO_LEASE, RunOutbox.insert(one.run.id, 1)) },
      { run: acceptRunWrite(two.run, [two.trigger, two.a], limits, NO_LEASE, RunOutbox.insert(two.run.id, 2)) },
    ]);
    expect(plan.statements.map((s) => s.sql.split(' (')[0])).toEqual(['INSERT INTO runs', 'INSERT INTO run_outbox']);
    expect(plan.statements[1]!.params).toEqual([one.run.id, 1, two.run.id, 2]);
    // Retried alone (the batch failed), each acceptance has its own single-row INSERT.
    expect(statementsOf(acceptRunWrite(one.run, [one.trigger], limits, NO_LEASE, RunOutbox.insert(one.run.id, 1))).at(-1)).toEqual(RunOutbox.insert(one.run.id, 1));
  });

  it('a completion of an invocation carried in its run row clears the column in the run UPDATE (checked), deletes nothing, and alone inserts its row', () => {
    const { run, trigger, a, b } = webhookRun();
    const accepted = acceptRunWrite(run, [trigger, a], limits, NO_LEASE, RunOutbox.insert(run.id, run.createdAt));
    const carried = new CarriedPending();
    carried.remember({ runId: run.id, interruptions: 0, row: accepted.carried! });
    const finishing = completeInvocationWrite({ invocation: done(a, []), next: [], run: { id: run.id, status: 'succeeded', finishedAt: 12 } }, limits, undefined, carried);
    const plan = planBatch([{ run: finishing }]);
    expect(plan.statements.map((s) => s.sql.split(' SET')[0])).toEqual(['UPDATE runs']);
    expect(plan.statements[0]!.sql).toMatch(/pending_json = NULL WHERE id = \? AND pending_json IS NOT NULL AND status IN/);
    expect(() => plan.statements[0]!.check!({ rows: [], changes: 0 })).toThrow(/not pending|pending/);
    expect(decodeInvocations(String(plan.statements[0]!.params![2]), run.id).map((i) => [i.id, i.status])).toEqual([[a.id, 'succeeded']]);
    // Alone (a batch retried write by write): the completed row inserted, the column cleared.
    expect(statementsOf(finishing).map((s) => s.sql.split(' (')[0]!.split(' SET')[0])).toEqual(['INSERT INTO invocations', 'UPDATE runs', 'UPDATE runs']);
    // Not finishing the run: the completed row and the next one inserted, the column cleared on its own.
    carried.remember({ runId: run.id, interruptions: 2, row: accepted.carried! });
    const hop = planBatch([{ run: completeInvocationWrite({ invocation: done(a, []), next: [b] }, limits, undefined, carried) }]);
    expect(hop.statements.map((s) => s.sql.split(' (')[0]!.split(' SET')[0])).toEqual(['INSERT INTO invocations', 'UPDATE invocations', 'UPDATE runs']);
    expect(hop.statements[1]!.params).toEqual([2, a.id]);
    // Accepted and completed in one batch: written as rows, nothing carried.
    const one = planBatch([{ run: accepted }, { run: completeInvocationWrite({ invocation: done(a, []), next: [b] }, limits) }]);
    expect(one.statements.map((s) => s.sql.split(' (')[0])).toEqual(['INSERT INTO runs', 'INSERT INTO invocations', 'INSERT INTO run_outbox']);
    expect(one.statements[0]!.sql).not.toContain('pending_json');
  });

  it("a write's own statements (used when it is retried alone) are the plain ones", () => {
    const { run, a, b } = webhookRun();
    const sqls = statementsOf(completeInvocationWrite({ invocation: done(a, []), next: [b], run: { id: run.id, status: 'failed' } }, limits)).map((s) => s.sql.split(' (')[0]!.split(' SET')[0]);
    expect(sqls).toEqual(['UPDATE invocations', 'INSERT INTO invocations', 'UPDATE runs']);
  });
});

describe("a run's project", () => {
  let storage: SqlStorage;
  beforeEach(async () => {
    storage = createSqliteStorage({ filename: ':memory:' });
    await storage.migrate();
    await storage.identity.insertProject({ id: 'p2', name: 'P2', description: '', createdAt: 1, updatedAt: 1 });
    await storage.saveFlow({ id: 'f1', name: 'f1', version: 0, nodes: [] }, 0, { projectId: 'p2' });
  });
  afterEach(() => storage.close());

  it('given by the caller (the deployed flow\'s) is stored as is, without a look-up in the INSERT; runs of both kinds in one batch', async () => {
    const given = makeRun({ flowId: 'f1', projectId: undefined });
    const looked = makeRun({ flowId: 'f1', projectId: undefined });
    const plan = planBatch([{ run: acceptRunWrite(given, [], limits, NO_LEASE, undefined, 'p2') }]);
    expect(plan.statements.map((s) => s.sql)).toEqual([expect.not.stringContaining('SELECT')]);
    await Promise.all([storage.acceptRun(given, [], { flowProject: 'p2' }), storage.acceptRun(looked, [])]);
    expect((await storage.getRun(given.id))!.projectId).toBe('p2');
    expect((await storage.getRun(looked.id))!.projectId).toBe('p2');
  });
});

describe('coalesced writes on SQLite', () => {
  let storage: SqlStorage;
  beforeEach(async () => {
    storage = createSqliteStorage({ filename: ':memory:' });
    await storage.migrate();
  });
  afterEach(() => storage.close());

  it('stores the same final run and invocations as separate writes would, in one transaction', async () => {
    const { run, trigger, a, b } = webhookRun();
    const before = storage.stats.transactions;
    await Promise.all([
      storage.acceptRun(run, [trigger, a]),
      storage.completeInvocation({ invocation: done(a, [{ port: 0, msg: { payload: 1 } }]), next: [b] }),
      storage.completeInvocation({ invocation: done(b, []), next: [], run: { id: run.id, status: 'succeeded', error: null, finishedAt: 12 } }),
    ]);
    expect(storage.stats.transactions - before).toBe(1);
    expect(await storage.getRun(run.id)).toMatchObject({ status: 'succeeded', finishedAt: 12, projectId: 'default' });
    const stored = await storage.listInvocations(run.id);
    expect(stored.map((i) => [i.id, i.status, i.attempt])).toEqual([
      [trigger.id, 'succeeded', 1],
      [a.id, 'succeeded', 1],
      [b.id, 'succeeded', 1],
    ]);
    expect(stored[1]!.outputs).toEqual([{ port: 0, msg: { payload: 1 } }]);
    expect(await storage.listResumableRuns()).toEqual([]);
    // Stored compact: the run's row carries them; the run as read back does not.
    const row = await storage.driver.get('SELECT (SELECT count(*) FROM invocations WHERE run_id = ?) AS rows, invocations_json FROM runs WHERE id = ?', [run.id, run.id]);
    expect(row).toMatchObject({ rows: 0, invocations_json: expect.any(String) });
    expect(Object.keys((await storage.getRun(run.id))!)).not.toContain('invocations_json');
  });

  it("runs whose hops pass a full batch's row cap are still written whole, each as one compact row, by the batch that accepted them", async () => {
    // 60 ten-hop runs whose hops interleave, as concurrent runs' hops do: 1,320 rows before coalescing, over the
    // 1,000-row cap of a SQLite batch. Cut there, every run would be written in two commits (invocation rows, then
    // UPDATEs) and none compact.
    const runs = Array.from({ length: 60 }, () => makeRun());
    const chains = runs.map((run) => {
      const trigger = makeInvocation(run.id, 0, { status: 'succeeded', attempt: 1, input: null, outputs: [{ port: 0, msg: { payload: 0 } }], startedAt: 1, finishedAt: 1 });
      const hops = [trigger];
      for (let seq = 1; seq <= 10; seq++) hops.push(makeInvocation(run.id, seq, { parentId: hops[seq - 1]!.id }));
      return hops;
    });
    const writes: Array<Promise<void>> = runs.map((run, r) => storage.acceptRun(run, [chains[r]![0]!, chains[r]![1]!]));
    for (let seq = 1; seq <= 10; seq++) {
      runs.forEach((run, r) => {
        const last = seq === 10;
        const next = last ? [] : [chains[r]![seq + 1]!];
        writes.push(storage.completeInvocation({ invocation: done(chains[r]![seq]!, [{ port: 0, msg: { payload: seq } }]), next, runId: run.id, ...(last ? { run: { id: run.id, status: 'succeeded', error: null, finishedAt: 20 } } : {}) }));
      });
    }
    await Promise.all(writes);
    expect(await storage.driver.get('SELECT count(*) AS n FROM invocations')).toEqual({ n: 0 });
    expect(await storage.driver.get('SELECT count(*) AS n FROM runs WHERE invocations_json IS NOT NULL')).toEqual({ n: 60 });
    const stored = await storage.listInvocations(runs[7]!.id);
    expect(stored.map((i) => [i.id, i.status])).toEqual(chains[7]!.map((i) => [i.id, 'succeeded']));
    expect(stored[10]!.outputs).toEqual([{ port: 0, msg: { payload: 10 } }]);
  });

  it("a full batch passes over new runs' acceptances to take the later hops of the runs it accepted; a cancel still ends it", async () => {
    // Wave A's hops fill the 1,000-row cap, then wave B is accepted, then A's last hops are queued (a busy turn starts
    // runs breadth-first). Stopping at B's first acceptance cut every run of A in two commits: rows, then UPDATEs.
    const chain = () => {
      const run = makeRun();
      const hops = [makeInvocation(run.id, 0, { status: 'succeeded', attempt: 1, input: null, outputs: [{ port: 0, msg: { payload: 0 } }], startedAt: 1, finishedAt: 1 })];
      for (let seq = 1; seq <= 10; seq++) hops.push(makeInvocation(run.id, seq, { parentId: hops[seq - 1]!.id }));
      return { run, hops };
    };
    const accept = ({ run, hops }: ReturnType<typeof chain>) => storage.acceptRun(run, [hops[0]!, hops[1]!]);
    const hop = ({ run, hops }: ReturnType<typeof chain>, seq: number) =>
      storage.completeInvocation({ invocation: done(hops[seq]!, [{ port: 0, msg: { payload: seq } }]), next: seq === 10 ? [] : [hops[seq + 1]!], runId: run.id, ...(seq === 10 ? { run: { id: run.id, status: 'succeeded' as const, error: null, finishedAt: 20 } } : {}) });
    const a = Array.from({ length: 60 }, chain);
    const b = Array.from({ length: 60 }, chain);
    const writes: Array<Promise<unknown>> = a.map(accept);
    for (let seq = 1; seq <= 8; seq++) writes.push(...a.map((c) => hop(c, seq)));
    writes.push(...b.map(accept));
    for (let seq = 9; seq <= 10; seq++) writes.push(...a.map((c) => hop(c, seq)));
    for (let seq = 1; seq <= 10; seq++) writes.push(...b.map((c) => hop(c, seq)));
    const before = storage.stats.transactions;
    await Promise.all(writes);
    expect(storage.stats.transactions - before).toBe(2);
    expect(await storage.driver.get('SELECT count(*) AS n FROM invocations')).toEqual({ n: 0 });
    expect(await storage.driver.get('SELECT count(*) AS n FROM runs WHERE invocations_json IS NOT NULL')).toEqual({ n: 120 });
    for (const c of [a[5]!, b[59]!]) expect((await storage.listInvocations(c.run.id)).map((i) => [i.id, i.status])).toEqual(c.hops.map((i) => [i.id, 'succeeded']));

    // A write that is not a run's (here a cancel) is never passed: the hops queued behind it wait for the next batch.
    const c = Array.from({ length: 60 }, chain);
    const more: Array<Promise<unknown>> = c.map(accept);
    for (let seq = 1; seq <= 8; seq++) more.push(...c.map((x) => hop(x, seq)));
    const cancelled = chain();
    more.push(accept(cancelled), storage.cancelRun(cancelled.run.id, 15));
    for (let seq = 9; seq <= 10; seq++) more.push(...c.map((x) => hop(x, seq)));
    await Promise.all(more);
    expect(await storage.getRun(cancelled.run.id)).toMatchObject({ status: 'cancelled' });
    expect(await storage.getRun(c[0]!.run.id)).toMatchObject({ status: 'succeeded' });
    expect((await storage.listInvocations(c[0]!.run.id)).map((i) => i.status)).toEqual(c[0]!.hops.map(() => 'succeeded'));
    // Cut at the cancel: their first hops are rows (the cancelled run's too), the rest went into their rows.
    expect(await storage.driver.get('SELECT count(DISTINCT run_id) AS n FROM invocations')).toEqual({ n: 61 });
  });

  it('the writer is behind while more is queued than its next transaction takes, and catches up', async () => {
    expect(storage.writerBehind()).toBe(false);
    const runs = Array.from({ length: 400 }, () => makeRun());
    const writes = runs.map((run) => storage.acceptRun(run, [makeInvocation(run.id, 0), makeInvocation(run.id, 1)]));
    // 400 acceptances of a run and 2 invocations: 1,200 rows, over the 1,000 a SQLite batch takes.
    expect(storage.writerBehind()).toBe(true);
    await Promise.all(writes);
    expect(storage.writerBehind()).toBe(false);
    expect(await storage.driver.get('SELECT count(*) AS n FROM runs')).toEqual({ n: 400 });
  });

  it('a compact run reads back exactly as the same writes stored one transaction each (rows) do, in seq order', async () => {
    const { run, trigger, a, b } = webhookRun();
    const c = makeInvocation(run.id, 3, { parentId: b.id, input: { payload: 'c', nested: { list: [1, 'x', null, 2.5e-7], text: 'quote " and \\ and é \u2028 😀' } } });
    const writes = [
      (s: SqlStorage) => s.acceptRun(run, [trigger, a]),
      (s: SqlStorage) => s.completeInvocation({ invocation: done(a, [{ port: 0, msg: { payload: 1 } }]), next: [b] }),
      (s: SqlStorage) => s.completeInvocation({ invocation: { ...done(b, [{ port: 1, msg: c.input }]), error: 'a "warning"' }, next: [c] }),
      (s: SqlStorage) => s.completeInvocation({ invocation: { ...done(c, []), usage: { model: 'm', promptTokens: 3 } }, next: [], run: { id: run.id, status: 'succeeded', error: null, finishedAt: 12 } }),
    ];
    await Promise.all(writes.map((w) => w(storage)));
    const apart = createSqliteStorage({ filename: ':memory:' });
    await apart.migrate();
    for (const w of writes) await w(apart);
    const compact = await storage.driver.get('SELECT invocations_json FROM runs WHERE id = ?', [run.id]);
    const rows = await apart.driver.get('SELECT invocations_json, (SELECT count(*) FROM invocations) AS n FROM runs WHERE id = ?', [run.id]);
    expect(compact!.invocations_json).toEqual(expect.any(String));
    expect(rows).toEqual({ invocations_json: null, n: 4 });
    const history = await storage.listInvocations(run.id);
    expect(history).toEqual(await apart.listInvocations(run.id));
    expect(history.map((i) => i.seq)).toEqual([0, 1, 2, 3]);
    expect(await storage.getRun(run.id)).toEqual(await apart.getRun(run.id));
    await apart.close();
  });

  it('a run stored by an earlier transaction (a queue-mode main) and finished by a later one (a worker) takes that one\'s invocations into its row; it reads back as rows would', async () => {
    const { run, trigger, a, b } = webhookRun();
    const c = makeInvocation(run.id, 3, { parentId: b.id });
    const later = [
      (s: SqlStorage) => s.completeInvocation({ invocation: done(a, [{ port: 0, msg: { payload: 1 } }]), next: [b] }),
      (s: SqlStorage) => s.completeInvocation({ invocation: done(b, [{ port: 0, msg: c.input }]), next: [c] }),
      (s: SqlStorage) => s.completeInvocation({ invocation: done(c, []), next: [], run: { id: run.id, status: 'succeeded', error: null, finishedAt: 12 } }),
    ];
    await storage.acceptRun(run, [trigger, a]);
    await Promise.all(later.map((w) => w(storage)));
    const apart = createSqliteStorage({ filename: ':memory:' });
    await apart.migrate();
    await apart.acceptRun(run, [trigger, a]);
    for (const w of later) await w(apart);
    // The acceptance's rows stay (a completed by an UPDATE); b and c, inserted and finished by the last transaction, are in the run's row.
    expect(await storage.driver.all('SELECT id, status FROM invocations ORDER BY seq')).toEqual([
      { id: trigger.id, status: 'succeeded' },
      { id: a.id, status: 'succeeded' },
    ]);
    const compact = await storage.driver.get('SELECT invocations_json FROM runs WHERE id = ?', [run.id]);
    expect(decodeInvocations(String(compact!.invocations_json), run.id).map((i) => i.id)).toEqual([b.id, c.id]);
    const history = await storage.listInvocations(run.id);
    expect(history).toEqual(await apart.listInvocations(run.id));
    expect(history.map((i) => i.seq)).toEqual([0, 1, 2, 3]);
    expect(await storage.getRun(run.id)).toEqual(await apart.getRun(run.id));
    await apart.close();
  });

  it('deleting a compact run deletes its history with it', async () => {
    const { run, trigger, a } = webhookRun();
    await Promise.all([storage.acceptRun(run, [trigger, a]), storage.completeInvocation({ invocation: done(a, []), next: [], run: { id: run.id, status: 'succeeded', finishedAt: 12 } })]);
    expect(await storage.listInvocations(run.id)).toHaveLength(2);
    await storage.deleteRun(run.id);
    expect(await storage.getRun(run.id)).toBeNull();
    expect(await storage.listInvocations(run.id)).toEqual([]);
  });

  it('a run that keeps no history (discardRun) and lives in one transaction is never written; other runs in it are', async () => {
    const gone = webhookRun();
    const kept = webhookRun();
    const before = storage.stats.transactions;
    await Promise.all([
      storage.acceptRun(gone.run, [gone.trigger, gone.a]),
      storage.acceptRun(kept.run, [kept.trigger, kept.a]),
      storage.completeInvocation({ invocation: done(gone.a, []), next: [], run: { id: gone.run.id, status: 'succeeded', finishedAt: 12 }, discardRun: true }),
      storage.completeInvocation({ invocation: done(kept.a, []), next: [], run: { id: kept.run.id, status: 'succeeded', finishedAt: 12 } }),
    ]);
    expect(storage.stats.transactions - before).toBe(1);
    expect(await storage.getRun(gone.run.id)).toBeNull();
    expect(await storage.listInvocations(gone.run.id)).toEqual([]);
    expect(await storage.getRun(kept.run.id)).toMatchObject({ status: 'succeeded' });
    expect(await storage.listInvocations(kept.run.id)).toHaveLength(2);
    expect(await storage.driver.get('SELECT count(*) AS n FROM invocations')).toEqual({ n: 0 });
  });

  it('a run that keeps no history and was stored by an earlier transaction is deleted by its last completion', async () => {
    const { run, trigger, a, b } = webhookRun();
    await storage.acceptRun(run, [trigger, a]);
    await storage.completeInvocation({ invocation: done(a, [{ port: 0, msg: { payload: 1 } }]), next: [b] });
    expect(await storage.listInvocations(run.id)).toHaveLength(3);
    await storage.completeInvocation({ invocation: done(b, []), next: [], run: { id: run.id, status: 'failed', error: 'x', finishedAt: 12 }, discardRun: true });
    expect(await storage.getRun(run.id)).toBeNull();
    expect(await storage.driver.get('SELECT count(*) AS n FROM invocations')).toEqual({ n: 0 });
  });

  it('a completion after a cancel in the same batch fails alone; the acceptance and the cancel stand', async () => {
    const { run, trigger, a } = webhookRun();
    const accepted = storage.acceptRun(run, [trigger, a]);
    const cancelled = storage.cancelRun(run.id, 99);
    const completed = storage.completeInvocation({ invocation: done(a, []), next: [], run: { id: run.id, status: 'succeeded' } });
    await expect(accepted).resolves.toBeUndefined();
    await expect(cancelled).resolves.toBeUndefined();
    await expect(completed).rejects.toBeInstanceOf(InvocationNotPendingError);
    expect((await storage.getRun(run.id))!.status).toBe('cancelled');
    expect((await storage.listInvocations(run.id)).map((i) => i.status)).toEqual(['succeeded', 'cancelled']);
  });

  it('completes an invocation stored by an earlier transaction, and a duplicate id still fails only its own write', async () => {
    const { run, trigger, a, b } = webhookRun();
    await storage.acceptRun(run, [trigger, a]);
    const duplicate = storage.completeInvocation({ invocation: done(trigger, []), next: [] });
    const ok = storage.completeInvocation({ invocation: done(a, []), next: [b] });
    const twice = storage.completeInvocation({ invocation: done(b, []), next: [{ ...b }] });
    await expect(duplicate).rejects.toBeInstanceOf(InvocationNotPendingError);
    await expect(ok).resolves.toBeUndefined();
    await expect(twice).rejects.toThrow();
    expect((await storage.listInvocations(run.id)).map((i) => [i.id, i.status])).toEqual([
      [trigger.id, 'succeeded'],
      [a.id, 'succeeded'],
      [b.id, 'pending'],
    ]);
  });
});
