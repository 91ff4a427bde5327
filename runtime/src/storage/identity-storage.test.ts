/**
 * The identity storage contract on SQLite (file and memory) and on a REAL PostgreSQL server (scripts/services starts
 * one; unreachable: FAIL under CI, skipped with a warning on a developer machine, as in postgres.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';
import { createPostgresStorage, redact } from './postgres.ts';
import { createSqliteStorage } from './sqlite.ts';
import { defineIdentityStorageSuite } from './identity.suite.ts';
import { dropSchemas, TEST_DATABASE_URL } from '../testing/storage-backends.ts';

const root = mkdtempSync(join(tmpdir(), 'flowcrew-identity-storage-'));
let n = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

defineIdentityStorageSuite('SQLite (file)', {
  async open() {
    const storage = createSqliteStorage({ filename: join(root, `t${++n}`, 'flowcrew.db') });
    await storage.migrate();
    return storage;
  },
});

defineIdentityStorageSuite('SQLite (:memory:)', {
  async open() {
    const storage = createSqliteStorage({ filename: ':memory:' });
    await storage.migrate();
    return storage;
  },
});

const url = TEST_DATABASE_URL;

async function probe(): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    const e = error as { message?: string; code?: string };
    return e.message || e.code || String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

const unreachable = await probe();
const message = `PostgreSQL test server not reachable at ${redact(url)}: ${unreachable}. Run \`scripts/services\` or set FLOWCREW_TEST_DATABASE_URL.`;

if (unreachable && process.env.CI) {
  describe('Identity storage: PostgreSQL', () => {
    it('needs a reachable PostgreSQL server', () => {
      throw new Error(message);
    });
  });
} else if (unreachable) {
  console.warn(`[identity-storage.test] SKIPPED: ${message}`);
  describe.skip('Identity storage: PostgreSQL (server unreachable)', () => {
    it('skipped', () => {});
  });
} else {
  const prefix = `fc_idt_${process.pid}_${randomBytes(3).toString('hex')}`;
  const schemas: string[] = [];
  afterAll(() => dropSchemas(schemas));
  defineIdentityStorageSuite('PostgreSQL', {
    async open() {
      const schema = `${prefix}_${schemas.length + 1}`;
      schemas.push(schema);
      const storage = await createPostgresStorage({ connectionString: url, schema });
      await storage.migrate();
      return storage;
    },
  });
}
