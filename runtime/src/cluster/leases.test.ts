/**
 * Run leases with several runtimes (executors with their own connection pools) on ONE real PostgreSQL: a dead
 * runtime's runs are taken over exactly once, by racing claimers; a runtime that stalled past its lease stops the runs
 * it lost; a clean stop hands runs over at once. Each test gets its own schema.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../logging/logger.ts';
import { createPostgresStorage } from '../storage/postgres.ts';
import type { Storage } from '../storage/types.ts';
import { createHarness, type Harness } from '../executor/test-harness.ts';
import { LeaseKeeper } from './lease-keeper.ts';

const url = process.env.FLOWCREW_TEST_DATABASE_URL ?? 'postgres://flowcrew:flowcrew@127.0.0.1:5432/flowcrew_test';
const prefix = `leases_${randomBytes(3).toString('hex')}`;
const schemas: string[] = [];
const open: Array<{ h: Harness; keeper: LeaseKeeper; storage: Storage }> = [];

afterEach(async () => {
  for (const { keeper, h, storage } of open.splice(0)) {
    await keeper.stop();
    await h.executor.close().catch(() => {});
    await storage.close().catch(() => {});
  }
});
afterAll(async () => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

const flow = [
  { id: 't', type: 'test-trigger', wires: [['a']] },
  { id: 'a', type: 'test-step', wires: [['hold']] },
  { id: 'hold', type: 'test-hold', wires: [['b']] },
  { id: 'b', type: 'test-step', wires: [] },
];

/** One "runtime": its own pool on the shared schema, an executor with the flow deployed, a lease keeper beating only when told. */
async function runtime(schema: string, owner: string, ttlMs: number, opts: { releaseHolds?: boolean } = {}) {
  const storage = await createPostgresStorage({ connectionString: url, schema });
  await storage.migrate();
  const h = await createHarness({ storage, holdsOpen: opts.releaseHolds });
  const keeper = new LeaseKeeper({ leases: storage.leases!, executor: h.executor, log: createLogger({ level: 'silent' }), owner, ttlMs, heartbeatMs: 3_600_000 });
  await h.deploy(flow);
  const entry = { h, keeper, storage };
  open.push(entry);
  return entry;
}

function freshSchema(): string {
  const schema = `${prefix}_${schemas.length + 1}`;
  schemas.push(schema);
  return schema;
}

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** Start `n` runs on `r` and wait until each is held inside the 'hold' node. */
async function startHeld(r: { h: Harness }, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await r.h.triggers.get('t')!({ payload: `p${i}` })).runId);
  await until(() => r.h.holds.size === n);
  return ids;
}

/** Every run succeeded, and each node ran (was completed) exactly once in it. */
async function expectEachRanOnce(storage: Storage, runIds: string[]): Promise<void> {
  for (const id of runIds) {
    expect((await storage.getRun(id))?.status).toBe('succeeded');
    const invocations = await storage.listInvocations(id);
    expect(invocations.map((i) => `${i.nodeId}:${i.status}`).sort()).toEqual(['a:succeeded', 'b:succeeded', 'hold:succeeded', 't:succeeded']);
  }
}

