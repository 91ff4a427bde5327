/**
 * The PostgreSQL node against the real PostgreSQL server `scripts/services` starts: statements, batches,
 * transactions, paged reads, errors, the credential type's test, and the shared pool keyed by credential.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import { isBlobRef, NodeInputError, readRows, type FlowMessage, type RuntimeServices } from '@flowcrew/sdk';
import { closeTestServices, createTestNode, setTestServiceDefaults, testBlobStore, testResources } from '@flowcrew/sdk/testing';
import { postgresCredential } from './credential.ts';
import { postgresNode, type PostgresProps } from './node.ts';
import { openTestDatabase, testFields, type TestDatabase } from './testing.ts';
import type { PostgresFields } from './connect.ts';

/** The garbage collector, for measuring retained memory (the flag can be set at run time; gc is then reachable in a new context). */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
setTestServiceDefaults({ outbound });

let db: TestDatabase;
let fields: PostgresFields;
beforeAll(async () => {
  db = await openTestDatabase();
  fields = testFields();
  await db.admin.query(`CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL CHECK (name <> ''), qty integer NOT NULL DEFAULT 0, tags jsonb)`);
});
afterAll(async () => {
  await closeTestServices();
  await db?.close();
  await outbound.close();
});

const table = () => `${db.schema}.items`;
let credentialSeq = 0;
/** A node of the PostgreSQL type with the test credential (its own id unless `credentialId` is given). */
function node(props: Partial<PostgresProps>, options: { credentialId?: string; fields?: PostgresFields } = {}) {
  return createTestNode(postgresNode, props, { credentials: options.fields ?? fields, credential: { id: options.credentialId ?? `pg-${++credentialSeq}` } });
}

