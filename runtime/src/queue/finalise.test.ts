/**
 * Run finalisation when admissions overlap (the chaos test's "running with every invocation succeeded"), on a real
 * PostgreSQL: each test builds the interleaving deterministically with executors on their own pools, pausing one of
 * them between reading a run and adopting it (the storage read is held at a gate; nothing is mocked). Also: the
 * reconciler that finishes a run left open, the guard that never reopens an ended run, and the cluster-wide slots of
 * a flow's concurrency limit (leases.start).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { v7 as uuid } from 'uuid';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../logging/logger.ts';
import { createPostgresStorage } from '../storage/postgres.ts';
import type { InvocationRecord, RunRecord, Storage } from '../storage/types.ts';
import { createHarness, gate, type Harness } from '../executor/test-harness.ts';
import { LeaseKeeper } from '../cluster/lease-keeper.ts';
import { TEST_DATABASE_URL as url } from '../testing/storage-backends.ts';

const prefix = `finalise_${randomBytes(3).toString('hex')}`;
const schemas: string[] = [];
const open: Array<{ h: Harness; keeper: LeaseKeeper; storage: Storage }> = [];
/** The "mains": storages holding no lease, as a main accepts runs for the queue (nobody's until a worker claims them). */
const mains = new Map<string, Storage>();
const flow = [
  { id: 't', type: 'test-trigger', wires: [['a']] },
  { id: 'a', type: 'test-step', wires: [['b']] },
  { id: 'b', type: 'test-step', wires: [] },
];

