/**
 * Test runs stored in the run history on SQLite and a real PostgreSQL (a fresh schema per run): marked `test`, read
 * back in the one run record shape with their invocations, listed with real runs (or apart: `test` filter), left out
 * of the dashboard's timings, pruned by age like any run, and not kept when the flow's retention keeps no such run.
 * Without a reachable PostgreSQL the PG half fails in CI.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../storage/postgres.ts';
import { createSqliteStorage } from '../storage/sqlite.ts';
import type { SqlStorage } from '../storage/sql-storage.ts';
import type { InvocationRecord, RunRecord } from '../storage/types.ts';
import { recordTestRuns } from './history.ts';

const url = process.env.FLOWCREW_TEST_DATABASE_URL ?? 'postgres://flowcrew:flowcrew@127.0.0.1:5432/flowcrew_test';
const schemas: string[] = [];

afterAll(async () => {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

const backends: Array<[string, () => Promise<SqlStorage>]> = [
  ['SQLite', async () => createSqliteStorage({ filename: ':memory:' })],
  [
    'PostgreSQL',
    async () => {
      const schema = `test_runs_${randomBytes(4).toString('hex')}`;
      schemas.push(schema);
      return createPostgresStorage({ connectionString: url, schema });
    },
  ],
];

function finished(id: string, flowId: string, at: number, parentRunId: string | null = null): { run: RunRecord; invocations: InvocationRecord[] } {
  const run: RunRecord = { id, flowId, flowVersion: 1, status: 'succeeded', triggerNodeId: 'in', input: { payload: 7 }, error: null, parentRunId, createdAt: at, startedAt: at, finishedAt: at + 5 };
  const invocation: InvocationRecord = {
    id: `${id}-1`, runId: id, nodeId: 'in', nodeType: 'inject', status: 'succeeded', attempt: 1, input: { payload: 7 },
    outputs: [{ port: 0, msg: { payload: 'Hello Ada' } }], error: null, parentId: null, seq: 1, createdAt: at, startedAt: at, finishedAt: at + 1,
  };
  return { run, invocations: [invocation] };
}

describe.each(backends)('test runs in the history (%s)', (_name, open) => {
  it('are stored marked, with their invocations and sub-flow runs, beside real runs, and pruned by age', async () => {
    const storage = await open();
    try {
      await storage.migrate();
      await storage.saveFlow({ id: 'orders', name: 'Orders', nodes: [] } as never, 0, { projectId: 'default' });
      const now = Date.now();
      const target = { driver: storage.driver, limits: storage.limits, retention: { mode: 'all' as const, maxAgeMs: 0 } };
      const main = finished(`t-${randomBytes(4).toString('hex')}`, 'orders', now);
      const child = finished(`${main.run.id}-sub`, 'library-sub', now + 1, main.run.id);
      const kept = await recordTestRuns(target, [main, child], { projectId: 'default', versionOf: (id) => (id === 'orders' ? 4 : undefined) });
      expect(kept).toEqual([main.run.id, child.run.id]);

      const stored = await storage.getRun(main.run.id);
      expect(stored).toMatchObject({ id: main.run.id, flowId: 'orders', flowVersion: 4, status: 'succeeded', test: true, projectId: 'default', input: { payload: 7 } });
      expect(await storage.getRun(child.run.id)).toMatchObject({ parentRunId: main.run.id, flowVersion: 1, test: true });
      const invocations = await storage.listInvocations(main.run.id);
      expect(invocations.map((i) => [i.nodeId, i.status, i.outputs])).toEqual([['in', 'succeeded', [{ port: 0, msg: { payload: 'Hello Ada' } }]]]);

      // A real run keeps the shape without the mark; the history lists both.
      const real = finished(`r-${randomBytes(4).toString('hex')}`, 'orders', now + 2);
      await storage.acceptRun(real.run, real.invocations);
      expect((await storage.getRun(real.run.id))!.test).toBeUndefined();
      expect((await storage.listRuns({ flowId: 'orders' })).map((r) => [r.id, r.test ?? false])).toEqual([[real.run.id, false], [main.run.id, true]]);
      // GET /runs?test= and the dashboard's figures (production runs only) read the mark in SQL.
      expect((await storage.listRuns({ flowId: 'orders', test: true })).map((r) => r.id)).toEqual([main.run.id]);
      expect((await storage.listRuns({ flowId: 'orders', test: false })).map((r) => r.id)).toEqual([real.run.id]);
      expect((await storage.listRunTimings(now - 1, 100)).map((t) => t.flowId)).toEqual(['orders']);

      // Retention by age applies to test runs as to any run.
      expect(await storage.pruneRuns(now + 10)).toBe(3);
      expect(await storage.getRun(main.run.id)).toBeNull();
      expect(await storage.listInvocations(main.run.id)).toEqual([]);
    } finally {
      await storage.close();
    }
  });

  it("are not kept when the flow's retention keeps no such run", async () => {
    const storage = await open();
    try {
      await storage.migrate();
      const target = { driver: storage.driver, limits: storage.limits, retention: { mode: 'all' as const, maxAgeMs: 0 } };
      const run = finished(`t-${randomBytes(4).toString('hex')}`, 'orders', Date.now());
      expect(await recordTestRuns(target, [run], { projectId: 'default', versionOf: () => 1, flowRetention: 'failed' })).toEqual([]);
      expect(await storage.getRun(run.run.id)).toBeNull();
      const failed = finished(`t-${randomBytes(4).toString('hex')}`, 'orders', Date.now());
      failed.run.status = 'failed';
      failed.run.error = 'boom';
      expect(await recordTestRuns(target, [failed], { projectId: 'default', versionOf: () => 1, flowRetention: 'failed' })).toEqual([failed.run.id]);
    } finally {
      await storage.close();
    }
  });
});