async function fails(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('postgres credential type', () => {
  const services = () => ({ outbound }) as unknown as RuntimeServices;

  it('reports the server version and role for good fields', async () => {
    const result = await postgresCredential.test!(fields, services(), new AbortController().signal);
    expect(result).toEqual({ ok: true, message: expect.stringMatching(/^connected to PostgreSQL 15\.\d+ .*at 127\.0\.0\.1:5432\/flowcrew_test as flowcrew$/) });
  });

  it('says what is wrong for a wrong password, naming the server, without the password', async () => {
    const result = await postgresCredential.test!({ ...fields, password: 'wrong-password-123' }, services(), new AbortController().signal);
    expect(result.ok).toBe(false);
    expect(result.message).toContain('flowcrew@127.0.0.1:5432/flowcrew_test: connection test failed: password authentication failed for user "flowcrew"');
    expect(result.message).not.toContain('wrong-password-123');
  });

  it('is refused by the outbound guard for a destination the administrator did not allow', async () => {
    const strict = createOutboundGuard();
    try {
      const result = await postgresCredential.test!(fields, { outbound: strict } as unknown as RuntimeServices, new AbortController().signal);
      expect(result.ok).toBe(false);
      expect(result.message).toMatch(/127\.0\.0\.1.*FLOWCREW_OUTBOUND_ALLOW/);
    } finally {
      await strict.close();
    }
  });

  it('fails fast with the reason for a host where nothing listens', async () => {
    const result = await postgresCredential.test!({ ...fields, port: 9 }, services(), new AbortController().signal);
    expect(result).toMatchObject({ ok: false, message: expect.stringContaining('127.0.0.1:9') });
    expect(result.message).toMatch(/ECONNREFUSED/);
  });
});

describe('postgres node: statements', () => {
  it('runs a parameterised query: message data is a value, never SQL', async () => {
    const n = await node({ sql: 'SELECT $1::text AS said, $2::int + 1 AS next', params: ['payload.text', { value: 41 }] });
    const evil = "x'); DROP TABLE items; --";
    const [out] = await n.input({ payload: { text: evil } });
    expect(out!.msg).toMatchObject({ payload: [{ said: evil, next: 42 }], rowCount: 1, command: 'SELECT' });
    expect((await db.admin.query('SELECT to_regclass($1) AS t', [table()])).rows[0].t).not.toBeNull();
    await n.stop();
  });

  it('fails a statement with a syntax error clearly: server, operation, what PostgreSQL said; not retried', async () => {
    const n = await node({ sql: 'SELEC 1' });
    const error = await fails(n.input({}));
    expect(error.message).toBe('PostgreSQL flowcrew@127.0.0.1:5432/flowcrew_test: query failed: syntax error at or near "SELEC" (at character 1; SQLSTATE 42601)');
    expect((error as { retryable?: boolean }).retryable).toBe(false);
    // The connection went back to the pool in a usable state: the next message works.
    const ok = await node({ sql: 'SELECT 1 AS one' });
    expect((await ok.input({}))[0]!.msg.payload).toEqual([{ one: 1 }]);
    await Promise.all([n.stop(), ok.stop()]);
  });

  it('names the missing message property of a parameter', async () => {
    const n = await node({ sql: 'SELECT $1::int', params: ['payload.id'] });
    const error = await fails(n.input({ payload: {} }));
    expect(error).toBeInstanceOf(NodeInputError);
    expect(error.message).toContain('/params/0 ($1): the message has no payload.id');
    await n.stop();
  });

  it('refuses to load more than maxRows with output rows, pointing at pages', async () => {
    const n = await node({ sql: 'SELECT g FROM generate_series(1, 50) g', maxRows: 10 });
    expect((await fails(n.input({}))).message).toMatch(/returned more than 10 rows \(maxRows\): choose output "pages" or "blob"/);
    await n.stop();
  });

  it('runs readOnly statements in a read-only transaction', async () => {
    const n = await node({ sql: `DELETE FROM ${table()}`, readOnly: true });
    expect((await fails(n.input({}))).message).toMatch(/cannot execute DELETE in a read-only transaction \(SQLSTATE 25006\)/);
    await n.stop();
  });

  it('runs a transaction all or nothing, saying which statement failed', async () => {
    await db.admin.query('TRUNCATE items');
    const n = await node({
      operation: 'transaction',
      statements: [
        { sql: `INSERT INTO ${table()} (id, name) VALUES ($1, 'first')`, params: ['payload.id'] },
        { sql: `INSERT INTO ${table()} (id, name) VALUES ($1, 'dup')`, params: ['payload.id'] },
      ],
    });
    const error = await fails(n.input({ payload: { id: 7 } }));
    expect(error.message).toMatch(/transaction of 2 statements failed: statement 2 of 2 failed, the transaction was rolled back: duplicate key value violates unique constraint "items_pkey" \(Key \(id\)=\(7\) already exists\.; SQLSTATE 23505\)/);
    expect((await db.admin.query('SELECT count(*)::int AS n FROM items')).rows[0].n).toBe(0);
    const ok = await node({ operation: 'transaction', statements: [{ sql: `INSERT INTO ${table()} (id, name) VALUES (1, 'a') RETURNING id` }, { sql: `SELECT count(*)::int AS n FROM ${table()}` }] });
    expect((await ok.input({}))[0]!.msg.payload).toEqual([
      { command: 'INSERT', rowCount: 1, rows: [{ id: 1 }] },
      { command: 'SELECT', rowCount: 1, rows: [{ n: 1 }] },
    ]);
    await Promise.all([n.stop(), ok.stop()]);
  });
});

describe('postgres node: batches', () => {
  const rows = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ id: from + i, name: `item ${from + i}`, qty: i, tags: { n: i } }));

  it('inserts in batches and upserts by key (typed by the table, jsonb included)', async () => {
    await db.admin.query('TRUNCATE items');
    const insert = await node({ operation: 'insert', table: table(), batchSize: 100 });
    const [out] = await insert.input({ payload: rows(1, 250) });
    expect(out!.msg.payload).toEqual({ table: table(), operation: 'insert', rowsWritten: 250, rowsSent: 250, batches: 3 });
    const upsert = await node({ operation: 'upsert', table: table(), conflictColumns: ['id'], updateColumns: ['qty'], batchSize: 100 });
    const changed = rows(200, 100).map((r) => ({ ...r, qty: 999, name: 'ignored on update' }));
    expect((await upsert.input({ payload: changed }))[0]!.msg.payload).toMatchObject({ rowsWritten: 100, batches: 1 });
    const { rows: check } = await db.admin.query('SELECT count(*)::int AS n, count(*) FILTER (WHERE qty = 999)::int AS updated, max(id) AS top FROM items');
    expect(check[0]).toEqual({ n: 299, updated: 100, top: 299 });
    // Only updateColumns change on conflict: row 200 keeps its name and tags, row 299 was new and got everything.
    expect((await db.admin.query('SELECT name, qty, tags FROM items WHERE id = 200')).rows[0]).toEqual({ name: 'item 200', qty: 999, tags: { n: 199 } });
    expect((await db.admin.query('SELECT name, tags FROM items WHERE id = 299')).rows[0]).toEqual({ name: 'ignored on update', tags: { n: 99 } });
    await Promise.all([insert.stop(), upsert.stop()]);
  });

  it('a constraint violation mid-batch, atomic: nothing written, and the error says so', async () => {
    await db.admin.query('TRUNCATE items');
    const batch = rows(1, 500);
    batch[321] = { ...batch[321]!, name: '' }; // breaks the CHECK in the 4th batch of 100
    const n = await node({ operation: 'insert', table: table(), batchSize: 100 });
    const error = await fails(n.input({ payload: batch }));
    expect(error).toBeInstanceOf(NodeInputError);
    expect(error.message).toMatch(
      /^PostgreSQL flowcrew@127\.0\.0\.1:5432\/flowcrew_test: insert into dbpack_\w+\.items: batch 4 \(rows 300–399\) failed: new row for relation "items" violates check constraint "items_name_check" \(Failing row contains \(322, , 321, \{"n": 321\}\)\.\); nothing was written: the transaction of all 4 batch\(es\) so far was rolled back$/,
    );
    expect((await db.admin.query('SELECT count(*)::int AS n FROM items')).rows[0].n).toBe(0);
    await n.stop();
  });

  it('a constraint violation mid-batch, not atomic: earlier batches stay, the error says which rows were and were not written', async () => {
    await db.admin.query('TRUNCATE items');
    const batch = rows(1, 500);
    batch[321] = { ...batch[321]!, id: 5 }; // a duplicate key in the 4th batch
    const n = await node({ operation: 'insert', table: table(), batchSize: 100, atomic: false });
    const error = await fails(n.input({ payload: batch }));
    expect(error.message).toContain('batch 4 (rows 300–399) failed: duplicate key value violates unique constraint "items_pkey" (Key (id)=(5) already exists.)');
    expect(error.message).toContain('rows 0–299 (3 batch(es)) were written and stay; rows from 300 on were not written');
    const { rows: check } = await db.admin.query('SELECT count(*)::int AS n, max(id) AS top FROM items');
    expect(check[0]).toEqual({ n: 300, top: 300 });
    await n.stop();
  });

  it('names unknown columns and non-object rows before writing anything', async () => {
    const n = await node({ operation: 'insert', table: table() });
    expect((await fails(n.input({ payload: [{ id: 1, nmae: 'typo' }] }))).message).toMatch(/table dbpack_\w+\.items has no column "nmae" \(it has id, name, qty, tags\)/);
    expect((await fails(n.input({ payload: [{ id: 1, name: 'a' }, 'oops'] }))).message).toContain('row 1 is not an object');
    expect((await fails(n.input({ payload: 'not rows' }))).message).toContain('msg.payload must be an array of rows or a blob reference');
    await n.stop();
  });
});

