/**
 * The executor's own behaviour, on a real storage (SQLite in memory) without the HTTP layer: order along wires,
 * durable records, per-flow concurrency, error routing, retries, replies, cancellation, retention and resume.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SqlStorage } from '../storage/sql-storage.ts';
import { createSqliteStorage } from '../storage/sqlite.ts';
import { createHarness, type Harness } from './test-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const chain = [
  { id: 't', type: 'test-trigger', wires: [['a']] },
  { id: 'a', type: 'test-step', wires: [['b']] },
  { id: 'b', type: 'test-step', wires: [] },
];

describe('executor', () => {
  it('runs a trigger event along the wires and stores every invocation, the run succeeded', async () => {
    h = await createHarness();
    await h.deploy(chain);
    const { runId } = await h.triggers.get('t')!({ payload: 1 });
    const run = await h.finished(runId);
    expect(run.status).toBe('succeeded');
    expect(h.calls).toEqual(['a:1', 'b:1']);
    const stored = await h.storage.listInvocations(runId);
    expect(stored.map((i) => [i.nodeId, i.status])).toEqual([
      ['t', 'succeeded'],
      ['a', 'succeeded'],
      ['b', 'succeeded'],
    ]);
    expect((await h.storage.getRun(runId))?.status).toBe('succeeded');
  });

  it('fans a message out to two targets as separate copies', async () => {
    h = await createHarness();
    await h.deploy([
      { id: 't', type: 'test-trigger', wires: [['a', 'b']] },
      { id: 'a', type: 'test-step', wires: [] },
      { id: 'b', type: 'test-step', wires: [] },
    ]);
    const { runId } = await h.executor.runNow('f', { payload: 'x' }, { nodeId: 't' });
    await h.finished(runId);
    const inputs = (await h.storage.listInvocations(runId)).filter((i) => i.nodeId !== 't').map((i) => i.input);
    expect(inputs).toHaveLength(2);
    expect(inputs[0]).toEqual(inputs[1]);
  });

  it('keeps a flow to its concurrency limit: later runs are queued, then start in order', async () => {
    h = await createHarness();
    await h.deploy(
      [
        { id: 't', type: 'test-trigger', wires: [['hold']] },
        { id: 'hold', type: 'test-hold', wires: [] },
      ],
      { concurrency: 1 },
    );
    const emit = h.triggers.get('t')!;
    const runs = [];
    for (const payload of ['r1', 'r2', 'r3']) runs.push((await emit({ payload })).runId);
    expect(h.calls).toEqual(['hold:r1']);
    expect((await h.storage.getRun(runs[1]!))?.status).toBe('queued');
    h.holds.get('r1')!.open();
    await h.finished(runs[0]!);
    await vi_until(() => h!.calls.length === 2);
    expect(h.calls).toEqual(['hold:r1', 'hold:r2']);
    expect((await h.storage.getRun(runs[1]!))?.status).toBe('running');
    h.holds.get('r2')!.open();
    await vi_until(() => h!.holds.has('r3'));
    h.holds.get('r3')!.open();
    for (const id of runs) expect((await h.finished(id)).status).toBe('succeeded');
  });

  it('routes a failure to an error handler; without one the run fails with the node and the reason', async () => {
    h = await createHarness();
    await h.deploy([...chain, { id: 'c', type: 'catch', wires: [['after']] }, { id: 'after', type: 'test-step', wires: [] }]);
    h.failures.set('a', 1);
    const caught = await h.finished((await h.triggers.get('t')!({ payload: 1 })).runId);
    expect(caught.status).toBe('succeeded');
    expect(h.calls).toEqual(['a:1', 'after:1']);
    const afterInput = (await h.storage.listInvocations(caught.id)).find((i) => i.nodeId === 'after')!.input as { error: { message: string; source: { id: string } } };
    expect(afterInput.error).toMatchObject({ message: 'a failed on purpose', source: { id: 'a' } });

    await h.deploy(chain);
    h.failures.set('a', 1);
    const failed = await h.finished((await h.triggers.get('t')!({ payload: 2 })).runId);
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe('node "a" failed: a failed on purpose');
  });

  it('retries a node by its policy and records the attempt that succeeded', async () => {
    h = await createHarness();
    await h.deploy([
      { id: 't', type: 'test-trigger', wires: [['a']] },
      { id: 'a', type: 'test-step', retry: { maxAttempts: 3, backoffMs: 1 }, wires: [] },
    ]);
    h.failures.set('a', 2);
    const run = await h.finished((await h.triggers.get('t')!({ payload: 1 })).runId);
    expect(run.status).toBe('succeeded');
    expect((await h.storage.listInvocations(run.id)).find((i) => i.nodeId === 'a')?.attempt).toBe(3);
  });

  it('answers a waiting trigger with what the run replies', async () => {
    h = await createHarness();
    await h.deploy([
      { id: 't', type: 'test-trigger', wires: [['r']] },
      { id: 'r', type: 'test-reply', wires: [] },
    ]);
    const { reply } = await h.triggers.get('t')!({ payload: { ok: true } }, { awaitReply: true });
    expect(await reply).toEqual({ status: 200, body: { ok: true } });
  });

  it('cancels a run in flight: its pending invocations and the run are stored cancelled', async () => {
    h = await createHarness();
    await h.deploy([
      { id: 't', type: 'test-trigger', wires: [['hold']] },
      { id: 'hold', type: 'test-hold', wires: [['a']] },
      { id: 'a', type: 'test-step', wires: [] },
    ]);
    const { runId } = await h.triggers.get('t')!({ payload: 'c' });
    await vi_until(() => h!.holds.has('c'));
    // The held node's wait is registered with the run (RunAbort, no listener per hop; invoke.ts); the cancel rejects it.
    const active = h.executor.active.get(runId)!;
    expect(active.abort.waiting).toBe(1);
    expect((await h.executor.cancel(runId))?.status).toBe('cancelled');
    expect(active.abort.waiting).toBe(0);
    h.holds.get('c')!.open();
    expect((await h.storage.getRun(runId))?.status).toBe('cancelled');
    expect((await h.storage.listInvocations(runId)).find((i) => i.nodeId === 'hold')?.status).toBe('cancelled');
    expect(h.calls).toEqual(['hold:c']);
  });

  it('deletes a finished run when the flow keeps no history', async () => {
    h = await createHarness({ retention: 'none' });
    await h.deploy(chain);
    const run = await h.finished((await h.triggers.get('t')!({ payload: 1 })).runId);
    await vi_until(async () => (await h!.storage.getRun(run.id)) === null);
  });

  it('with history kept for failed runs only, a succeeded run is gone once reported finished and a failed one is kept whole', async () => {
    h = await createHarness({ retention: 'failed' });
    await h.deploy(chain);
    const ok = await h.finished((await h.triggers.get('t')!({ payload: 1 })).runId);
    // Deleted by the commit that ended it (nothing written at all when the whole run was in one commit).
    expect(await h.storage.getRun(ok.id)).toBeNull();
    expect(await h.storage.listInvocations(ok.id)).toEqual([]);
    h.failures.set('b', 1);
    const failed = await h.finished((await h.triggers.get('t')!({ payload: 2 })).runId);
    expect(failed.status).toBe('failed');
    expect(await h.storage.getRun(failed.id)).toMatchObject({ status: 'failed' });
    expect((await h.storage.listInvocations(failed.id)).map((i) => [i.nodeId, i.status])).toEqual([
      ['t', 'succeeded'],
      ['a', 'succeeded'],
      ['b', 'failed'],
    ]);
  });

  it('resumes a run stopped mid-way in a new executor on the same storage, without repeating finished nodes', async () => {
    const storage = createSqliteStorage({ filename: ':memory:' });
    await storage.migrate();
    try {
      const first = await createHarness({ storage });
      await first.deploy([
        { id: 't', type: 'test-trigger', wires: [['a']] },
        { id: 'a', type: 'test-step', wires: [['hold']] },
        { id: 'hold', type: 'test-hold', wires: [['b']] },
        { id: 'b', type: 'test-step', wires: [] },
      ]);
      const { runId } = await first.triggers.get('t')!({ payload: 'p' });
      await vi_until(() => first.holds.has('p'));
      await first.close(); // a clean stop: the run stays stored as running, 'hold' pending

      h = await createHarness({ storage });
      await h.deploy((await storage.getFlow('f'))!.flow.nodes);
      h.holds.set('p', { promise: Promise.resolve(), open: () => {} });
      expect(await h.executor.resume()).toBe(1);
      expect((await h.finished(runId)).status).toBe('succeeded');
      expect([...first.calls, ...h.calls]).toEqual(['a:p', 'hold:p', 'hold:p', 'b:p']);
      const invocations = await storage.listInvocations(runId);
      expect(invocations.filter((i) => i.nodeId === 'a')).toHaveLength(1);
      expect(invocations.find((i) => i.nodeId === 'hold')?.interruptions ?? 0).toBe(0); // a clean stop is no interruption
    } finally {
      await h?.close();
      h = undefined;
      await storage.close();
    }
  });
});

describe('a hop whose commit fails', () => {
  it('stops the run in this process (never reported finished); storage keeps it resumable and the next start finishes it', async () => {
    const storage = createSqliteStorage({ filename: ':memory:' });
    await storage.migrate();
    const driver = (storage as SqlStorage).driver;
    const writeBatch = driver.writeBatch.bind(driver);
    let failing = false;
    let failed = 0;
    driver.writeBatch = (statements) => {
      if (!failing) return writeBatch(statements);
      failed++;
      return Promise.reject(new Error('disk full'));
    };
    try {
      const first = await createHarness({ storage });
      const reported: string[] = [];
      first.events.add({ runFinished: (run) => void reported.push(run.id) });
      await first.deploy([
        { id: 't', type: 'test-trigger', wires: [['hold']] },
        { id: 'hold', type: 'test-hold', wires: [['a']] },
        { id: 'a', type: 'test-step', wires: [['b']] },
        { id: 'b', type: 'test-step', wires: [] },
      ]);
      const { runId } = await first.triggers.get('t')!({ payload: 'p' });
      await vi_until(() => first.holds.has('p'));
      failing = true;
      first.holds.get('p')!.open();
      await vi_until(() => failed > 0);
      // Whatever had already been passed on is dropped with the run; nothing after the failed commit ends it.
      await new Promise((resolve) => setTimeout(resolve, 50));
      failing = false;
      expect(reported).not.toContain(runId);
      expect((await storage.getRun(runId))?.status).toBe('running');
      await first.close();

      h = await createHarness({ storage, holdsOpen: true });
      await h.deploy((await storage.getFlow('f'))!.flow.nodes);
      expect(await h.executor.resume()).toBe(1);
      expect((await h.finished(runId)).status).toBe('succeeded');
      expect(h.calls).toEqual(['hold:p', 'a:p', 'b:p']);
      expect((await storage.listInvocations(runId)).map((i) => [i.nodeId, i.status])).toEqual([
        ['t', 'succeeded'],
        ['hold', 'succeeded'],
        ['a', 'succeeded'],
        ['b', 'succeeded'],
      ]);
    } finally {
      await h?.close();
      h = undefined;
      await storage.close();
    }
  });
});

/** Wait until `check` holds (polling the event loop; the test's own timeout bounds it). */
async function vi_until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 2));
}

describe('step budget', () => {
  it('fails a run that loops past its flow’s step budget, saying so, and passes nothing on after it', async () => {
    h = await createHarness();
    await h.deploy(
      [
        { id: 't', type: 'test-trigger', wires: [['a']] },
        { id: 'a', type: 'test-step', wires: [['b']] },
        { id: 'b', type: 'test-step', wires: [['a']] },
      ],
      { maxSteps: 40 },
    );
    const { runId } = await h.triggers.get('t')!({ payload: 1 });
    const run = await h.finished(runId);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/^step budget exceeded: the run made 40 node invocations \(flow setting "maxSteps"\); a loop in the flow\?/);
    const stored = await h.storage.listInvocations(runId);
    expect(stored.length).toBeLessThanOrEqual(41);
    expect(stored.every((i) => i.status === 'succeeded')).toBe(true);
  });
});
