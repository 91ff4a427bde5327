/**
 * Crash safety, proven with a real process and SIGKILL, on SQLite and on PostgreSQL: every accepted run finishes
 * after a restart, and no node invocation that had completed runs again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@flowcrew/sdk/testing';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
/** The API needs authentication: the runtime accepts this bootstrap admin token. */
const adminToken = randomBytes(24).toString('hex');

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `storage` gives the DATABASE_URL to run on ('' = SQLite in the data dir) and how to dispose of it. */
function defineKillTest(label: string, storage: () => Promise<{ databaseUrl: string; dispose?: () => Promise<void> }>): void {
  let dataDir: string;
  let port: number;
  let databaseUrl = '';
  let dispose: (() => Promise<void>) | undefined;
  let child: ChildProcess | undefined;

  async function startRuntime(): Promise<void> {
    child = spawn(process.execPath, ['--import', 'tsx', 'runtime/src/cli/main.ts', 'start', '--port', String(port), '--data-dir', dataDir], {
      cwd: repoRoot,
      env: { ...process.env, FLOWCREW_FLOWS_DIR: '', FLOWCREW_LOG_LEVEL: 'warn', DATABASE_URL: databaseUrl, FLOWCREW_ADMIN_TOKEN: adminToken },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    // Generous: on a loaded CI machine (load 20 on 2 cores) compiling and starting the CLI took over 30 s.
    const deadline = Date.now() + 90_000;
    for (;;) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/api/v1/health`)).ok) return;
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline) throw new Error('runtime did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  function killHard(): Promise<void> {
    return new Promise((resolve) => {
      if (!child || child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async function api(method: string, url: string, body?: unknown): Promise<any> {
    const res = await fetch(`http://127.0.0.1:${port}${url}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return text ? JSON.parse(text) : undefined;
  }

  describe(label, () => {
  beforeAll(async () => {
    ({ databaseUrl, dispose } = await storage());
    dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-durable-'));
    port = await freePort();
    await startRuntime();
    const flow = {
      id: 'durable',
      name: 'durable',
      version: 0,
      nodes: [
        { id: 'go', type: 'inject', wires: [['first']] },
        { id: 'hook', type: 'webhook', props: { method: 'POST', url: '/durable' }, wires: [['first']] },
        { id: 'first', type: 'function', props: { func: "global.set('first', (global.get('first') || 0) + 1); return msg;" }, wires: [['wait']] },
        { id: 'wait', type: 'delay', props: { pauseType: 'delay', timeout: 1500, timeoutUnits: 'milliseconds' }, wires: [['last']] },
        { id: 'last', type: 'change', props: { rules: [{ t: 'set', p: 'payload.done', pt: 'msg', to: 'true', tot: 'bool' }] }, wires: [] },
      ],
    };
    expect((await api('POST', '/api/v1/flows', flow)).id).toBe('durable');
    expect((await api('POST', '/api/v1/flows/durable/deploy')).deployed).toBe(true);
  }, 150_000);

  afterAll(async () => {
    await killHard();
    await rm(dataDir, { recursive: true, force: true });
    await dispose?.();
  });

  describe('kill -9 mid-run', () => {
    it('resumes interrupted runs from their last completed node and repeats no completed invocation', async () => {
      const { runId } = await api('POST', '/api/v1/flows/durable/runs', { input: { payload: { n: 1 } } });
      // Wait until the first node has completed and the run sits in the delay.
      await waitFor('first node to complete', async () => {
        const run = await api('GET', `/api/v1/runs/${runId}`);
        return run.invocations.some((i: any) => i.nodeId === 'first' && i.status === 'succeeded') ? run : undefined;
      });
      // Accept a burst of webhook runs, then kill before any of them can finish.
      const accepted: string[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/webhook/durable`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ i }) });
        expect(res.status).toBe(202);
        accepted.push(((await res.json()) as { runId: string }).runId);
      }
      await killHard();

      await startRuntime();
      for (const id of [runId, ...accepted]) {
        const run = await waitFor(`run ${id} to finish`, async () => {
          const r = await api('GET', `/api/v1/runs/${id}`);
          return ['succeeded', 'failed', 'cancelled'].includes(r.status) ? r : undefined;
        });
        expect(run.status, `run ${id}`).toBe('succeeded');
        const per = (nodeId: string) => run.invocations.filter((i: any) => i.nodeId === nodeId);
        expect(per('first')).toHaveLength(1);
        expect(per('wait')).toHaveLength(1);
        expect(per('last')).toHaveLength(1);
        expect(per('last')[0].outputs[0].msg.payload.done).toBe(true);
      }
      // The manual run's first node had completed before the kill: it was not attempted again.
      const manual = await api('GET', `/api/v1/runs/${runId}`);
      expect(manual.invocations.find((i: any) => i.nodeId === 'first').attempt).toBe(1);
    }, 240_000); // a restart took 30-60 s at load 20-33 on 2 cores
  });
  });
}

defineKillTest('SQLite', async () => ({ databaseUrl: '' }));

const pgAdminUrl = process.env.FLOWCREW_TEST_DATABASE_URL ?? 'postgres://flowcrew:flowcrew@127.0.0.1:5432/flowcrew_test';
const pgDatabase = `flowcrew_kill_${process.pid}`;
defineKillTest('PostgreSQL', async () => {
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: pgAdminUrl, connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`DROP DATABASE IF EXISTS ${pgDatabase} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${pgDatabase}`);
  return {
    databaseUrl: Object.assign(new URL(pgAdminUrl), { pathname: `/${pgDatabase}` }).toString(),
    dispose: () => admin(`DROP DATABASE IF EXISTS ${pgDatabase} WITH (FORCE)`),
  };
});