afterEach(async () => {
  for (const { keeper, h, storage } of open.splice(0)) {
    await keeper.stop();
    await h.executor.close().catch(() => {});
    await storage.close().catch(() => {});
  }
  for (const storage of mains.values()) await storage.close().catch(() => {});
  mains.clear();
});
afterAll(async () => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

function freshSchema(): string {
  const schema = `${prefix}_${schemas.length + 1}`;
  schemas.push(schema);
  return schema;
}

/** One "worker": its own pool on the shared schema, the flow deployed, leases held as `owner` (no timer: beats when told). */
async function worker(schema: string, owner: string, settings?: { concurrency: number }) {
  const storage = await createPostgresStorage({ connectionString: url, schema });
  await storage.migrate();
  const h = await createHarness({ storage });
  const keeper = new LeaseKeeper({ leases: storage.leases!, executor: h.executor, log: createLogger({ level: 'silent' }), owner, ttlMs: 60_000, heartbeatMs: 3_600_000 });
  await h.deploy(flow, settings);
  const entry = { h, keeper, storage };
  open.push(entry);
  return entry;
}

/** What a main stores for a run accepted in queue mode: queued, nobody's, the trigger done and node 'a' pending. */
async function acceptQueued(schema: string, createdAt = Date.now()): Promise<string> {
  let storage = mains.get(schema);
  if (!storage) mains.set(schema, (storage = await createPostgresStorage({ connectionString: url, schema })));
  const id = uuid();
  const flowVersion = (await storage.getFlow('f'))!.flow.version;
  const msg = { _msgid: uuid(), payload: id };
  const run: RunRecord = { id, flowId: 'f', flowVersion, status: 'queued', triggerNodeId: 't', input: msg, error: null, parentRunId: null, createdAt, startedAt: null, finishedAt: null };
  const base = { runId: id, attempt: 0, error: null, createdAt, startedAt: null, finishedAt: null };
  const first: InvocationRecord[] = [
    { ...base, id: uuid(), nodeId: 't', nodeType: 'test-trigger', status: 'succeeded', attempt: 1, input: null, outputs: [{ port: 0, msg }], parentId: null, seq: 0, startedAt: createdAt, finishedAt: createdAt },
    { ...base, id: uuid(), nodeId: 'a', nodeType: 'test-step', status: 'pending', input: msg, outputs: null, parentId: null, seq: 1 },
  ];
  await storage.acceptRun(run, first);
  return id;
}

/** Holds this storage's resumable-runs reads until `release()` (`read` resolves once `n` of them have read the database). */
function holdReads(storage: Storage, n = 1): { read: Promise<void>; release(): void } {
  const original = storage.listResumableRuns.bind(storage);
  const held = gate();
  let signal!: () => void;
  const read = new Promise<void>((resolve) => (signal = resolve));
  let reads = 0;
  storage.listResumableRuns = async (filter) => {
    const result = await original(filter);
    if (++reads === n) signal();
    await held.promise;
    return result;
  };
  return { read, release: held.open };
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function statusOf(storage: Storage, runId: string): Promise<string | undefined> {
  return (await storage.getRun(runId))?.status;
}

describe('run finalisation when admissions overlap (real PostgreSQL)', () => {
  it('a worker that read a run as queued, then lost it to another that finished it, neither reopens nor re-runs it', async () => {
    const schema = freshSchema();
    const a = await worker(schema, 'A');
    const b = await worker(schema, 'B');
    const runId = await acceptQueued(schema);

    // B takes the job: claims the run, reads it (queued)... and stalls before adopting it.
    expect(await b.storage.leases!.claim({ mode: 'ids', runIds: [runId] })).toEqual([runId]);
    const paused = holdReads(b.storage);
    const resumingOnB = b.h.executor.resume([runId]);
    await paused.read;

    // Meanwhile B's lease runs out (claimed as if the ttl had passed) and A runs the run to its end.
    expect(await a.storage.leases!.claim({ mode: 'ids', runIds: [runId], now: Date.now() + 120_000 })).toEqual([runId]);
    await a.h.executor.resume([runId]);
    expect((await a.h.finished(runId)).status).toBe('succeeded');

    // B wakes up and goes on adopting what it read.
    paused.release();
    await resumingOnB;
    await until(() => b.h.executor.activeRunIds().length === 0, 'B to hold no run');
    expect(await statusOf(a.storage, runId)).toBe('succeeded');
    expect(b.h.calls).toEqual([]); // nothing ran again on B
    expect(a.h.calls).toEqual([`a:${runId}`, `b:${runId}`]);
    const invocations = await a.storage.listInvocations(runId);
    expect(invocations.map((i) => `${i.nodeId}:${i.status}`).sort()).toEqual(['a:succeeded', 'b:succeeded', 't:succeeded']);
  });

  it('two resumes of one run at once in one process (a re-delivered job and a lease take-over) adopt it once', async () => {
    const schema = freshSchema();
    const a = await worker(schema, 'A');
    const runId = await acceptQueued(schema);
    await a.storage.leases!.claim({ mode: 'ids', runIds: [runId] });
    const paused = holdReads(a.storage, 2);
    const first = a.h.executor.resume([runId]);
    const second = a.h.executor.resume([runId]);
    await paused.read; // both have read the run (queued, not active here) before either adopts it
    paused.release();
    await Promise.all([first, second]);
    expect((await a.h.finished(runId)).status).toBe('succeeded');
    await until(() => a.h.executor.activeRunIds().length === 0, 'the run to end');
    expect(a.h.calls).toEqual([`a:${runId}`, `b:${runId}`]); // each node once
    expect(await statusOf(a.storage, runId)).toBe('succeeded');
  });

  it('a late status write of a process that lost the run never reopens an ended run', async () => {
    const schema = freshSchema();
    const a = await worker(schema, 'A');
    const runId = await acceptQueued(schema);
    await a.storage.updateRun({ id: runId, status: 'succeeded', finishedAt: Date.now() });
    await a.storage.updateRun({ id: runId, status: 'running', startedAt: Date.now() });
    await a.storage.updateRun({ id: runId, status: 'waiting' });
    expect(await statusOf(a.storage, runId)).toBe('succeeded');
  });

  it('the reconciler finishes a run left running with every invocation done, and nothing else', async () => {
    const schema = freshSchema();
    const a = await worker(schema, 'A');
    const leases = a.storage.leases!;
    const old = Date.now() - 60_000;
    const open = async (complete: Array<{ node: 'a' | 'b'; status: 'succeeded' | 'failed' }>, createdAt = old) => {
      const id = await acceptQueued(schema, createdAt);
      await a.storage.updateRun({ id, status: 'running', startedAt: createdAt });
      const pending = (await a.storage.listInvocations(id)).find((i) => i.status === 'pending')!;
      let next: InvocationRecord[] = [];
      for (const [i, step] of complete.entries()) {
        const current = i === 0 ? pending : next[0]!;
        next = i + 1 < complete.length ? [{ ...current, id: uuid(), nodeId: complete[i + 1]!.node, parentId: current.id, seq: current.seq + 1 }] : [];
        await a.storage.completeInvocation({ invocation: { id: current.id, status: step.status, attempt: 1, outputs: [], error: step.status === 'failed' ? 'boom' : null, startedAt: createdAt, finishedAt: createdAt }, next });
      }
      return id;
    };
    const done = await open([{ node: 'a', status: 'succeeded' }, { node: 'b', status: 'succeeded' }]);
    const failed = await open([{ node: 'a', status: 'succeeded' }, { node: 'b', status: 'failed' }]);
    const stillPending = await open([]);
    const recent = await open([{ node: 'a', status: 'succeeded' }], Date.now());

    const finished = await leases.finishSettled(30_000);
    expect(finished.sort((x, y) => x.id.localeCompare(y.id))).toEqual([{ id: done, status: 'succeeded' }, { id: failed, status: 'failed' }].sort((x, y) => x.id.localeCompare(y.id)));
    expect((await a.storage.getRun(failed))?.error).toMatch(/node "b" failed .*reconciler/);
    expect(await statusOf(a.storage, stillPending)).toBe('running');
    expect(await statusOf(a.storage, recent)).toBe('running');
    expect(await leases.finishSettled(30_000)).toEqual([]); // once
  });

  it("a flow's concurrency limit holds across processes: racing starts never exceed it", async () => {
    const schema = freshSchema();
    const a = await worker(schema, 'A', { concurrency: 2 });
    const b = await worker(schema, 'B', { concurrency: 2 });
    const ids = [];
    for (let i = 0; i < 8; i++) ids.push(await acceptQueued(schema));
    await a.storage.leases!.claim({ mode: 'ids', runIds: ids.slice(0, 4) });
    await b.storage.leases!.claim({ mode: 'ids', runIds: ids.slice(4) });
    const starts = (s: Storage, some: string[]) => s.leases!.start(some.map((id) => ({ id, flowId: 'f', limit: 2 })));
    const [onA, onB] = await Promise.all([starts(a.storage, ids.slice(0, 4)), starts(b.storage, ids.slice(4))]);
    expect(onA.size + onB.size).toBe(2);
    // Not ours: B cannot start A's runs, limit or not.
    expect((await b.storage.leases!.start(ids.slice(0, 4).map((id) => ({ id, flowId: 'f', limit: 0 })))).size).toBe(0);
    // A gives back what it could not start; they are nobody's again, still queued.
    const full = ids.slice(0, 4).filter((id) => !onA.has(id));
    expect((await a.storage.leases!.queuedHeld(full, true)).sort()).toEqual([...full].sort());
    expect((await a.storage.leases!.queuedHeld(full)).length).toBe(0);
  });

  it('waiting runs take freed slots in arrival order: a newer run never overtakes an older one waiting, on any process', async () => {
    const schema = freshSchema();
    const a = await worker(schema, 'A', { concurrency: 1 });
    const b = await worker(schema, 'B', { concurrency: 1 });
    const t0 = Date.now();
    const [first, older, newer] = [await acceptQueued(schema, t0), await acceptQueued(schema, t0 + 1), await acceptQueued(schema, t0 + 2)];
    const start = (s: Storage, id: string) => s.leases!.start([{ id, flowId: 'f', limit: 1 }]);
    await a.storage.leases!.claim({ mode: 'ids', runIds: [first] });
    expect([...(await start(a.storage, first)).keys()]).toEqual([first]);
    // The slot is taken: `older` waits (given back: queued, nobody's). Offered in arrival order.
    await a.storage.leases!.claim({ mode: 'ids', runIds: [older] });
    expect((await start(a.storage, older)).size).toBe(0);
    await a.storage.leases!.queuedHeld([older], true);
    expect(await b.storage.leases!.waitingForSlot('f', 5)).toEqual([older, newer]);

    await a.storage.updateRun({ id: first, status: 'succeeded', finishedAt: Date.now() });
    // The slot is free, but `newer` (on B) is behind `older`, which waits: B may not take it.
    await b.storage.leases!.claim({ mode: 'ids', runIds: [newer] });
    expect((await start(b.storage, newer)).size).toBe(0);
    await b.storage.leases!.queuedHeld([newer], true);
    // The oldest waiting run takes it, on whichever process claims it.
    await b.storage.leases!.claim({ mode: 'ids', runIds: [older] });
    expect([...(await start(b.storage, older)).keys()]).toEqual([older]);
    expect(await a.storage.leases!.waitingForSlot('f', 5)).toEqual([newer]);
  });

  it('a run backing off between retries keeps its slot of the limit; a run parked on a question gives it up', async () => {
    const schema = freshSchema();
    const a = await worker(schema, 'A', { concurrency: 1 });
    const backingOff = await acceptQueued(schema);
    await a.storage.updateRun({ id: backingOff, status: 'waiting', startedAt: Date.now() });
    const next = await acceptQueued(schema);
    await a.storage.leases!.claim({ mode: 'ids', runIds: [next] });
    const start = () => a.storage.leases!.start([{ id: next, flowId: 'f', limit: 1 }]);
    expect((await start()).size).toBe(0); // the backing-off run still holds the only slot

    // Parked on a question (an undelivered wait): its slot is free.
    const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    await client.connect();
    await client.query(
      `INSERT INTO waits (id, run_id, invocation_id, flow_id, node_id, project_id, status, request, assignees, created_at) VALUES ($1, $2, 'i', 'f', 'a', 'default', 'open', '{}', '[]', $3)`,
      [uuid(), backingOff, Date.now()],
    );
    await client.end();
    expect([...(await start()).keys()]).toEqual([next]);
  });
});
