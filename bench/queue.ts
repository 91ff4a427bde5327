/**
 * Scale-out benchmark (figures printed, never asserted), the issue's two workloads in each mode, in one run:
 * - chain: a 10-node chain (inject → 9 change nodes), N runs started with at most 64 in flight (runNow, its end seen
 *   by its reply);
 * - webhook: the 6-node order flow (flows/orders-webhook.json) POSTed over HTTP for a fixed time (bench/queue-webhook.ts);
 * in
 * 1. embedded mode on SQLite (one process),
 * 2. embedded mode on PostgreSQL (one process),
 * 3. queue mode: this process is the main (accepts into PostgreSQL + outbox, relays to BullMQ on Redis, serves the
 *    webhook), with 1 and then 2 worker processes (`flowcrew worker`);
 * runs/s, latency p50/p99, queue latency (commit → a worker starts it) p50/p99, CPU per run by part, the queue / single
 * process PostgreSQL ratio of each workload, and the cost of one lease heartbeat with 1,000 active runs.
 *
 * Usage: node --import tsx bench/queue.ts [--runs 2000] [--nodes 10] [--in-flight 64] [--seconds 10] [--warm 10] [--connections 64]
 *   [--workload chain,webhook] [--done reply|poll] [--only sqlite,pg,queue1,queue2,heartbeat] [--rounds 1] [--same-session]
 *   [--pg-stats] [--postgres postgres://...] [--redis redis://127.0.0.1:6379/6] [--rev <git revision>]
 * Needs PostgreSQL (127.0.0.1:5432, flowcrew/flowcrew, flowcrew_test) and Redis (scripts/services).
 * --rev: old code against this tree, in alternating rounds (a git revision, or a directory holding a prepared tree): before each of this tree's rounds, the same round (same
 * flags) runs on the revision (extracted with bench/checkout.ts, its own bench/queue.ts in a process of its own); the
 * ratios of both trees per round and their medians are printed at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig } from '../runtime/src/config.ts';
import type { Runtime } from '../runtime/src/runtime.ts';
import { startServer, type RunningServer } from '../runtime/src/server.ts';
import { createPostgresStorage } from '../runtime/src/storage/postgres.ts';
import { QUEUE_NAME } from '../runtime/src/queue/worker.ts';
import { deployOrderFlow, webhookLoad } from './queue-webhook.ts';
import { checkout } from './checkout.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const RUNS = Number(option('runs', '2000'));
/**
 * How the bench learns that a run ended. 'reply' (default): it asks for the run's reply (EmitOptions.awaitReply),
 * the product's own "run done" signal in both modes — in-process in embedded mode, the worker's publish on the run's
 * Redis channel in queue mode (what a webhook caller waits on). 'poll': one query every 20 ms for the runs in flight
 * (queue mode; sessions 5-7 measured this way: it adds ~10-20 ms to every queued run's latency, and so, with a fixed
 * number in flight, lowers its runs/s).
 */
const DONE = option('done', 'reply');
if (DONE !== 'reply' && DONE !== 'poll') throw new Error(`--done: 'reply' or 'poll', not "${DONE}"`);
/** Nodes in the chain (inject + change nodes): 10 as in the issue's benchmark (sessions 5-8 measured 4). */
const NODES = Number(option('nodes', '10'));
const IN_FLIGHT = Number(option('in-flight', '64'));
/** The webhook workload: seconds of load and connections. */
const SECONDS = Number(option('seconds', '10'));
const CONNECTIONS = Number(option('connections', '64'));
/**
 * Seconds of webhook load before the measured ones, in every mode (default 10; 1 until session 16). A worker is a new
 * process in each round while the embedded server (this process) is the same one round after round: in a worker's
 * first 5 s of load ~37 % of its CPU was V8's optimising compiler, ~1 % after 20 s (perf, session 14), so a 1 s warm-up
 * measured a cold worker against a warm embedded server from the second round on (worker CPU per run 13-24 % higher
 * than after 10 s, docs/scaling.md session 16). Both modes are now measured warm, as a long-running process runs.
 */
const WARM = Number(option('warm', '10'));
const workloads = new Set(option('workload', 'chain,webhook').split(','));
const pgUrl = option('postgres', 'postgres://flowcrew:flowcrew@127.0.0.1:5432/flowcrew_test');
const redisUrl = option('redis', 'redis://127.0.0.1:6379/6');
const repoRoot = path.resolve(import.meta.dirname, '..');
/** Parts to run (profiling one of them): sqlite,pg,queue1,queue2,heartbeat; default all. */
const only = new Set(option('only', 'sqlite,pg,queue1,queue2,heartbeat').split(','));
/** Extra node flags for the worker processes (e.g. --cpu-prof), space-separated. */
const workerNodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);

