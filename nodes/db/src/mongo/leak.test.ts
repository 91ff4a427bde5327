/**
 * No connection leaked by the MongoDB node inside a real runtime (FerretDB): 1,000 runs, a redeploy, an undeploy,
 * counted on the server's side of its port.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCredential, deployFlow, poolsOf, redeploy, runMany, startRuntime, undeploy, type TestServer } from '../shared/runtime-testing.ts';

const port = Number(process.env.FLOWCREW_TEST_MONGO_PORT ?? 27017);
const fields = { host: '127.0.0.1', port, database: `fc_${randomBytes(4).toString('hex')}`, username: 'flowcrew', password: 'flowcrew', authMechanism: 'PLAIN', authSource: '$external', maxConnections: 4 };
let server: TestServer;
beforeAll(async () => {
  server = await startRuntime();
});
afterAll(async () => {
  await server?.stop();
});

/** Established connections on the server's port, server side (the kernel's table). */
async function serverConnections(): Promise<number> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return (await readFile('/proc/net/tcp', 'utf8')).split('\n').filter((line) => {
    const cols = line.trim().split(/\s+/);
    return cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '01';
  }).length;
}

it('leaks no connection over 1,000 runs and a redeploy, and closes them all on undeploy', async () => {
  const before = await serverConnections();
  const id = await createCredential(server, 'mongodb', fields);
  await deployFlow(server, 'mongo-runs', 'mongodb', id, { operation: 'count', collection: 'none', filter: { n: { $param: 'payload' } } });
  const zero = (payload: unknown) => expect(payload).toBe(0);
  await runMany(server, 'mongo-runs', 1000, zero);
  // The pool (maxConnections 4) and the driver's monitoring connections (2).
  const open = (await serverConnections()) - before;
  expect(open).toBeGreaterThanOrEqual(1);
  expect(open).toBeLessThanOrEqual(6);
  await redeploy(server, 'mongo-runs');
  await runMany(server, 'mongo-runs', 100, zero);
  expect((await serverConnections()) - before).toBeLessThanOrEqual(6);
  expect(poolsOf(server, id)).toEqual([{ key: 'db:mongo:client', credential: { id, revision: 1 }, holders: 1, state: 'open' }]);
  await undeploy(server, 'mongo-runs');
  for (let i = 0; i < 200 && (await serverConnections()) > before; i++) await new Promise((r) => setTimeout(r, 50));
  expect(await serverConnections()).toBe(before);
  expect(poolsOf(server, id)).toEqual([]);
}, 60_000);
