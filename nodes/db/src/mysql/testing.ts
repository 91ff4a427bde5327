/**
 * Test support for the MySQL/MariaDB node: the real MariaDB `scripts/services mariadb` starts, a database and an
 * account of their own per test file (dropped after), and a count of that account's connections on the server.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { MysqlFields } from './connect.ts';

export const TEST_MYSQL_URL = process.env.FLOWCREW_TEST_MYSQL_URL ?? 'mysql://flowcrew:flowcrew@127.0.0.1:3306/flowcrew_test';

export interface TestMysql {
  /** A connection of the test's own (not through any node), in the test database. */
  admin: mysql.Connection;
  database: string;
  /** Credential fields of the file's own account (its connections are counted by user name). */
  fields(overrides?: Partial<MysqlFields>): MysqlFields;
  /** Connections the file's account has open right now. */
  connections(): Promise<number>;
  waitForConnections(expected: number, timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

export async function openTestMysql(): Promise<TestMysql> {
  const url = new URL(TEST_MYSQL_URL);
  let admin: mysql.Connection;
  try {
    admin = await mysql.createConnection({ uri: url.href, connectTimeout: 5000, multipleStatements: false });
  } catch (error) {
    throw new Error(`MariaDB test server not reachable (${(error as Error).message}): run scripts/services mariadb, or set FLOWCREW_TEST_MYSQL_URL`);
  }
  const suffix = randomBytes(5).toString('hex');
  const database = `fc_${suffix}`;
  const user = `fc_${suffix}`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.query(`CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?`, [user, password]);
  await admin.query(`GRANT ALL PRIVILEGES ON ${database}.* TO ?@'127.0.0.1'`, [user]);
  await admin.query(`USE ${database}`);
  const connections = async () => {
    const [rows] = await admin.query<Array<{ n: number } & mysql.RowDataPacket>>('SELECT COUNT(*) AS n FROM information_schema.processlist WHERE user = ?', [user]);
    return Number(rows[0]!.n);
  };
  return {
    admin,
    database,
    fields: (overrides = {}) => ({ host: url.hostname, port: Number(url.port || 3306), database, user, password, ssl: 'disable', ...overrides }),
    connections,
    async waitForConnections(expected, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      let n = await connections();
      while (n !== expected && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        n = await connections();
      }
      return n;
    },
    async close() {
      await admin.query(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
      await admin.query(`DROP USER IF EXISTS ?@'127.0.0.1'`, [user]).catch(() => undefined);
      await admin.end();
    },
  };
}