const chain: unknown[] = [{ id: 'n0', type: 'inject', wires: [['n1']] }];
for (let i = 1; i < NODES; i++) chain.push({ id: `n${i}`, type: 'change', props: { rules: [{ t: 'set', p: `payload.s${i}`, pt: 'msg', to: String(i), tot: 'num' }] }, wires: i < NODES - 1 ? [[`n${i + 1}`]] : [] });

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function freshSchema(): Promise<string> {
  const schema = `bench_${randomBytes(3).toString('hex')}`;
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
  return schema;
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}

/** The bench's own PostgreSQL backends are told apart by application_name (their CPU is counted, see cpuMeter). */
const BENCH_APP = 'flowcrew-bench-queue';
const urlFor = (schema: string) => `${pgUrl}?application_name=${BENCH_APP}&options=${encodeURIComponent(`-c search_path=${schema}`)}`;

/** CPU time (ms) of a process from /proc (utime + stime, clock ticks of 10 ms). */
async function procCpuMs(pid: number): Promise<number> {
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0; // gone
  }
}

/**
 * CPU spent per run by each part (this process, workers, the bench's PostgreSQL backends, Redis) while a part runs:
 * unlike runs/s it hardly depends on what else the machine does, so it says where a run's cost goes.
 */
async function cpuMeter(workerPids: number[]): Promise<(runs: number) => Promise<string>> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  const backends = async () => (await client.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [BENCH_APP])).rows.map((r: { pid: number }) => r.pid);
  const redis = new Redis(redisUrl);
  const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1] ?? 0);
  // BullMQ counts every job added (its id key, default prefix): jobs per run say how many runs a job carries.
  const jobsAdded = async () => Number((await redis.get(`bull:${QUEUE_NAME}:id`)) ?? 0);
  const jobs0 = await jobsAdded();
  // Redis commands by name (INFO commandstats: server-wide, so other clients of the same server count too).
  const commands = async () => {
    const counts = new Map<string, { calls: number; usec: number }>();
    for (const m of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) counts.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
    return counts;
  };
  const commands0 = await commands();
  const sum = async (pids: number[]) => (await Promise.all(pids.map(procCpuMs))).reduce((a, b) => a + b, 0);
  const work0 = await pgWork(client);
  const before = new Map<number, number>();
  for (const pid of await backends()) before.set(pid, await procCpuMs(pid));
  const self0 = process.cpuUsage();
  const workers0 = await sum(workerPids);
  const redis0 = redisPid ? await procCpuMs(redisPid) : 0;
  return async (runs: number) => {
    const self = process.cpuUsage(self0);
    let pgMs = 0;
    for (const pid of await backends()) pgMs += (await procCpuMs(pid)) - (before.get(pid) ?? 0);
    const workersMs = (await sum(workerPids)) - workers0;
    const redisMs = redisPid ? (await procCpuMs(redisPid)) - redis0 : 0;
    const work = PG_STATS ? await pgWork(client, work0, runs) : '';
    await client.end();
    const jobs = workerPids.length ? `, BullMQ jobs per run ${(((await jobsAdded()) - jobs0) / runs).toFixed(2)}` : '';
    let redisLine = '';
    if (workerPids.length) {
      const rows: Array<[string, number, number]> = [];
      for (const [name, c] of await commands()) {
        const c0 = commands0.get(name) ?? { calls: 0, usec: 0 };
        if (!['info', 'config|resetstat'].includes(name) && c.calls > c0.calls) rows.push([name, (c.calls - c0.calls) / runs, (c.usec - c0.usec) / runs]);
      }
      rows.sort((a, b) => b[2] - a[2]);
      redisLine = `\n  Redis per run (calls, µs inside Redis; a script's own calls count again under their names): ${rows.slice(0, 12).map(([name, n, us]) => `${name} ${n.toFixed(2)} (${us.toFixed(1)})`).join(', ')}`;
    }
    redis.disconnect();
    const per = (ms: number) => `${Math.round((ms * 1000) / runs)}`.padStart(4);
    const mainMs = (self.user + self.system) / 1000;
    const parts = [`this process ${per(mainMs)}`, ...(workerPids.length ? [`workers ${per(workersMs)}`] : []), `postgres ${per(pgMs)}`, ...(redisPid && workerPids.length ? [`redis ${per(redisMs)}`] : [])];
    return `  CPU µs/run: ${parts.join(', ')}, total ${per(mainMs + workersMs + pgMs + (workerPids.length ? redisMs : 0))}${jobs}${work}${redisLine}`;
  };
}