describe('postgres node: large results', () => {
  it('reads 100,000 rows in pages with flat memory, and the pages feed a batch insert', async () => {
    await db.admin.query(`CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 16) AS body FROM generate_series(1, 100000) g`); // ~512 bytes a row, ~50 MB
    await db.admin.query('CREATE TABLE copy (id integer PRIMARY KEY, body text)');
    const read = await node({ sql: `SELECT id, body FROM ${db.schema}.big ORDER BY id`, output: 'pages', pageSize: 2000 });
    // What is retained (garbage collected first), sampled while the pages stream: holding the rows would be > 50 MB.
    const retained = () => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const baseline = retained();
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, retained() - baseline);
    }, 250);
    const pages = await read.input({ topic: 'big' });
    clearInterval(sampler);
    expect(pages).toHaveLength(50);
    expect(pages.every((p) => isBlobRef(p.msg.payload) && p.msg.topic === 'big')).toBe(true);
    expect(pages.at(-1)!.msg.page).toEqual({ index: 49, rows: 2000, rowsSoFar: 100_000, last: true });
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(15 * 1024 * 1024);

    const blobs = await testBlobStore();
    let seen = 0;
    for await (const page of readRows<{ id: number }>(blobs, pages[10]!.msg.payload as never, 500)) {
      expect(page[0]!.id).toBe(20_001 + seen);
      seen += page.length;
    }
    expect(seen).toBe(2000);

    const write = await node({ operation: 'insert', table: `${db.schema}.copy`, batchSize: 1000 });
    let written = 0;
    for (const page of pages) written += ((await write.input(page.msg as FlowMessage))[0]!.msg.payload as { rowsWritten: number }).rowsWritten;
    expect(written).toBe(100_000);
    expect((await db.admin.query('SELECT count(*)::int AS n FROM copy')).rows[0].n).toBe(100_000);
    await Promise.all([read.stop(), write.stop()]);
  }, 120_000);

  it('puts a whole result in one JSON Lines blob with output blob', async () => {
    const n = await node({ sql: 'SELECT g AS n FROM generate_series(1, 5000) g', output: 'blob', pageSize: 700 });
    const [out] = await n.input({ payload: 'replaced' });
    expect(out!.msg).toMatchObject({ rowCount: 5000, payload: { $blob: expect.any(String), contentType: 'application/x-ndjson' } });
    const blobs = await testBlobStore();
    let total = 0;
    for await (const page of readRows(blobs, out!.msg.payload as never)) total += page.length;
    expect(total).toBe(5000);
    await n.stop();
  });
});

