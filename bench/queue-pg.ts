/**
 * PostgreSQL's CPU per queued run at FIXED batching (session 12): the storage calls a queue-mode main and worker make
 * for a 6-node webhook run, through the real storage code, with no HTTP, Redis or executor: so what a change to the
 * queued run's SQL costs PostgreSQL shows without the load generator's and the scheduler's noise, and the runs per
 * transaction are set, not whatever the machine's load made them (they move PostgreSQL's CPU per run the most).
 * Per batch of B runs: main: B acceptances (run queued, the trigger's invocation and the first pending one, the
 * outbox row) in one group commit, the previous batch's outbox delete with them; worker: claimToRun of the B runs;
 * then 5 completions per run (the last finishes it), all B runs' writes in one group commit. PostgreSQL backend CPU
 * from /proc/<pid>/schedstat, per phase.
 *
 * Usage: node --import tsx bench/queue-pg.ts [--batch 4] [--batches 150] [--rounds 1] [--rev <git revision or dir>]
 *   [--postgres postgres://...]
 * --rev: the same measure on a revision (extracted with bench/checkout.ts) in alternating processes, before each of
 * this tree's rounds. Figures are printed, never asserted.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { InvocationRecord, OutputRecord } from '../runtime/src/storage/types.ts';
import { checkout } from './checkout.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const B = Number(option('batch', '4'));
const BATCHES = Number(option('batches', '150'));
const ROUNDS = Number(option('rounds', '1'));
const REV = option('rev', '');
const base = option('postgres', 'postgres://flowcrew:flowcrew@127.0.0.1:5432/flowcrew_test');
const repoRoot = path.resolve(import.meta.dirname, '..');

if (REV) {
  const revDir = existsSync(path.join(REV, 'runtime')) ? path.resolve(REV) : checkout(REV, await mkdtemp(path.join(tmpdir(), 'flowcrew-bench-rev-')));
  const own = path.join(repoRoot, 'bench/queue-pg.ts');
  const pass = ['--batch', String(B), '--batches', String(BATCHES), '--postgres', base];
  const results: Record<string, number[]> = { [REV]: [], 'this tree': [] };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [label, tree] of [[REV, revDir], ['this tree', repoRoot]] as const) {
      // This file measures the other tree's storage code (--tree): the revision need not have the bench.
      const child = spawn(process.execPath, ['--import', 'tsx', own, ...pass, '--tree', tree], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      await new Promise((resolve) => child.once('exit', resolve));
      process.stdout.write(`round ${round} ${label.padEnd(10)} ${out}`);
      const m = /PostgreSQL ([0-9]+) µs per run/.exec(out);
      if (m) results[label]!.push(Number(m[1]));
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const [label, xs] of Object.entries(results)) console.log(`${label}: PostgreSQL µs per queued run median ${median(xs)} (${xs.join(' ')})`);
  process.exit(0);
}

const tree = path.resolve(option('tree', repoRoot));
const { createPostgresStorage } = (await import(path.join(tree, 'runtime/src/storage/postgres.ts'))) as typeof import('../runtime/src/storage/postgres.ts');
const app = `flowcrew-queue-pg-${process.pid}`;
const schema = `queue_pg_${process.pid}`;
const admin = new pg.Client({ connectionString: base });
await admin.connect();
await admin.query(`CREATE SCHEMA ${schema}`);
const url = `${base}${base.includes('?') ? '&' : '?'}application_name=${app}`;
const main = await createPostgresStorage({ connectionString: url, schema });
await main.migrate();
const worker = await createPostgresStorage({ connectionString: url, schema });
worker.leases!.hold({ owner: 'worker', ttlMs: 30_000 });
await main.saveFlow({ id: 'orders', name: 'orders', version: 1, nodes: [] });
const msg = { payload: { order: { id: 123, items: [{ sku: 'a', qty: 2, price: 9.5 }, { sku: 'b', qty: 1, price: 20 }], customer: 'someone@example.com' } }, headers: { 'content-type': 'application/json' } };
type Status = 'pending' | 'succeeded';
const invocation = (runId: string, seq: number, status: Status, input: unknown, outputs: OutputRecord[] | null, at: number): InvocationRecord => ({
  id: `${runId}.${seq}`, runId, nodeId: `n${seq}`, nodeType: seq === 0 ? 'webhook' : 'change', status, attempt: status === 'pending' ? 0 : 1, input, outputs,
  error: null, parentId: seq === 0 ? null : `${runId}.${seq - 1}`, seq, createdAt: at, startedAt: status === 'pending' ? null : at, finishedAt: status === 'pending' ? null : at,
});
const phase = { accept: 0, claim: 0, worker: 0 };
let pids: number[] = [];
const cpuUs = () => pids.reduce((t, pid) => {
  try {
    return t + Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e3;
  } catch {
    return t; // gone
  }
}, 0);
let n = 0;
async function batch(previous: string[]): Promise<string[]> {
  const now = Date.now();
  const ids = Array.from({ length: B }, () => `0193a000-0000-7000-8000-${String(process.pid % 10_000).padStart(4, '0')}${String(++n).padStart(8, '0')}`);
  const t0 = cpuUs();
  await Promise.all([
    ...ids.map((id) => main.acceptRun({ id, flowId: 'orders', flowVersion: 1, status: 'queued', triggerNodeId: 'n0', input: msg, error: null, parentRunId: null, createdAt: now, startedAt: null, finishedAt: null }, [invocation(id, 0, 'succeeded', null, [{ port: 0, msg }], now), invocation(id, 1, 'pending', msg, null, now)], { outbox: true, flowProject: 'default' })),
    previous.length > 0 ? main.outbox!.remove(previous) : Promise.resolve(),
  ]);
  const t1 = cpuUs();
  const claimed = await worker.leases!.claimToRun(ids, [{ flowId: 'orders', version: 1 }]);
  if (claimed.started.size !== B) throw new Error(`started ${claimed.started.size} of ${B} runs`);
  const t2 = cpuUs();
  const writes: Promise<void>[] = [];
  for (const id of ids) {
    for (let seq = 1; seq <= 5; seq++) {
      const out = { ...msg, step: seq };
      writes.push(worker.completeInvocation({ runId: id, invocation: { id: `${id}.${seq}`, status: 'succeeded', attempt: 1, outputs: [{ port: 0, msg: out }], error: null, startedAt: now, finishedAt: now }, next: seq === 5 ? [] : [invocation(id, seq + 1, 'pending', out, null, now)], ...(seq === 5 ? { run: { id, status: 'succeeded' as const, finishedAt: Date.now() } } : {}) }));
    }
  }
  await Promise.all(writes);
  const t3 = cpuUs();
  phase.accept += t1 - t0;
  phase.claim += t2 - t1;
  phase.worker += t3 - t2;
  return ids;
}
let previous: string[] = [];
for (let i = 0; i < 20; i++) previous = await batch(previous); // warm-up (not measured: no backends known yet)
pids = (await admin.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [app])).rows.map((r: { pid: number }) => r.pid);
Object.assign(phase, { accept: 0, claim: 0, worker: 0 });
const startLsn = String((await admin.query('SELECT pg_current_wal_lsn() AS lsn')).rows[0].lsn);
const self = process.cpuUsage();
for (let i = 0; i < BATCHES; i++) previous = await batch(previous);
const runs = B * BATCHES;
const node = process.cpuUsage(self);
const per = (us: number) => Math.round(us / runs);
console.log(`${B} runs per batch, ${runs} runs: PostgreSQL ${per(phase.accept + phase.claim + phase.worker)} µs per run (acceptance ${per(phase.accept)}, claim ${per(phase.claim)}, worker's writes ${per(phase.worker)}); this process ${per(node.user + node.system)} µs (load ${loadavg()[0]!.toFixed(1)})${await walOfRuns(startLsn, runs)}`);

/**
 * This schema's own WAL over the measured batches (session 14; the server's WAL position moves with every other
 * database's writes on a shared machine): pg_walinspect's records touching this schema's tables and indexes, plus the
 * commit records of their transactions; full-page images counted apart (they depend on checkpoint timing, not on the
 * SQL). Empty when pg_walinspect is not available (it needs a superuser).
 */
