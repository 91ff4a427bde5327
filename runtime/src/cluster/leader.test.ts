/**
 * Active-active mains: a cron flow deployed on two mains (real child processes on one PostgreSQL schema and Redis)
 * fires once per tick across both. The leader is frozen (SIGSTOP, as a long pause or a lost network would): the other
 * takes over once PostgreSQL ends the frozen session, and when the frozen one wakes up its pending ticks are refused
 * (fenced). Then the new leader is killed (kill -9): the first takes over at its next poll. No tick fires twice.
 * Two real processes start in ~10 s of CPU: this file runs well over 30 s on a loaded machine.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../storage/postgres.ts';
import { FLOW_FORMAT, type FlowDocument } from '../flow/types.ts';
import { QUEUE_NAME } from '../queue/worker.ts';
import { startFlowcrew, type FlowcrewProcess } from './processes.test-helper.ts';
import { TEST_REDIS_DB } from '../testing/redis-databases.ts';

const pgUrl = process.env.FLOWCREW_TEST_DATABASE_URL ?? 'postgres://flowcrew:flowcrew@127.0.0.1:5432/flowcrew_test';
const REDIS_DB = TEST_REDIS_DB.leader;
const redisUrl = `${process.env.FLOWCREW_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'}/${REDIS_DB}`;
const schema = `leader_${randomBytes(3).toString('hex')}`;
const TTL_MS = 2_000;
let dir: string;
const mains: FlowcrewProcess[] = [];

function main(name: string): FlowcrewProcess {
  const p = startFlowcrew(name, ['start', '--mode', 'main', '--port', '0', '--data-dir', path.join(dir, name)], {
    DATABASE_URL: `${pgUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    FLOWCREW_REDIS_URL: redisUrl,
    FLOWCREW_INSTANCE_ID: name,
    FLOWCREW_LEASE_TTL_MS: String(TTL_MS),
    FLOWCREW_KEYRING_FILE: path.join(dir, 'keyring.json'),
    FLOWCREW_LOG_LEVEL: 'info',
  });
  mains.push(p);
  return p;
}

async function clearQueue() {
  const queue = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: 6379, db: REDIS_DB } });
  await queue.obliterate({ force: true });
  await queue.close();
}

/** Every cron tick stored as a run: the tick's time (msg.firedAt) and when the run was accepted. */
async function ticks(): Promise<Array<{ firedAt: string; createdAt: number }>> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ fired_at: string; created_at: string }>(`SELECT input::jsonb->>'firedAt' AS fired_at, created_at FROM ${schema}.runs ORDER BY created_at`);
    return rows.map((r) => ({ firedAt: r.fired_at, createdAt: Number(r.created_at) }));
  } finally {
    await client.end();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}
const LEADER = /now the leader/;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-leader-'));
  await clearQueue();
  const storage = await createPostgresStorage({ connectionString: pgUrl, schema });
  await storage.migrate();
  const flow: FlowDocument = { id: 'tick', name: 'tick', version: 0, nodes: [{ id: 'c', type: 'cron', props: { expression: '* * * * * *' }, wires: [] }] };
  const saved = await storage.saveFlow({ ...flow, format: FLOW_FORMAT }, 0);
  await storage.setDeployed(saved.flow.id, saved.flow.version);
  await storage.close();
}, 60_000);

afterAll(async () => {
  for (const p of mains) {
    p.kill('SIGCONT');
    p.kill('SIGKILL');
  }
  await Promise.all(mains.map((p) => p.exited));
  await clearQueue();
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
  await rm(dir, { recursive: true, force: true });
});

describe('cron on active-active mains (leader election on PostgreSQL)', () => {
  it('fires once per tick across mains; a killed leader is replaced within the ttl; a frozen one is fenced', async () => {
    // Two mains start together (a start costs seconds): one wins the election.
    const started = ['main-a', 'main-b'].map(main);
    await Promise.all(started.map((p) => p.waitFor(/Flowcrew listening/, 150_000)));
    // A leader now: its last word on leadership is "now the leader". On a loaded machine a main that stalled past the
    // ttl while starting loses the lead to the other at once (as it should): both said "now the leader" once.
    const isLeader = (p: FlowcrewProcess) => LEADER.test(p.lines.filter((l) => LEADER.test(l) || /no longer the leader/.test(l)).at(-1) ?? '');
    const leaders = () => started.filter(isLeader);
    // The election can take a while on a loaded machine: wait for a leader, then give a second one time to appear.
    await until('a leader', () => leaders().length > 0, 60_000);
    await sleep(2_000);
    expect(leaders()).toHaveLength(1);
    const a = leaders()[0]!;
    const b = started.find((p) => p !== a)!;

    // The leader freezes (a long pause, a lost network): the other takes over once PostgreSQL ends the silent session.
    const frozenAt = Date.now();
    const bFrom = b.lines.length;
    a.kill('SIGSTOP');
    await b.waitFor(LEADER, TTL_MS * 5, bFrom);
    const stallTakeoverMs = Date.now() - frozenAt;
    await sleep(1_500);
    const resumedLine = a.lines.length;
    a.kill('SIGCONT'); // its timers fire at once, before its heartbeat can find out: the fence refuses them
    await a.waitFor(/no longer the leader/, TTL_MS * 5, resumedLine);
    await sleep(1_500);

    // The new leader dies without a word (kill -9): the first takes over at its next poll (ttl/3 on a quiet machine).
    const killedAt = Date.now();
    b.kill('SIGKILL');
    await a.waitFor(LEADER, TTL_MS * 5, resumedLine);
    const takeoverMs = Date.now() - killedAt;
    await until('a tick of the new leader', async () => (await ticks()).some((t) => t.createdAt > killedAt + takeoverMs), 60_000);

    const all = await ticks();
    const byTick = new Map<string, number>();
    for (const t of all) byTick.set(t.firedAt, (byTick.get(t.firedAt) ?? 0) + 1);
    const doubled = [...byTick].filter(([, n]) => n > 1);
    const refused = a.lines.slice(resumedLine).filter((l) => /no longer the cluster leader/.test(l)).length;
    console.log(
      `leader election: ${all.length} ticks stored, ${doubled.length} fired twice; kill -9 of the leader -> takeover after ${takeoverMs} ms; ` +
        `frozen leader -> takeover after ${stallTakeoverMs} ms (ttl ${TTL_MS} ms); ticks refused by the woken leader's fence: ${refused}`,
    );
    expect(doubled).toEqual([]);
    // Ticks came from each leader in turn.
    expect(all.some((t) => t.createdAt < frozenAt)).toBe(true);
    expect(all.some((t) => t.createdAt > frozenAt + stallTakeoverMs && t.createdAt < killedAt)).toBe(true);
    expect(all.some((t) => t.createdAt > killedAt + takeoverMs)).toBe(true);
  }, 240_000);
});
