/**
 * No connection leaked by the Redis node inside a real runtime: 1,000 runs, a redeploy, an undeploy, counted on the
 * Redis server (CLIENT LIST by the credential's connection name).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCredential, deployFlow, poolsOf, redeploy, runMany, startRuntime, undeploy, type TestServer } from '../shared/runtime-testing.ts';

const port = Number(process.env.FLOWCREW_TEST_REDIS_PORT ?? 6379);
const name = `fc-leak-${randomBytes(4).toString('hex')}`;
const key = `${name}:count`;
let server: TestServer;
let admin: Redis;
beforeAll(async () => {
  admin = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
  server = await startRuntime();
});
afterAll(async () => {
  await server?.stop();
  await admin.del(key);
  admin.disconnect();
});

async function connections(): Promise<number> {
  const list = (await admin.client('LIST')) as string;
  return list.split('\n').filter((line) => line.includes(` name=${name} `)).length;
}

it('leaks no connection over 1,000 runs and a redeploy, and closes it on undeploy', async () => {
  const id = await createCredential(server, 'redis', { host: '127.0.0.1', port, connectionName: name });
  await deployFlow(server, 'redis-runs', 'redis', id, { operation: 'incr', key });
  const counted = (payload: unknown) => expect(payload).toEqual(expect.any(Number));
  await runMany(server, 'redis-runs', 1000, counted);
  expect(await connections()).toBe(1); // one multiplexed connection per credential
  await redeploy(server, 'redis-runs');
  await runMany(server, 'redis-runs', 100, counted);
  expect(await connections()).toBe(1);
  expect(Number(await admin.get(key))).toBe(1100);
  expect(poolsOf(server, id)).toEqual([{ key: 'db:redis:client', credential: { id, revision: 1 }, holders: 1, state: 'open' }]);
  await undeploy(server, 'redis-runs');
  for (let i = 0; i < 100 && (await connections()) > 0; i++) await new Promise((r) => setTimeout(r, 50));
  expect(await connections()).toBe(0);
  expect(poolsOf(server, id)).toEqual([]);
}, 60_000);