async function walOfRuns(start: string, runs: number): Promise<string> {
  try {
    await admin.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect');
    const end = String((await admin.query('SELECT pg_current_wal_lsn() AS lsn')).rows[0].lsn);
    const { rows } = await admin.query(
      `WITH rels AS (SELECT pg_relation_filenode(c.oid)::text AS fn FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = $3 AND pg_relation_filenode(c.oid) IS NOT NULL),
            recs AS (SELECT * FROM pg_get_wal_records_info($1, $2)),
            ours AS (SELECT r.* FROM recs r WHERE EXISTS (SELECT 1 FROM rels WHERE r.block_ref LIKE '%/' || rels.fn || ' fork%')),
            commits AS (SELECT r.* FROM recs r WHERE r.resource_manager = 'Transaction' AND r.xid IN (SELECT xid FROM ours WHERE xid <> '0'))
       SELECT count(*)::int AS records, sum(record_length - fpi_length)::bigint AS bytes, sum(fpi_length)::bigint AS fpi
       FROM (SELECT record_length, fpi_length FROM ours UNION ALL SELECT record_length, fpi_length FROM commits) w`,
      [start, end, schema],
    );
    const w = rows[0] as { records: number; bytes: string; fpi: string | null };
    return `; WAL per run: ${(w.records / runs).toFixed(1)} records, ${Math.round(Number(w.bytes) / runs)} bytes (+ ${Math.round(Number(w.fpi ?? 0) / runs)} of full-page images)`;
  } catch (error) {
    return `; WAL not measured (${(error as Error).message})`;
  }
}
await main.close();
await worker.close();
await admin.query(`DROP SCHEMA ${schema} CASCADE`);
await admin.end();