/**
 * --pg-stats: what a run costs PostgreSQL, counted by PostgreSQL's own statistics (pg_stat_statements needs a server
 * restart with shared_preload_libraries; these views need nothing): transactions committed in the database, WAL
 * records/bytes/flushes (cluster-wide: other databases' writes count too) and, per table of the bench's schemas, rows
 * inserted / updated (HOT) / deleted. Use a database of its own (--postgres .../flowcrew_bench) so that the
 * transaction count is the bench's alone. Statistics reach the views up to ~1 s after a transaction, hence the wait.
 */
const PG_STATS = args.includes('--pg-stats');
type PgWork = Map<string, number>;
async function pgWork(client: pg.Client): Promise<PgWork>;
async function pgWork(client: pg.Client, before: PgWork, runs: number): Promise<string>;
async function pgWork(client: pg.Client, before?: PgWork, runs = 1): Promise<PgWork | string> {
  if (before) await new Promise((r) => setTimeout(r, 1_500));
  await client.query('SELECT pg_stat_clear_snapshot()');
  const now: PgWork = new Map();
  const db = (await client.query('SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()')).rows[0] as { xact_commit: string };
  now.set('transactions', Number(db.xact_commit));
  const wal = (await client.query('SELECT wal_records, wal_bytes, wal_sync FROM pg_stat_wal')).rows[0] as Record<string, string>;
  for (const [k, v] of Object.entries(wal)) now.set(k, Number(v));
  const tables = await client.query(`SELECT relname, sum(n_tup_ins) ins, sum(n_tup_upd) upd, sum(n_tup_hot_upd) hot, sum(n_tup_del) del FROM pg_stat_user_tables WHERE schemaname LIKE 'bench_%' GROUP BY relname`);
  for (const row of tables.rows as Array<Record<string, string>>) for (const k of ['ins', 'upd', 'hot', 'del']) now.set(`${row.relname} ${k}`, Number(row[k]));
  if (!before) return now;
  const parts: string[] = [];
  for (const [key, value] of now) {
    const delta = (value - (before.get(key) ?? 0)) / runs;
    if (delta >= 0.005) parts.push(`${key} ${delta.toFixed(2)}`);
  }
  return `\n  PostgreSQL per run: ${parts.join(', ')}`;
}

