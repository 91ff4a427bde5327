/**
 * A connection's session settings (pg-session.ts) against a REAL PostgreSQL server (`scripts/services`): long values
 * stored lz4-compressed where the server has lz4, read back unchanged; the server default when asked. Skipped when no
 * server is reachable (postgres.test.ts fails loudly for that under CI).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionSetup, toastCompressionFromEnv, type ToastCompression } from './pg-session.ts';
import { PostgresDriver } from './postgres.ts';
import { dropSchemas, TEST_DATABASE_URL as url } from '../testing/storage-backends.ts';

async function serverLz4(): Promise<boolean | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const { rows } = await client.query(`SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)`);
    return rows.length === 1;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

describe('FLOWCREW_PG_COMPRESSION', () => {
  it('is lz4 by default; server (or off, default, pglz) keeps the server default', () => {
    expect(toastCompressionFromEnv(undefined)).toBe('lz4');
    expect(toastCompressionFromEnv('lz4')).toBe('lz4');
    for (const v of ['server', 'OFF', 'default', 'pglz']) expect(toastCompressionFromEnv(v)).toBe('server');
  });

  it('a server without lz4 (no row from pg_settings) is said once in the log, nothing fails', async () => {
    const logged: string[] = [];
    const setup = new SessionSetup('lz4', (m) => logged.push(m));
    const noLz4 = { query: async () => ({ rows: [] }) };
    await setup.onConnect(noLz4);
    await setup.onConnect(noLz4);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/no lz4 compression/);
    await new SessionSetup('lz4', (m) => logged.push(m)).onConnect({ query: () => Promise.reject(new Error('connection lost')) });
    expect(logged).toHaveLength(1);
  });
});

const lz4 = await serverLz4();
const prefix = `fc_sess_${process.pid}_${randomBytes(3).toString('hex')}`;
const schemas: string[] = [];
let nextSchema = 0;
afterAll(() => dropSchemas(schemas));

async function stored(compression: ToastCompression): Promise<{ methods: string[]; values: string[]; expected: string[] }> {
  const schema = `${prefix}_${++nextSchema}`;
  schemas.push(schema);
  const driver = new PostgresDriver({ connectionString: url, schema, poolSize: 2, compression });
  try {
    await driver.connect();
    await driver.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, doc JSONB)');
    // ~3 KB of repetitive text: past the TOAST threshold, so PostgreSQL compresses it.
    const expected = [1, 2].map((i) => `{"i":${i},"history":[${Array.from({ length: 60 }, (_, n) => `{"node":"n${n}","status":"succeeded"}`).join(',')}]}`);
    await driver.writeBatch(expected.map((v, i) => ({ sql: 'INSERT INTO t (id, v, doc) VALUES (?, ?, ?)', params: [i + 1, v, v] })));
    const rows = await driver.all('SELECT v, doc::text AS doc, pg_column_compression(v) AS cv, pg_column_compression(doc) AS cd FROM t ORDER BY id');
    return {
      methods: rows.flatMap((r) => [String(r.cv), String(r.cd)]),
      values: rows.map((r) => String(r.v)),
      expected,
    };
  } finally {
    await driver.close();
  }
}

describe.skipIf(lz4 === undefined)('session settings (PostgreSQL)', () => {
  it.skipIf(!lz4)('long values are stored lz4-compressed and read back unchanged', async () => {
    const { methods, values, expected } = await stored('lz4');
    expect(new Set(methods)).toEqual(new Set(['lz4']));
    expect(values).toEqual(expected);
  });

  it('FLOWCREW_PG_COMPRESSION=server keeps the server default (pglz here)', async () => {
    const { methods, values, expected } = await stored('server');
    expect(new Set(methods)).toEqual(new Set(['pglz']));
    expect(values).toEqual(expected);
  });
});
