/**
 * No connection leaked by the MySQL/MariaDB node inside a real runtime: 1,000 runs, a redeploy, an undeploy,
 * counted on the MariaDB server (information_schema.processlist of the file's own account).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCredential, deployFlow, poolsOf, redeploy, runMany, startRuntime, undeploy, type TestServer } from '../shared/runtime-testing.ts';
import { openTestMysql, type TestMysql } from './testing.ts';

let server: TestServer;
let db: TestMysql;
beforeAll(async () => {
  db = await openTestMysql();
  server = await startRuntime();
});
afterAll(async () => {
  await server?.stop();
  await db?.close();
});

it('leaks no connection over 1,000 runs and a redeploy, and closes them all on undeploy', async () => {
  expect(await db.connections()).toBe(0);
  const id = await createCredential(server, 'mysql', db.fields({ maxConnections: 4 }));
  await deployFlow(server, 'my-runs', 'mysql', id, { sql: 'SELECT ? * 2 AS doubled', params: ['payload'] });
  const doubled = (payload: unknown, i: number) => expect(payload).toEqual([{ doubled: 2 * i }]);
  await runMany(server, 'my-runs', 1000, doubled);
  const afterRuns = await db.connections();
  expect(afterRuns).toBeGreaterThanOrEqual(1);
  expect(afterRuns).toBeLessThanOrEqual(4);
  expect(poolsOf(server, id)).toEqual([{ key: 'db:mysql:pool', credential: { id, revision: 1 }, holders: 1, state: 'open' }]);

  await redeploy(server, 'my-runs');
  await runMany(server, 'my-runs', 100, doubled);
  expect(await db.connections()).toBeLessThanOrEqual(4);
  expect(poolsOf(server, id)).toEqual([{ key: 'db:mysql:pool', credential: { id, revision: 1 }, holders: 1, state: 'open' }]);

  await undeploy(server, 'my-runs');
  expect(await db.waitForConnections(0)).toBe(0);
  expect(poolsOf(server, id)).toEqual([]);
}, 60_000);