/** Start RUNS runs with IN_FLIGHT at once; resolve when all finished (polling storage in queue mode). */
async function drive(label: string, runtime: Runtime, queueMode: boolean, workerPids: number[] = []): Promise<number> {
  // Warm-up, not measured: a worker deploys the flow (loading its nodes' modules) at its first run; inside the measure
  // that took 2-3 s of worker CPU now and then at load 11-16 (commit→start p99 3-11 s in 3 of 8 runs, session 10).
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      const { reply } = await runtime.executor.runNow('chain', { payload: {} }, { awaitReply: true, replyTimeoutMs: 120_000 });
      await reply!.catch(() => {});
    }),
  );
  const cpu = await cpuMeter(workerPids);
  const finishedAt = new Map<string, number>();
  if (DONE === 'poll') runtime.events.add({ runFinished: (run) => finishedAt.set(run.id, Date.now()) });
  const accepted = new Map<string, number>();
  let started = 0;
  const t0 = Date.now();
  // --done poll, queue mode: the main hears nothing of runs finishing on workers; ONE poller asks storage for all waiting runs.
  const waiting = new Map<string, () => void>();
  let polling = queueMode && DONE === 'poll';
  const poller = (async () => {
    const client = new pg.Client({ connectionString: runtime.config.databaseUrl });
    if (polling) await client.connect();
    while (polling) {
      await new Promise((r) => setTimeout(r, 20));
      if (waiting.size === 0) continue;
      const { rows } = await client.query('SELECT id, finished_at FROM runs WHERE id = ANY($1) AND finished_at IS NOT NULL', [[...waiting.keys()]]);
      for (const row of rows as Array<{ id: string; finished_at: string }>) {
        finishedAt.set(row.id, Number(row.finished_at));
        waiting.get(row.id)?.();
        waiting.delete(row.id);
      }
    }
    if (queueMode && DONE === 'poll') await client.end();
  })();
  const waitFinished = async (runId: string) => {
    if (queueMode) return new Promise<void>((resolve) => waiting.set(runId, resolve));
    while (!finishedAt.has(runId)) await new Promise((r) => setTimeout(r, 1));
  };
  const lane = async () => {
    while (started < RUNS) {
      started++;
      const at = Date.now();
      if (DONE === 'reply') {
        const { runId, reply } = await runtime.executor.runNow('chain', { payload: {} }, { awaitReply: true, replyTimeoutMs: 120_000 });
        accepted.set(runId, at);
        // The chain has no response node: its end answers "finished without sending a response" (a webhook's 500).
        await reply!.catch((error: Error) => {
          if (!/without sending a response/.test(error.message)) throw error;
        });
        finishedAt.set(runId, Date.now());
        continue;
      }
      const { runId } = await runtime.executor.runNow('chain', { payload: {} });
      accepted.set(runId, at);
      await waitFinished(runId);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  const seconds = (Date.now() - t0) / 1000;
  const cpuLine = await cpu(RUNS);
  polling = false;
  await poller;
  const latencies = [...accepted].map(([id, at]) => finishedAt.get(id)! - at).sort((a, b) => a - b);
  let queueLine = '';
  if (queueMode) queueLine = await queueWait(runtime, t0);
  console.log(`${label.padEnd(34)} ${RUNS} runs in ${seconds.toFixed(2)} s → ${(RUNS / seconds).toFixed(0).padStart(5)} runs/s  latency p50 ${pct(latencies, 50)} ms p99 ${pct(latencies, 99)} ms${queueLine}  (load ${loadavg()[0]!.toFixed(1)})`);
  console.log(cpuLine);
  return RUNS / seconds;
}

/** Queue mode: commit → a worker starts it, p50/p99 of the runs accepted since `since` (ms). */
async function queueWait(runtime: Runtime, since: number): Promise<string> {
  const client = new pg.Client({ connectionString: runtime.config.databaseUrl });
  await client.connect();
  const { rows } = await client.query('SELECT started_at - created_at AS wait FROM runs WHERE started_at IS NOT NULL AND created_at >= $1', [since]);
  await client.end();
  const waits = rows.map((r: { wait: string }) => Number(r.wait)).sort((a: number, b: number) => a - b);
  return `  commit→start p50 ${pct(waits, 50)} ms p99 ${pct(waits, 99)} ms`;
}

/** runs/s of each workload in one mode (NaN when not run). */
type Figures = { chain: number; webhook: number };

/** Both workloads on one server (embedded, or a queue-mode main with its workers running). */
async function workloadsOn(label: string, server: RunningServer, queueMode: boolean, workerPids: number[] = []): Promise<Figures> {
  const figures: Figures = { chain: NaN, webhook: NaN };
  if (workloads.has('chain')) {
    await server.runtime.createFlow({ id: 'chain', name: 'chain', version: 0, nodes: chain });
    await server.runtime.deployFlow('chain');
    figures.chain = await drive(`chain: ${label}`, server.runtime, queueMode, workerPids);
  }
  if (workloads.has('webhook')) {
    await deployOrderFlow(server.runtime);
    figures.webhook = (await webhookLoad(`webhook: ${label}`, server.url, CONNECTIONS, SECONDS, () => cpuMeter(workerPids), WARM, queueMode ? (since) => queueWait(server.runtime, since) : undefined)).rps;
  }
  return figures;
}

/** A server on a free port: the HTTP API and webhooks as `flowcrew start` serves them. */
function serve(env: NodeJS.ProcessEnv, dataDir: string): Promise<RunningServer> {
  return startServer(loadConfig({ ...env, FLOWCREW_FLOWS_DIR: '', FLOWCREW_RETENTION: 'all' }, { dataDir, logLevel: 'error', port: 0, host: '127.0.0.1' }), { loadExamples: false });
}

async function embedded(label: string, databaseUrl: string): Promise<Figures> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-bench-q-'));
  const server = await serve({ DATABASE_URL: databaseUrl }, dataDir);
  await server.runtime.resumeRuns();
  const figures = await workloadsOn(label, server, false);
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
  return figures;
}

