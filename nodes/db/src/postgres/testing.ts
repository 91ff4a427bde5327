/**
 * Test support for the PostgreSQL nodes: the real server `scripts/services` starts, a schema of one's own per test
 * file (dropped after), and a count of the connections a credential has open (pg_stat_activity).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { PostgresFields } from './connect.ts';

export const TEST_DATABASE_URL = process.env.FLOWCREW_TEST_DATABASE_URL ?? 'postgres://flowcrew:flowcrew@127.0.0.1:5432/flowcrew_test';

/** The test server's connection as credential fields, with an application name of its own to count connections by. */
export function testFields(overrides: Partial<PostgresFields> = {}): PostgresFields {
  const url = new URL(TEST_DATABASE_URL);
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    database: url.pathname.slice(1),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    ssl: 'disable',
    applicationName: `flowcrew-test-${randomBytes(4).toString('hex')}`,
    ...overrides,
  };
}

export interface TestDatabase {
  /** A client of the test's own (not through any node), for setting up and checking. */
  admin: pg.Client;
  /** The schema this file works in (on the search_path of `admin`; qualify tables with it in node props). */
  schema: string;
  /** Connections open under `applicationName` right now (idle ones included). */
  connections(applicationName: string): Promise<number>;
  /** Wait until the connection count is `expected` (pool closes are asynchronous), and return it. */
  waitForConnections(applicationName: string, expected: number, timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

/** Connect and create a fresh schema; fails with what to do when the server is not there. */
export async function openTestDatabase(): Promise<TestDatabase> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`PostgreSQL test server not reachable (${(error as Error).message}): run scripts/services, or set FLOWCREW_TEST_DATABASE_URL`);
  }
  const schema = `dbpack_${randomBytes(5).toString('hex')}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.query(`SET search_path TO ${schema}`);
  const connections = async (applicationName: string) => {
    const { rows } = await admin.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
    return Number(rows[0]!.n);
  };
  return {
    admin,
    schema,
    connections,
    async waitForConnections(applicationName, expected, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      let n = await connections(applicationName);
      while (n !== expected && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        n = await connections(applicationName);
      }
      return n;
    },
    async close() {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
      await admin.end();
    },
  };
}
