/**
 * Chaos test of queue mode on a real PostgreSQL and a Redis of its own (its own port, so restarting it disturbs no
 * one): two mains and two workers as real processes; N runs of a flow with a delay are submitted over HTTP to the
 * mains while, at random moments, a worker is killed with -9 (and restarted), a main is killed with -9 (the load moves
 * to the other), Redis is restarted (without persistence: its jobs are gone), and the other worker is killed (and
 * replaced by a new one). Then: every run stored completes, every accepted run (202) is among them, no invocation is
 * stored twice (a completed node never ran again), nothing is left queued, the outbox drains (a surviving main sweeps what a dead one or a failed hand-over left). It prints what it did
 * and what it saw. N: FLOWCREW_CHAOS_RUNS (default 400).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLOW_FORMAT, type FlowDocument } from '../flow/types.ts';
import { createPostgresStorage } from '../storage/postgres.ts';
import { startFlowcrew, type FlowcrewProcess } from '../cluster/processes.test-helper.ts';
import { OwnRedis } from '../testing/own-redis.ts';

// 1,000 (the issue's figure) passes here in ~150 s at load 14, most of it four process starts: the default keeps CI near 90 s.
const RUNS = Number(process.env.FLOWCREW_CHAOS_RUNS ?? 400);
const pgUrl = process.env.FLOWCREW_TEST_DATABASE_URL ?? 'postgres://flowcrew:flowcrew@127.0.0.1:5432/flowcrew_test';
const schema = `chaos_${randomBytes(3).toString('hex')}`;
const adminToken = `chaos-admin-${randomBytes(16).toString('hex')}`;
let dir: string;
let redis: OwnRedis;
const processes: FlowcrewProcess[] = [];
const log: string[] = [];
const t0 = Date.now();
const note = (what: string) => log.push(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  ${what}`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const dbUrl = () => `${pgUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
const common = () => ({
  DATABASE_URL: dbUrl(),
  FLOWCREW_REDIS_URL: redis.url,
  FLOWCREW_KEYRING_FILE: path.join(dir, 'keyring.json'),
  FLOWCREW_ADMIN_TOKEN: adminToken,
  FLOWCREW_LEASE_TTL_MS: '3000',
  FLOWCREW_QUEUE_REQUEUE_MS: '3000',
  FLOWCREW_LOG_LEVEL: 'warn',
  FLOWCREW_RATE_LIMIT_API: '1000000',
});

function main(name: string): FlowcrewProcess {
  const p = startFlowcrew(name, ['start', '--mode', 'main', '--port', '0', '--data-dir', path.join(dir, name)], { ...common(), FLOWCREW_INSTANCE_ID: name, FLOWCREW_LOG_LEVEL: 'info' });
  processes.push(p);
  return p;
}

function worker(name: string): FlowcrewProcess {
  const p = startFlowcrew(name, ['worker', '--concurrency', '25', '--data-dir', path.join(dir, name)], { ...common(), FLOWCREW_INSTANCE_ID: name, FLOWCREW_WORKER_PORT: '0', FLOWCREW_LOG_LEVEL: 'info' });
  processes.push(p);
  return p;
}

async function urlOf(p: FlowcrewProcess): Promise<string> {
  // Four processes start at once: at load 20 on 2 cores that took 113 s (and over 180 s once).
  const line = await p.waitFor(/Flowcrew listening on/, 300_000);
  return /listening on (http:\/\/[^ ]+)/.exec(line)![1]!;
}

/** The message of a JSON log line (the line itself when it is not JSON). */
function messageOf(line: string): string {
  try {
    return String((JSON.parse(line) as { msg?: unknown }).msg ?? line);
  } catch {
    return line;
  }
}

async function query<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: dbUrl() });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-chaos-'));
  redis = await OwnRedis.start(dir);
  const storage = await createPostgresStorage({ connectionString: pgUrl, schema });
  await storage.migrate();
  const flow: FlowDocument = {
    id: 'chaos',
    name: 'chaos',
    version: 0,
    nodes: [
      { id: 'in', type: 'inject', wires: [['wait']] },
      { id: 'wait', type: 'delay', props: { pauseType: 'delay', timeout: 100, timeoutUnits: 'milliseconds' }, wires: [['mark']] },
      { id: 'mark', type: 'change', props: { rules: [{ t: 'set', p: 'payload.done', pt: 'msg', to: 'true', tot: 'bool' }] }, wires: [] },
    ],
  };
  const saved = await storage.saveFlow({ ...flow, format: FLOW_FORMAT }, 0);
  await storage.setDeployed(saved.flow.id, saved.flow.version);
  await storage.close();
}, 60_000);