/**
 * Workers run in a session of their own (`detached`), as the separate service they are in production, like PostgreSQL
 * and Redis here. Why it matters on a shared machine: Linux's autogroup scheduling (on here:
 * /proc/sys/kernel/sched_autogroup_enabled) splits the CPU between sessions first, so a worker in the bench's session
 * shares the ONE share the embedded process has alone, and under other people's load the queue mode's extra process
 * buys nothing. On a quiet machine it makes no difference. --same-session measures the other way.
 */
const SAME_SESSION = args.includes('--same-session');
const spawned = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of spawned) child.kill('SIGKILL'); // a detached child outlives a bench that failed
});

function startWorker(env: NodeJS.ProcessEnv, i: number): ChildProcess {
  const child = spawn(process.execPath, [...workerNodeArgs, '--import', 'tsx', path.join(repoRoot, 'runtime/src/cli/main.ts'), 'worker', '--concurrency', '64'], {
    env: { ...env, FLOWCREW_INSTANCE_ID: `bench-worker-${i}`, FLOWCREW_LOG_LEVEL: 'warn', FLOWCREW_WORKER_PORT: '0' },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: !SAME_SESSION,
  });
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  return child;
}

async function queueMode(workers: number): Promise<Figures> {
  const schema = await freshSchema();
  const dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-bench-q-'));
  const queue = new Queue(QUEUE_NAME, { connection: { host: new URL(redisUrl).hostname, port: Number(new URL(redisUrl).port || 6379), db: Number(new URL(redisUrl).pathname.slice(1) || 0) } });
  await queue.obliterate({ force: true });
  await queue.close();
  const env = { ...process.env, DATABASE_URL: urlFor(schema), FLOWCREW_MODE: 'main', FLOWCREW_REDIS_URL: redisUrl, FLOWCREW_KEYRING_FILE: path.join(dir, 'keyring.json'), FLOWCREW_FLOWS_DIR: '', FLOWCREW_RETENTION: 'all' };
  const main = await serve(env, path.join(dir, 'main'));
  await main.runtime.resumeRuns();
  const children = Array.from({ length: workers }, (_, i) => startWorker({ ...env, FLOWCREW_MODE: 'worker', FLOWCREW_DATA_DIR: path.join(dir, `w${i}`) }, i));
  // Measure running workers, not their start: wait until each is connected to the queue.
  const probe = new Queue(QUEUE_NAME, { connection: { host: new URL(redisUrl).hostname, port: Number(new URL(redisUrl).port || 6379), db: Number(new URL(redisUrl).pathname.slice(1) || 0) } });
  while ((await probe.getWorkers()).length < workers) await new Promise((r) => setTimeout(r, 100));
  await probe.close();
  const figures = await workloadsOn(`queue mode, ${workers} worker(s)`, main, true, children.map((c) => c.pid!));
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => c.once('exit', r))));
  await main.close();
  await dropSchema(schema);
  await rm(dir, { recursive: true, force: true });
  return figures;
}

/** One renewal of 1,000 active runs' leases (one UPDATE through the group-commit writer). */
async function heartbeatCost(): Promise<void> {
  const schema = await freshSchema();
  const storage = await createPostgresStorage({ connectionString: pgUrl, schema });
  await storage.migrate();
  storage.leases!.hold({ owner: 'bench', ttlMs: 30_000 });
  await storage.saveFlow({ id: 'f', name: 'f', version: 1, nodes: [] });
  const now = Date.now();
  await Promise.all(
    Array.from({ length: 1000 }, (_, i) =>
      storage.acceptRun({ id: `run-${i}`, flowId: 'f', flowVersion: 1, status: 'running', triggerNodeId: null, input: {}, error: null, parentRunId: null, createdAt: now, startedAt: now, finishedAt: null }, []),
    ),
  );
  const times: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    const held = await storage.leases!.renew();
    times.push(performance.now() - t);
    if (held.size !== 1000) throw new Error(`renewed ${held.size} leases, expected 1000`);
  }
  times.sort((a, b) => a - b);
  console.log(`lease heartbeat, 1,000 active runs     p50 ${pct(times, 50).toFixed(2)} ms p99 ${pct(times, 99).toFixed(2)} ms per renewal (one every ttl/3 = 10 s by default)`);
  await storage.close();
  await dropSchema(schema);
}