describe('run leases on one PostgreSQL', () => {
  it("a dead runtime's runs are taken over exactly once by two racing runtimes, finished nodes not repeated", async () => {
    const schema = freshSchema();
    const a = await runtime(schema, 'A', 400);
    await a.keeper.start();
    const runIds = await startHeld(a, 20);
    // A dies (as with kill -9): it stops renewing and writes nothing more for its runs.
    await a.keeper.stop();
    a.h.executor.abandon(runIds, 'simulated crash');

    const b = await runtime(schema, 'B', 60_000, { releaseHolds: true });
    const c = await runtime(schema, 'C', 60_000, { releaseHolds: true });
    await new Promise((resolve) => setTimeout(resolve, 450)); // A's leases expire
    // B and C start together and race for A's runs; then both beat (nothing is left to take).
    const resumed = await Promise.all([b.keeper.start(), c.keeper.start()]);
    await Promise.all([b.keeper.beat(), c.keeper.beat()]);
    expect(resumed[0]! + resumed[1]! + b.keeper.stats.takenOver + c.keeper.stats.takenOver).toBe(20);
    await until(async () => (await Promise.all(runIds.map((id) => a.storage.getRun(id)))).every((r) => r?.status === 'succeeded'));
    const holdCalls = [...b.h.calls, ...c.h.calls].filter((call) => call.startsWith('hold:'));
    expect(holdCalls.sort()).toEqual(runIds.map((_, i) => `hold:p${i}`).sort());
    expect([...b.h.calls, ...c.h.calls].filter((call) => call.startsWith('a:'))).toEqual([]); // 'a' finished on A: not repeated
    await expectEachRanOnce(a.storage, runIds);
  });

  it('a runtime that stalled past its lease stops the runs another one took over; nothing is completed twice', async () => {
    const schema = freshSchema();
    const a = await runtime(schema, 'A', 300);
    await a.keeper.start();
    const runIds = await startHeld(a, 5);
    await new Promise((resolve) => setTimeout(resolve, 350)); // A "stalls": no heartbeat within its lease
    const b = await runtime(schema, 'B', 60_000, { releaseHolds: true });
    await b.keeper.start(); // takes over A's expired leases at its start
    await until(async () => (await Promise.all(runIds.map((id) => b.storage.getRun(id)))).every((r) => r?.status === 'succeeded'));

    await a.keeper.beat(); // A wakes up: its renewal shows the runs are no longer its own
    expect(a.keeper.stats.lost).toBe(5);
    expect(a.h.executor.activeRunIds()).toEqual([]);
    for (const held of a.h.holds.values()) held.open(); // its node calls return now: nothing of them may be written
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(a.h.calls.filter((call) => call.startsWith('b:'))).toEqual([]);
    await expectEachRanOnce(b.storage, runIds);
  });

  it('a clean stop hands its runs over at once, without waiting for the lease to expire', async () => {
    const schema = freshSchema();
    const a = await runtime(schema, 'A', 3_600_000);
    await a.keeper.start();
    const runIds = await startHeld(a, 3);
    // What Runtime.close() does: stop beating, stop the executor cleanly, then give the runs up.
    const held = a.h.executor.activeRunIds();
    await a.keeper.stop();
    await a.h.executor.close();
    await a.keeper.release(held);

    const b = await runtime(schema, 'B', 3_600_000, { releaseHolds: true });
    await b.keeper.start();
    await until(async () => (await Promise.all(runIds.map((id) => b.storage.getRun(id)))).every((r) => r?.status === 'succeeded'));
    const invocations = await b.storage.listInvocations(runIds[0]!);
    expect(invocations.find((i) => i.nodeId === 'hold')?.interruptions ?? 0).toBe(0); // a clean stop is no crash
    await expectEachRanOnce(b.storage, runIds);
  });

  it('a run this runtime holds but dropped (a failed write) is resumed here at the second beat, not renewed unexecuted', async () => {
    const schema = freshSchema();
    const a = await runtime(schema, 'A', 3_600_000);
    await a.keeper.start();
    const [runId] = await startHeld(a, 1);
    a.h.executor.abandon([runId!], 'simulated failed write');
    a.h.holds.get('p0')!.open(); // the dropped call returns (nothing of it is written); the resumed one passes
    await a.keeper.beat(); // seen idle once: might be between a claim and its start
    expect(a.keeper.stats.orphansResumed).toBe(0);
    await a.keeper.beat();
    expect(a.keeper.stats.orphansResumed).toBe(1);
    await until(async () => (await a.storage.getRun(runId!))?.status === 'succeeded');
    expect(a.h.calls.filter((call) => call.startsWith('b:'))).toEqual(['b:p0']);
  });

  it('a restarted runtime with the same instance id resumes its own runs at once', async () => {
    const schema = freshSchema();
    const a = await runtime(schema, 'A', 3_600_000);
    await a.keeper.start();
    const runIds = await startHeld(a, 2);
    await a.keeper.stop();
    a.h.executor.abandon(runIds, 'simulated crash');
    const again = await runtime(schema, 'A', 3_600_000, { releaseHolds: true });
    expect(await again.keeper.start()).toBe(2);
    await until(async () => (await Promise.all(runIds.map((id) => again.storage.getRun(id)))).every((r) => r?.status === 'succeeded'));
    expect((await again.storage.listInvocations(runIds[0]!)).find((i) => i.nodeId === 'hold')?.interruptions).toBe(1); // a crash counts
  });
});