describe('postgres node: the pool, keyed by credential', () => {
  it('shares one pool between nodes with one credential, closes it when the last is undeployed', async () => {
    const own = testFields();
    const a = await node({ sql: 'SELECT pg_sleep(0.05)' }, { credentialId: 'shared', fields: own });
    const b = await node({ sql: 'SELECT pg_sleep(0.05)' }, { credentialId: 'shared', fields: own });
    await Promise.all([a.input({}), b.input({}), a.input({}), b.input({})]);
    expect(testResources().list().filter((r) => r.credential?.id === 'shared')).toEqual([{ key: 'db:postgres:pool', credential: { id: 'shared', revision: 1 }, holders: 2, state: 'open' }]);
    expect(await db.connections(own.applicationName!)).toBeGreaterThanOrEqual(1);
    expect(await db.connections(own.applicationName!)).toBeLessThanOrEqual(4);
    await a.stop();
    expect(await db.connections(own.applicationName!)).toBeGreaterThanOrEqual(1);
    await b.stop();
    expect(await db.waitForConnections(own.applicationName!, 0)).toBe(0);
    expect(testResources().list().filter((r) => r.credential?.id === 'shared')).toEqual([]);
  });

  it('a credential change reaches the running node without a redeploy: new pool, new fields, old connections closed', async () => {
    const before = testFields();
    const after = { ...before, applicationName: `${before.applicationName}-v2` };
    const n = await node({ sql: "SELECT current_setting('application_name') AS app" }, { credentialId: 'changing', fields: before });
    expect((await n.input({}))[0]!.msg.payload).toEqual([{ app: before.applicationName }]);
    expect(await db.connections(before.applicationName!)).toBe(1);
    n.changeCredential(after);
    expect(n.credential!.revision).toBe(2);
    expect((await n.input({}))[0]!.msg.payload).toEqual([{ app: after.applicationName }]);
    expect(await db.waitForConnections(before.applicationName!, 0)).toBe(0);
    expect(await db.connections(after.applicationName!)).toBe(1);
    await n.stop();
    expect(await db.waitForConnections(after.applicationName!, 0)).toBe(0);
  });

  it('cancels the statement on the server when the run is cancelled', async () => {
    const own = testFields();
    const n = await node({ sql: 'SELECT pg_sleep(30)' }, { fields: own });
    const controller = new AbortController();
    const running = n.input({}, { signal: controller.signal });
    await db.waitForConnections(own.applicationName!, 1);
    controller.abort(new Error('run cancelled'));
    expect((await fails(running)).message).toContain('run cancelled');
    // The connection running it was destroyed: the backend goes away instead of sleeping on.
    expect(await db.waitForConnections(own.applicationName!, 0)).toBe(0);
    await n.stop();
  });
});