console.log(`Flowcrew queue benchmark — node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model}); workloads: ${[...workloads].map((w) => (w === 'chain' ? `${RUNS} runs of a ${NODES}-node chain, ${IN_FLIGHT} in flight, end seen by ${DONE === 'reply' ? 'its reply' : 'polling storage every 20 ms (queue mode)'}` : `the 6-node order webhook, ${CONNECTIONS} connections for ${SECONDS} s`)).join('; ')}; workers in ${SAME_SESSION ? "the bench's session" : 'sessions of their own'}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
/** Under a varying load, ratios of rounds run back to back mean more than one round's figures: --rounds N alternates. */
const ROUNDS = Number(option('rounds', '1'));
const NONE: Figures = { chain: NaN, webhook: NaN };
/** Per round and workload: [1 worker, 2 workers] / embedded PostgreSQL. */
const ratios: Array<Record<keyof Figures, [number, number]>> = [];
const fmt = (x: number) => (Number.isNaN(x) ? '–' : `${x.toFixed(2)}x`);
const REV = option('rev', '');
/** --rev: per round and workload, the revision's 1-worker ratio (parsed from its own bench's output). */
const revRatios: Array<Partial<Record<string, number>>> = [];
// A directory is taken as it is (a tree prepared by hand, with this checkout's node_modules linked: bench/checkout.ts).
const revDir = REV ? (existsSync(path.join(REV, 'bench', 'queue.ts')) ? path.resolve(REV) : checkout(REV, await mkdtemp(path.join(tmpdir(), 'flowcrew-bench-rev-')))) : '';

/** One round of the same bench on the --rev tree, its output prefixed with the revision; resolves with its ratios. */
async function revRound(): Promise<Partial<Record<string, number>>> {
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--rev' || args[i] === '--rounds' || args[i] === '--warm') i++;
    else rest.push(args[i]!);
  }
  // The warm-up said explicitly: older trees' benches default to 1 s (sessions 14-15), older still ignore the flag.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(revDir, 'bench/queue.ts'), ...rest, '--warm', String(WARM), '--rounds', '1'], { cwd: revDir, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    process.stdout.write(d.toString().replace(/^(?=.)/gm, `[${REV}] `));
  });
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the bench of ${REV} exited with ${code}`);
  const found: Partial<Record<string, number>> = {};
  for (const m of out.matchAll(/^ {2}(\w+): queue mode \/ embedded PostgreSQL this round: 1 worker ([0-9.]+)x/gm)) found[m[1]!] = Number(m[2]);
  return found;
}

for (let round = 1; round <= ROUNDS; round++) {
  if (ROUNDS > 1) console.log(`— round ${round} of ${ROUNDS}`);
  if (REV) revRatios.push(await revRound());
  if (only.has('sqlite')) await embedded('embedded, SQLite', '');
  let single = NONE;
  if (only.has('pg')) {
    const pgSchema = await freshSchema();
    single = await embedded('embedded, PostgreSQL', urlFor(pgSchema));
    await dropSchema(pgSchema);
  }
  const one = only.has('queue1') ? await queueMode(1) : NONE;
  const two = only.has('queue2') ? await queueMode(2) : NONE;
  if (only.has('pg') && (only.has('queue1') || only.has('queue2'))) {
    const r = { chain: [one.chain / single.chain, two.chain / single.chain], webhook: [one.webhook / single.webhook, two.webhook / single.webhook] } as Record<keyof Figures, [number, number]>;
    ratios.push(r);
    for (const w of workloads) console.log(`  ${w}: queue mode / embedded PostgreSQL this round: 1 worker ${fmt(r[w as keyof Figures][0])}, 2 workers ${fmt(r[w as keyof Figures][1])} (target: 1 worker ≥ 0.5x)`);
  }
}
if (ratios.length > 1) {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const w of workloads) {
    const of = (i: 0 | 1) => ratios.map((r) => r[w as keyof Figures][i]);
    console.log(`${w}: queue mode / embedded PostgreSQL over ${ratios.length} rounds: 1 worker median ${fmt(median(of(0)))} (${of(0).map(fmt).join(' ')}), 2 workers median ${fmt(median(of(1)))}`);
  }
}
if (REV && ratios.length > 0) {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const w of workloads) {
    const old = revRatios.map((r) => r[w] ?? NaN);
    const now = ratios.map((r) => r[w as keyof Figures][0]);
    console.log(`${w}, 1 worker / embedded PostgreSQL: ${REV} median ${fmt(median(old))} (${old.map(fmt).join(' ')}), this tree median ${fmt(median(now))} (${now.map(fmt).join(' ')})`);
  }
}
if (only.has('heartbeat')) await heartbeatCost();
