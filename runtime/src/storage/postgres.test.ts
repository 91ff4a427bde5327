/**
 * Runs the storage suite against a REAL PostgreSQL server (start one with `scripts/services`).
 * Each test gets its own fresh schema, dropped at the end. Unreachable server: the tests FAIL when CI is set, and are
 * skipped (with a warning) on a developer machine.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openStorage } from './index.ts';
import { MIGRATIONS } from './migrations.ts';
import { createPostgresStorage, inlineParams, redact, toNumberedPlaceholders, type PostgresDriver } from './postgres.ts';
import { defineStorageSuite } from './storage.suite.ts';
import { dropSchemas, recordPgMessages, TEST_DATABASE_URL } from '../testing/storage-backends.ts';

const url = TEST_DATABASE_URL;

async function probe(): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    const e = error as { message?: string; code?: string; errors?: Array<{ message?: string }> };
    return e.message || e.errors?.map((x) => x.message).join('; ') || e.code || String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

const unreachable = await probe();
const unavailableMessage =
  `PostgreSQL test server not reachable at ${redact(url)}: ${unreachable}. ` +
  'Run `scripts/services` to install and start it, or set FLOWCREW_TEST_DATABASE_URL.';

describe('PostgreSQL helpers (no server needed)', () => {
  it('converts ? placeholders to $n outside quotes', () => {
    expect(toNumberedPlaceholders(`SELECT ? , '?' , "a?" , ? WHERE x = '?''?' AND y = ?`)).toBe(
      `SELECT $1 , '?' , "a?" , $2 WHERE x = '?''?' AND y = $3`,
    );
  });

  it('inlines parameters as safe literals for one-round-trip batches', () => {
    expect(inlineParams(`INSERT INTO t VALUES (?, ?, ?, '?', ?)`, ["it's \\ ; DROP TABLE t; --", 42, null, 9007199254740993n])).toBe(
      `INSERT INTO t VALUES ( E'it''s \\\\ ; DROP TABLE t; --', 42, NULL, '?', 9007199254740993)`,
    );
    expect(() => inlineParams('SELECT ?, ?', [1])).toThrow(/more placeholders than parameters/);
    expect(() => inlineParams('SELECT ?', [Number.NaN])).toThrow(/cannot store the number NaN/);
  });

  it('quotes strings exactly as pg.escapeLiteral does', () => {
    for (const text of ['', "'", "''x'", '\\', "a\\'b\\\\", 'é 😀 ? ; --', '{"note":"it\'s \\"here\\""}', '\n\t\r']) {
      expect(inlineParams('SELECT ?', [text])).toBe(`SELECT ${pg.escapeLiteral(text)}`);
    }
  });

  it('openStorage fails with a clear message (password hidden) when the server is unreachable', async () => {
    await expect(openStorage({ databaseUrl: 'postgres://u:secret@127.0.0.1:1/db', dataDir: '/nonexistent' })).rejects.toThrow(
      /^Cannot connect to PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db: .*ECONNREFUSED/,
    );
  });
});

if (unreachable && process.env.CI) {
  describe('PostgreSQL storage', () => {
    it('needs a reachable PostgreSQL server', () => {
      throw new Error(unavailableMessage);
    });
  });
} else if (unreachable) {
  console.warn(`[postgres.test] SKIPPED: ${unavailableMessage}`);
  describe.skip('PostgreSQL storage (server unreachable)', () => {
    it('skipped', () => {});
  });
} else {
  const prefix = `fc_test_${process.pid}_${randomBytes(3).toString('hex')}`;
  const schemas: string[] = [];

  afterAll(() => dropSchemas(schemas));

  const freshSchema = () => {
    const schema = `${prefix}_${schemas.length + 1}`;
    schemas.push(schema);
    return schema;
  };

  defineStorageSuite('PostgreSQL', {
    async openBlank() {
      return createPostgresStorage({ connectionString: url, schema: freshSchema() });
    },
    async open() {
      const schema = freshSchema();
      const storage = await createPostgresStorage({ connectionString: url, schema });
      await storage.migrate();
      return {
        storage,
        reopen: async () => {
          const again = await createPostgresStorage({ connectionString: url, schema });
          await again.migrate();
          return again;
        },
      };
    },
  });

  describe('PostgreSQL specifics', () => {
    it('concurrent migrators on one fresh schema both succeed (advisory lock)', async () => {
      const schema = `${prefix}_mig`;
      schemas.push(schema);
      const a = await createPostgresStorage({ connectionString: url, schema });
      const b = await createPostgresStorage({ connectionString: url, schema });
      try {
        await Promise.all([a.migrate(), b.migrate(), a.migrate()]);
        const rows = await a.driver.all('SELECT version FROM schema_migrations ORDER BY version');
        expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version }))); // BIGINT comes back as a number
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('a write batch is one transaction: one message without checks, the COMMIT after them with checks; a failure stores nothing', async () => {
      // Prepared statements off: this test counts the batch's own messages (pg-prepared.test.ts covers them on).
      const storage = await createPostgresStorage({ connectionString: url, schema: freshSchema(), prepare: 'off' });
      const driver = storage.driver as PostgresDriver;
      // Messages sent to the server, counted on the pool's clients (each query() is one round trip).
      const sent = recordPgMessages(driver);
      try {
        await driver.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
        sent.length = 0;
        const results = await driver.writeBatch([
          { sql: 'INSERT INTO t VALUES (?, ?), (?, ?)', params: [1, 'a', 2, 'b'] },
          { sql: 'UPDATE t SET v = ? WHERE id = ? RETURNING id, v', params: ['c', 2] },
        ]);
        expect(results).toEqual([{ changes: 2, rows: [] }, { changes: 1, rows: [{ id: 2, v: 'c' }] }]);
        expect(sent).toHaveLength(1);
        expect(sent[0]).toMatch(/^BEGIN;[\s\S]*;\nCOMMIT$/);

        // A statement failing half-way: the rows inserted before it in the batch are not stored either.
        await expect(driver.writeBatch([{ sql: 'INSERT INTO t VALUES (?, ?)', params: [3, 'd'] }, { sql: 'INSERT INTO t VALUES (?, ?)', params: [1, 'duplicate'] }])).rejects.toThrow(/duplicate key/);
        // A check refusing a result: the batch is rolled back after the answer was read (BEGIN + batch, then ROLLBACK).
        sent.length = 0;
        await expect(
          driver.writeBatch([
            { sql: 'INSERT INTO t VALUES (?, ?)', params: [4, 'e'] },
            { sql: 'UPDATE t SET v = ? WHERE id = ?', params: ['x', 99], check: (r) => { if (r.changes === 0) throw new Error('row 99 is not there'); } },
          ]),
        ).rejects.toThrow('row 99 is not there');
        expect(sent.map((q) => q.split(';')[0])).toEqual(['BEGIN', 'ROLLBACK']);
        // A check passing: committed by a second message.
        sent.length = 0;
        await driver.writeBatch([{ sql: 'UPDATE t SET v = ? WHERE id = ?', params: ['f', 1], check: (r) => expect(r.changes).toBe(1) }]);
        expect(sent.map((q) => q.split(';')[0])).toEqual(['BEGIN', 'COMMIT']);
        // The pooled connections are usable after every failure, and only the committed writes are stored.
        expect(await driver.all('SELECT id, v FROM t ORDER BY id')).toEqual([{ id: 1, v: 'f' }, { id: 2, v: 'c' }]);
        expect(await driver.writeBatch([])).toEqual([]);
      } finally {
        await storage.close();
      }
    });
  });
}
