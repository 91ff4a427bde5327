/**
 * Prepared statements inside the one-message write batches (pg-prepared.ts), against a REAL PostgreSQL server
 * (`scripts/services`): what is prepared, when, on which connection, and that results are those of the inlined text.
 * Skipped when no server is reachable (postgres.test.ts fails loudly for that under CI).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PREPARE_AFTER_USES, PreparedStatements, prepareModeFromEnv, type PrepareMode } from './pg-prepared.ts';
import { PostgresDriver, inlineParams, toNumberedPlaceholders } from './postgres.ts';
import { ParsedStatement, PipelinedBatch, singleCommand, type PipelineStep } from './pg-pipeline.ts';
import { dropSchemas, recordPgMessages, TEST_DATABASE_URL as url } from '../testing/storage-backends.ts';

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

describe('singleCommand (what the unnamed Parse of a pipelined batch takes)', () => {
  it('one command, a trailing ; or a ; inside quotes; not two commands or comments', () => {
    expect(singleCommand("UPDATE t SET v = 'a;b' WHERE id = 1")).toBe(true);
    expect(singleCommand('SELECT 1; ')).toBe(true);
    expect(singleCommand('SELECT "x;y" FROM t')).toBe(true);
    expect(singleCommand('SELECT 1; SELECT 2')).toBe(false);
    expect(singleCommand("SELECT 1 -- it's\n")).toBe(false);
    expect(singleCommand('SELECT /* ; */ 1')).toBe(false);
  });
});

describe('FLOWCREW_PG_PREPARE', () => {
  it('is on by default; off, false, 0 turn it off; always is the test mode', () => {
    expect(prepareModeFromEnv('')).toBe('recurring');
    expect(prepareModeFromEnv('on')).toBe('recurring');
    for (const off of ['off', 'OFF', 'false', '0', 'no']) expect(prepareModeFromEnv(off)).toBe('off');
    expect(prepareModeFromEnv('always')).toBe('always');
  });
});

const prefix = `fc_prep_${process.pid}_${randomBytes(3).toString('hex')}`;
const schemas: string[] = [];
let nextSchema = 0;

afterAll(() => dropSchemas(schemas));

/** A driver on a fresh schema with ONE pooled connection (so "this connection" is known), table t created. */
async function driverWith(prepare: PrepareMode): Promise<PostgresDriver> {
  const schema = `${prefix}_${++nextSchema}`;
  schemas.push(schema);
  const driver = new PostgresDriver({ connectionString: url, schema, poolSize: 1, prepare });
  await driver.connect();
  await driver.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, n BIGINT, doc JSONB)');
  return driver;
}

/** Statements prepared on the driver's connection, as PostgreSQL lists them. */
async function preparedOnServer(driver: PostgresDriver): Promise<string[]> {
  const rows = await driver.all(`SELECT statement FROM pg_prepared_statements WHERE name LIKE 'fc_w%' ORDER BY prepare_time`);
  // The statement column holds the text of the protocol's Parse.
  return rows.map((r) => String(r.statement));
}

/** What the driver's pooled clients send: a simple query's text, or a pipelined batch's steps (pg-pipeline.ts). */
type Sent = string | readonly PipelineStep[] | { parse: string; text: string };
function recordSent(driver: PostgresDriver): Sent[] {
  return recordPgMessages<Sent>(driver, (q) => {
    if (typeof q === 'string') return q;
    if (q instanceof PipelinedBatch) return q.steps;
    if (q instanceof ParsedStatement) return { parse: q.statement, text: q.text };
    return undefined;
  });
}

const ok = await reachable();

