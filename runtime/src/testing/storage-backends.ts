/**
 * The two storage back ends a storage test runs on: SQLite in memory and a REAL PostgreSQL (scripts/services), each
 * PostgreSQL storage in a fresh schema of its own, dropped after the file's tests.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach } from 'vitest';
import { createPostgresStorage, type PostgresDriver } from '../storage/postgres.ts';
import type { SqlStorage } from '../storage/sql-storage.ts';
import { createSqliteStorage } from '../storage/sqlite.ts';

export const TEST_DATABASE_URL = process.env.FLOWCREW_TEST_DATABASE_URL ?? 'postgres://flowcrew:flowcrew@127.0.0.1:5432/flowcrew_test';

/** Drops the given PostgreSQL schemas (test files that make schemas of their own call it in afterAll). */
export async function dropSchemas(schemas: readonly string[]): Promise<void> {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** `[name, open]` pairs for `describe.each`; `open()` gives a blank (unmigrated) storage. Call at module level. */
export function storageBackends(label: string): Array<[string, () => Promise<SqlStorage>]> {
  const schemas: string[] = [];
  const prefix = `fc_${label}_${process.pid}_${randomBytes(3).toString('hex')}`;
  afterAll(() => dropSchemas(schemas));
  return [
    ['SQLite', async () => createSqliteStorage({ filename: ':memory:' })],
    [
      'PostgreSQL',
      async () => {
        const schema = `${prefix}_${schemas.length + 1}`;
        schemas.push(schema);
        return createPostgresStorage({ connectionString: TEST_DATABASE_URL, schema });
      },
    ],
  ];
}

/**
 * PostgreSQL storages sharing ONE fresh schema for a test file (several storages = several processes on one database:
 * a main and workers), migrated by the first one opened (then `prepare` runs on it); every storage opened is closed
 * after each test and the schema dropped after the file's tests. Call at module level.
 */
export function sharedPostgresSchema(label: string, prepare?: (storage: SqlStorage) => Promise<unknown>): () => Promise<SqlStorage> {
  const schema = `${label}_${randomBytes(3).toString('hex')}`;
  const open: SqlStorage[] = [];
  let migrated = false;
  afterEach(async () => {
    for (const storage of open.splice(0)) await storage.close().catch(() => {});
  });
  afterAll(() => dropSchemas([schema]));
  return async () => {
    const storage = await createPostgresStorage({ connectionString: TEST_DATABASE_URL, schema });
    open.push(storage);
    if (!migrated) {
      await storage.migrate();
      await prepare?.(storage);
      migrated = true;
    }
    return storage;
  };
}

/**
 * A scratch PostgreSQL database for a whole runtime under test: `reachable` is false off CI when no server answers
 * (the tests skip; on CI that is an error), `create()` / `drop()` for beforeAll / afterAll.
 */
export async function scratchDatabase(label: string): Promise<{ reachable: boolean; url: string; create(): Promise<void>; drop(): Promise<void> }> {
  const database = `flowcrew_${label}_${randomBytes(4).toString('hex')}`;
  const url = Object.assign(new URL(TEST_DATABASE_URL), { pathname: `/${database}` }).toString();
  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  const reachable = await admin('SELECT 1').then(
    () => true,
    (error: Error) => {
      if (process.env.CI) throw new Error(`PostgreSQL not reachable (${error.message}): run scripts/services`);
      return false;
    },
  );
  return {
    reachable,
    url,
    create: () => admin(`CREATE DATABASE ${database}`),
    drop: () => (reachable ? admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`) : Promise.resolve()),
  };
}

/**
 * What a driver's pooled clients are asked, in order (each query() call is one round trip): by default the texts of
 * simple queries; `pick` records other kinds too (a pipelined batch's steps, a Parse), undefined skips one.
 */
export function recordPgMessages(driver: PostgresDriver): string[];
export function recordPgMessages<T>(driver: PostgresDriver, pick: (query: unknown) => T | undefined): T[];
export function recordPgMessages(driver: PostgresDriver, pick: (query: unknown) => unknown = (q) => (typeof q === 'string' ? q : undefined)): unknown[] {
  const sent: unknown[] = [];
  const wrapped = new WeakSet<object>();
  driver.pool.on('acquire', (client) => {
    if (wrapped.has(client)) return;
    wrapped.add(client);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const picked = pick(args[0]);
      if (picked !== undefined) sent.push(picked);
      return query(...args);
    };
  });
  return sent;
}
