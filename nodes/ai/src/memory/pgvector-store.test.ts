/**
 * The pgvector store against a REAL PostgreSQL with the extension installed (scripts/services, then
 * scripts/ai-setup pgvector). Uses its own database, created here when missing. Unreachable server: the tests
 * FAIL when CI is set and are skipped with a warning on a developer machine.
 */
import pg from 'pg';
import { describe, it } from 'vitest';
import { PgVectorStore } from './pgvector-store.ts';
import { defineVectorStoreSuite } from './vector-store.suite.ts';

const url = process.env.FLOWCREW_AI_TEST_DATABASE_URL ?? 'postgres://flowcrew:flowcrew@127.0.0.1:5432/flowcrew_ai_test';

/** Create the test database if it is missing (connecting to the server's maintenance database). */
async function prepare(): Promise<string | null> {
  const target = new URL(url);
  const database = target.pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
    return null;
  } catch (error) {
    return (error as Error).message || String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const unreachable = await prepare();
const hint = `PostgreSQL not reachable for the pgvector tests (${unreachable}). Run scripts/services and scripts/ai-setup pgvector, or set FLOWCREW_AI_TEST_DATABASE_URL.`;

if (unreachable && process.env.CI) {
  describe('PostgreSQL vector store (pgvector)', () => {
    it('needs a reachable PostgreSQL server with pgvector', () => {
      throw new Error(hint);
    });
  });
} else if (unreachable) {
  console.warn(`[pgvector-store.test] SKIPPED: ${hint}`);
  describe.skip('PostgreSQL vector store (pgvector): server unreachable', () => {
    it('skipped', () => undefined);
  });
} else {
  defineVectorStoreSuite('PostgreSQL vector store (pgvector)', () => PgVectorStore.open(url));
}