describe.skipIf(!ok)('prepared statements in write batches (PostgreSQL)', () => {
  it('a text is prepared at its 5th use, in a round trip of its own, then runs by Bind inside the one pipelined write', async () => {
    const driver = await driverWith('recurring');
    const sent = recordSent(driver);
    try {
      const insert = 'INSERT INTO t (id, v) VALUES (?, ?)';
      for (let id = 10; id < 10 + PREPARE_AFTER_USES - 1; id++) await driver.writeBatch([{ sql: insert, params: [id, 'a'] }]);
      expect(sent).toHaveLength(PREPARE_AFTER_USES - 1);
      expect(sent[0]).toBe(`BEGIN;\nINSERT INTO t (id, v) VALUES (10, 'a');\nCOMMIT`);
      await driver.exec('DELETE FROM t');
      sent.length = 0;
      await driver.writeBatch([{ sql: insert, params: [1, 'a'] }, { sql: insert, params: [2, "it's"] }]);
      expect(sent).toHaveLength(2);
      // Prepared by the protocol's Parse (+ Describe for the parameter types), one round trip of its own.
      expect(sent[0]).toEqual({ parse: expect.stringMatching(/^fc_w\d+$/), text: 'INSERT INTO t (id, v) VALUES ($1, $2)' });
      const name = (sent[0] as { parse: string }).parse;
      // BEGIN and COMMIT parsed unnamed, the statements bound with their values as text parameters, one Sync.
      expect(sent[1]).toEqual([{ text: 'BEGIN' }, { statement: name, values: ['1', 'a'] }, { statement: name, values: ['2', "it's"] }, { text: 'COMMIT' }]);
      sent.length = 0;
      await driver.writeBatch([{ sql: insert, params: [3, 'c'] }]);
      expect(sent).toEqual([[{ text: 'BEGIN' }, { statement: name, values: ['3', 'c'] }, { text: 'COMMIT' }]]); // prepared once per connection
      expect(await driver.all('SELECT id, v FROM t ORDER BY id')).toEqual([
        { id: 1, v: 'a' },
        { id: 2, v: "it's" },
        { id: 3, v: 'c' },
      ]);
      expect(await preparedOnServer(driver)).toEqual(['INSERT INTO t (id, v) VALUES ($1, $2)']);
    } finally {
      await driver.close();
    }
  });

  it('off: nothing is prepared, every statement is inlined', async () => {
    const driver = await driverWith('off');
    try {
      for (let i = 1; i <= 3; i++) await driver.writeBatch([{ sql: 'INSERT INTO t (id, v) VALUES (?, ?)', params: [i, 'x'] }]);
      expect(await preparedOnServer(driver)).toEqual([]);
      expect(await driver.all('SELECT count(*)::int AS n FROM t')).toEqual([{ n: 3 }]);
    } finally {
      await driver.close();
    }
  });

  it('gives the results of the inlined text where PostgreSQL types a parameter differently from a literal', async () => {
    // Each statement run in both modes on the same rows: the same answers (and a text PREPARE cannot type inlined).
    const cases: Array<{ sql: string; params: Array<string | number | null> }> = [
      { sql: 'SELECT id FROM t WHERE ? IS NULL OR id = ? ORDER BY id', params: [null, 1] }, // $1: no type: inlined
      { sql: 'SELECT id FROM t WHERE id > ? ORDER BY id', params: [1.5] }, // $1 integer: 1.5 would round to 2
      { sql: 'SELECT ? AS x, ? AS y', params: [5, 'five'] }, // $1 text: the number would come back as '5'
      { sql: 'SELECT COALESCE(?, v) AS v FROM t WHERE id = ?', params: [null, 2] },
      { sql: 'SELECT (?::jsonb) ->> ? AS a', params: ['{"a": "it\'s \\\\ here"}', 'a'] },
      { sql: 'SELECT id FROM t WHERE v = ? ORDER BY id', params: [7] }, // a number against a text column
      { sql: 'UPDATE t SET n = ?, doc = ? WHERE id = ? RETURNING n, doc', params: [9007199254740991, '{"k": [1, 2]}', 2] },
      { sql: 'SELECT CASE WHEN id = ? THEN ? ELSE ? END AS c FROM t ORDER BY id', params: [1, 'one', 'other'] },
    ];
    const answers: Record<string, unknown[]> = {};
    for (const mode of ['off', 'always'] as const) {
      const driver = await driverWith(mode);
      try {
        await driver.writeBatch([{ sql: 'INSERT INTO t (id, v) VALUES (?, ?), (?, ?), (?, ?)', params: [1, 'a', 2, 'b', 7, '7'] }]);
        const got: unknown[] = [];
        for (const c of cases) {
          try {
            got.push((await driver.writeBatch([c]))[0]);
          } catch (error) {
            got.push(`error: ${(error as Error).message}`);
          }
        }
        answers[mode] = got;
      } finally {
        await driver.close();
      }
    }
    expect(answers.always).toEqual(answers.off);
    expect(answers.off![1]).toEqual({ changes: 2, rows: [{ id: 2 }, { id: 7 }] });
    expect(answers.off![2]).toEqual({ changes: 1, rows: [{ x: 5, y: 'five' }] });
  });

  it('a connection that lost its statements (a pooler, DISCARD) or a table changed under one: the batch goes again inlined', async () => {
    const driver = await driverWith('always');
    try {
      const update = { sql: 'UPDATE t SET v = ? WHERE id = ? RETURNING *', params: ['b', 1] };
      await driver.writeBatch([{ sql: 'INSERT INTO t (id, v) VALUES (?, ?)', params: [1, 'a'] }, update]);
      await driver.exec('DEALLOCATE ALL');
      expect((await driver.writeBatch([{ ...update, params: ['c', 1] }]))[0]!.rows).toEqual([{ id: 1, v: 'c', n: null, doc: null }]);
      expect(await preparedOnServer(driver)).toEqual([]);
      expect((await driver.writeBatch([{ ...update, params: ['c', 1] }]))[0]!.rows).toEqual([{ id: 1, v: 'c', n: null, doc: null }]);
      expect(await preparedOnServer(driver)).toEqual(['UPDATE t SET v = $1 WHERE id = $2 RETURNING *']); // prepared afresh
      await driver.exec('ALTER TABLE t ADD COLUMN extra TEXT');
      // The prepared RETURNING * changed its result type: refused by PostgreSQL, so the batch is sent again inlined.
      expect((await driver.writeBatch([{ ...update, params: ['d', 1] }]))[0]!.rows).toEqual([{ id: 1, v: 'd', n: null, doc: null, extra: null }]);
    } finally {
      await driver.close();
    }
  });

  it('a pipelined batch: a failing statement fails it with the server error, stores nothing, and the connection goes on', async () => {
    const driver = await driverWith('always');
    const sent = recordSent(driver);
    try {
      const insert = 'INSERT INTO t (id, v) VALUES (?, ?)';
      await driver.writeBatch([{ sql: insert, params: [1, 'a'] }]);
      const failing = driver.writeBatch([{ sql: insert, params: [2, 'b'] }, { sql: insert, params: [1, 'duplicate'] }, { sql: insert, params: [3, 'c'] }]);
      await expect(failing).rejects.toMatchObject({ code: '23505' });
      expect(Array.isArray(sent.at(-2))).toBe(true); // the failing batch went pipelined, then the ROLLBACK
      expect(sent.at(-1)).toBe('ROLLBACK');
      // A text PREPARE cannot type goes parsed unnamed in the same write; a statement of two commands: all inlined.
      const mixed = await driver.writeBatch([{ sql: insert, params: [4, 'd'] }, { sql: 'SELECT count(*)::int AS n FROM t WHERE ? IS NULL', params: [null] }]);
      expect(mixed[1]).toEqual({ changes: 1, rows: [{ n: 2 }] });
      expect(sent.at(-1)).toEqual([{ text: 'BEGIN' }, expect.objectContaining({ values: ['4', 'd'] }), { text: 'SELECT count(*)::int AS n FROM t WHERE NULL IS NULL' }, { text: 'COMMIT' }]);
      await driver.writeBatch([{ sql: insert, params: [5, 'e'] }, { sql: "UPDATE t SET v = 'x' WHERE id = ?; UPDATE t SET v = 'y' WHERE id = ?", params: [4, 5] }]);
      expect(sent.at(-1)).toMatch(/^BEGIN;\nINSERT INTO t \(id, v\) VALUES \(5, 'e'\);/);
      // A check refusing a result rolls the pipelined batch back; a check passing commits it.
      const check = (r: { changes: number }) => {
        if (r.changes === 0) throw new Error('row 99 is not there');
      };
      await expect(driver.writeBatch([{ sql: insert, params: [6, 'f'] }, { sql: 'UPDATE t SET v = ? WHERE id = ?', params: ['z', 99], check }])).rejects.toThrow('row 99');
      await driver.writeBatch([{ sql: insert, params: [7, 'g'] }, { sql: 'UPDATE t SET v = ? WHERE id = ?', params: ['h', 7], check }]);
      expect(sent.at(-1)).toBe('COMMIT');
      expect(await driver.all('SELECT id, v FROM t ORDER BY id')).toEqual([
        { id: 1, v: 'a' },
        { id: 4, v: 'x' },
        { id: 5, v: 'y' },
        { id: 7, v: 'h' },
      ]);
    } finally {
      await driver.close();
    }
  });

  it('prepares at most its bound of statements per connection, then inlines new texts', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const prepared = new PreparedStatements('always', toNumberedPlaceholders, inlineParams, 2);
      const texts = await prepared.texts(client, [
        { sql: 'SELECT ?::int AS a', params: [1] },
        { sql: 'SELECT ?::int AS b', params: [2] },
        { sql: 'SELECT ?::int AS c', params: [3] },
      ]);
      expect(texts.map((t) => t.prepared)).toEqual([true, true, false]);
      expect(texts[2]!.text).toBe('SELECT 3::int AS c');
      expect(prepared.preparedOn(client)).toBe(2);
      // Another connection starts empty.
      const other = new pg.Client({ connectionString: url });
      await other.connect();
      try {
        expect(prepared.preparedOn(other)).toBe(0);
        expect((await prepared.texts(other, [{ sql: 'SELECT ?::int AS a', params: [1] }]))[0]!.prepared).toBe(true);
      } finally {
        await other.end();
      }
    } finally {
      await client.end();
    }
  });
});