afterAll(async () => {
  for (const p of processes) p.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
  await redis?.stop();
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
  await rm(dir, { recursive: true, force: true });
});

describe('queue mode under chaos (2 mains, 2 workers, real PostgreSQL and Redis)', () => {
  it(`every accepted run of ${RUNS} completes once while workers, a main and Redis die`, async () => {
    const mains = [main('main-1'), main('main-2')];
    let workers = [worker('worker-1'), worker('worker-2')];
    const urls = await Promise.all(mains.map(urlOf));
    await Promise.all(workers.map((w) => w.waitFor(/Flowcrew worker .* running/, 300_000)));
    note(`2 mains and 2 workers up (${urls.join(', ')}); Redis on port ${redis.port}; ${RUNS} runs to submit`);

    // Chaos at random points of the submission (fractions of RUNS), in this order.
    const at = (lo: number, hi: number) => Math.floor(RUNS * (lo + Math.random() * (hi - lo)));
    const plan = [
      { at: at(0.1, 0.25), what: 'kill -9 worker-1, start it again (same id: it resumes its own runs)' },
      { at: at(0.3, 0.45), what: 'kill -9 main-1 (the load moves to main-2)' },
      { at: at(0.5, 0.65), what: 'restart Redis (no persistence: waiting jobs are lost)' },
      { at: at(0.7, 0.85), what: 'kill -9 worker-2, start worker-3 (its runs move by lease expiry)' },
    ];
    const liveMains = new Set([0, 1]);
    const chaos = async (step: number) => {
      note(plan[step]!.what);
      if (step === 0) {
        workers[0]!.kill('SIGKILL');
        await workers[0]!.exited;
        workers = [worker('worker-1'), workers[1]!];
      } else if (step === 1) {
        liveMains.delete(0);
        mains[0]!.kill('SIGKILL');
      } else if (step === 2) {
        await redis.stop();
        await sleep(300);
        await redis.start();
        note('Redis is back');
      } else {
        workers[1]!.kill('SIGKILL');
        await workers[1]!.exited;
        workers = [workers[0]!, worker('worker-3')];
      }
    };

    const accepted: string[] = [];
    let refused = 0;
    let submitted = 0;
    let nextChaos = 0;
    const chaosDone: Array<Promise<void>> = [];
    const submit = async () => {
      while (submitted < RUNS) {
        const i = submitted++;
        while (nextChaos < plan.length && i >= plan[nextChaos]!.at) chaosDone.push(chaos(nextChaos++));
        const target = [...liveMains][i % liveMains.size]!;
        try {
          const res = await fetch(`${urls[target]}/api/v1/flows/chaos/runs`, {
            method: 'POST',
            headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
            body: JSON.stringify({ input: { payload: { i } } }),
            signal: AbortSignal.timeout(15_000),
          });
          if (res.status === 202) accepted.push(((await res.json()) as { runId: string }).runId);
          else {
            refused++;
            await res.text();
          }
        } catch {
          refused++; // the main died under the request: not acknowledged, so not counted as accepted
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, submit));
    await Promise.all(chaosDone);
    note(`submitted ${RUNS}: ${accepted.length} accepted (202), ${refused} refused or cut off`);

    // Every stored run reaches an end (bounded wait), none stays queued or running.
    const deadline = Date.now() + 120_000;
    let open = Infinity;
    while (Date.now() < deadline) {
      open = Number((await query<{ n: string }>(`SELECT count(*) AS n FROM runs WHERE status IN ('queued', 'running', 'waiting')`))[0]!.n);
      if (open === 0) break;
      await sleep(500);
    }
    note(`all runs ended (${open} still open)`);
    // A hand-over that failed (Redis restarting) or whose main died leaves its outbox row for a surviving main's sweep,
    // which takes rows older than 5 s: the outbox must drain, not be empty the moment the last run ends.
    const outboxLeft = async () => Number((await query<{ n: string }>('SELECT count(*) AS n FROM run_outbox'))[0]!.n);
    const drainFrom = Date.now();
    let outbox = await outboxLeft();
    while (outbox > 0 && Date.now() - drainFrom < 30_000) {
      await sleep(500);
      outbox = await outboxLeft();
    }
    note(`outbox: ${outbox} row(s) left after waiting ${((Date.now() - drainFrom) / 1000).toFixed(1)} s for the sweep`);

    const runs = await query<{ id: string; status: string }>('SELECT id, status FROM runs');
    const byStatus = new Map<string, number>();
    for (const r of runs) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
    const status = new Map(runs.map((r) => [r.id, r.status]));
    const acceptedNotSucceeded = accepted.filter((id) => status.get(id) !== 'succeeded');
    // Each run's history as the product reads it: invocation rows and the compact history in the run's row (a run
    // finished on a worker keeps what its last commit inserted there, storage/run-writes.ts).
    const doubled: Array<{ run_id: string; node_id: string; n: number }> = [];
    const incomplete: Array<{ run_id: string; n: number }> = [];
    const reader = await createPostgresStorage({ connectionString: pgUrl, schema });
    try {
      for (const r of runs) {
        const history = await reader.listInvocations(r.id);
        const perNode = new Map<string, number>();
        for (const i of history) perNode.set(i.nodeId, (perNode.get(i.nodeId) ?? 0) + 1);
        for (const [node_id, n] of perNode) if (n > 1) doubled.push({ run_id: r.id, node_id, n });
        const succeeded = history.filter((i) => i.status === 'succeeded').length;
        if (succeeded !== 3) incomplete.push({ run_id: r.id, n: succeeded });
      }
    } finally {
      await reader.close();
    }
    const interrupted = await query<{ n: string; total: string }>('SELECT count(*) AS n, coalesce(sum(interruptions), 0) AS total FROM invocations WHERE interruptions > 0');
    const lastFinish = Number((await query<{ t: string }>('SELECT max(finished_at) AS t FROM runs'))[0]!.t);
    note(
      `saw: ${runs.length} runs stored (${[...byStatus].map(([s, n]) => `${n} ${s}`).join(', ')}); accepted but not succeeded: ${acceptedNotSucceeded.length}; ` +
        `(run, node) stored twice: ${doubled.length}; runs without exactly 3 succeeded invocations: ${incomplete.length}; ` +
        `invocations re-run after a crash: ${interrupted[0]!.n} (${interrupted[0]!.total} interruptions); last run finished at ${((lastFinish - t0) / 1000).toFixed(1)} s`,
    );
    const stuck = await query<{ id: string; status: string; owner: string | null; lease_expires_at: string | null; started_at: string | null }>(
      `SELECT id, status, owner, lease_expires_at, started_at FROM runs WHERE status IN ('queued', 'running', 'waiting') LIMIT 5`,
    );
    for (const r of stuck) note(`open run ${r.id}: ${r.status}, owner ${r.owner}, lease until ${r.lease_expires_at ? ((Number(r.lease_expires_at) - t0) / 1000).toFixed(1) : '-'} s, started ${r.started_at ? ((Number(r.started_at) - t0) / 1000).toFixed(1) : '-'} s; invocations: ${(await query<{ node_id: string; status: string; interruptions: number }>(`SELECT node_id, status, interruptions FROM invocations WHERE run_id = '${r.id}' ORDER BY seq`)).map((i) => `${i.node_id}:${i.status}/${i.interruptions}`).join(' ')}`);
    // The last lines of defence (lease-keeper.ts) say when they had to act: a run left open, or held and not executed.
    const defence = (pattern: RegExp) => processes.flatMap((p) => p.lines.filter((l) => pattern.test(l))).map(messageOf);
    note(`reconciler: ${defence(/left open with every invocation done/).join('; ') || 'never acted'}; held but not executed: ${defence(/held without executing/).join('; ') || 'none'}`);
    console.log(`chaos test:\n${log.join('\n')}`);

    expect(accepted.length).toBeGreaterThan(RUNS * 0.8);
    expect(acceptedNotSucceeded).toEqual([]);
    expect(byStatus.get('queued') ?? 0).toBe(0);
    expect(byStatus.get('running') ?? 0).toBe(0);
    expect(doubled).toEqual([]);
    expect(incomplete).toEqual([]);
    expect(outbox).toBe(0);
  }, 600_000);
});
