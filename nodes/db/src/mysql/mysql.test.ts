/**
 * The MySQL/MariaDB node against the real MariaDB `scripts/services mariadb` starts: statements, batches,
 * transactions, paged reads, errors, the credential type's test, the shared pool keyed by credential, cancellation.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import { isBlobRef, NodeInputError, readRows, type FlowMessage, type RuntimeServices } from '@flowcrew/sdk';
import { closeTestServices, createTestNode, setTestServiceDefaults, testBlobStore, testResources } from '@flowcrew/sdk/testing';
import type { MysqlFields } from './connect.ts';
import { mysqlCredential } from './credential.ts';
import { mysqlNode, type MysqlProps } from './node.ts';
import { openTestMysql, type TestMysql } from './testing.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
setTestServiceDefaults({ outbound });

let db: TestMysql;
let fields: MysqlFields;
beforeAll(async () => {
  db = await openTestMysql();
  fields = db.fields();
  await db.admin.query(`CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL CHECK (name <> ''), qty INT NOT NULL DEFAULT 0, tags JSON) ENGINE=InnoDB`);
});
afterAll(async () => {
  await closeTestServices();
  await db?.close();
  await outbound.close();
});

let credentialSeq = 0;
function node(props: Partial<MysqlProps>, options: { credentialId?: string; fields?: MysqlFields } = {}) {
  return createTestNode(mysqlNode, props, { credentials: options.fields ?? fields, credential: { id: options.credentialId ?? `my-${++credentialSeq}` } });
}

async function fails(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

const count = async (table = 'items') => {
  const [rows] = await db.admin.query<any[]>(`SELECT COUNT(*) AS n FROM ${table}`);
  return Number(rows[0].n);
};
const server = () => `${fields.user}@127.0.0.1:3306/${db.database}`;

describe('mysql credential type', () => {
  const services = () => ({ outbound }) as unknown as RuntimeServices;

  it('reports the server product, version and account for good fields', async () => {
    const result = await mysqlCredential.test!(fields, services(), new AbortController().signal);
    expect(result).toEqual({ ok: true, message: expect.stringMatching(new RegExp(`^connected to MariaDB 10\\.\\d+\\.\\d+-MariaDB\\S* at 127\\.0\\.0\\.1:3306/${db.database} as ${fields.user}@127\\.0\\.0\\.1$`)) });
  });

  it('says what is wrong for a wrong password, naming the server, without the password', async () => {
    const result = await mysqlCredential.test!({ ...fields, password: 'wrong-password-123' }, services(), new AbortController().signal);
    expect(result.ok).toBe(false);
    expect(result.message).toContain(`MySQL ${server()}: connection test failed: Access denied for user '${fields.user}'@'127.0.0.1' (using password: YES) (ER_ACCESS_DENIED_ERROR; SQLSTATE 28000)`);
    expect(result.message).not.toContain('wrong-password-123');
  });

  it('is refused by the outbound guard for a destination the administrator did not allow', async () => {
    const strict = createOutboundGuard();
    try {
      const result = await mysqlCredential.test!(fields, { outbound: strict } as unknown as RuntimeServices, new AbortController().signal);
      expect(result.ok).toBe(false);
      expect(result.message).toMatch(/127\.0\.0\.1.*FLOWCREW_OUTBOUND_ALLOW/);
    } finally {
      await strict.close();
    }
  });

  it('fails fast with the reason for a port where nothing listens', async () => {
    const result = await mysqlCredential.test!({ ...fields, port: 9 }, services(), new AbortController().signal);
    expect(result).toMatchObject({ ok: false, message: expect.stringContaining('127.0.0.1:9') });
    expect(result.message).toMatch(/ECONNREFUSED/);
  });
});

describe('mysql node: statements', () => {
  it('runs a prepared statement: message data is a bound value, never SQL', async () => {
    const n = await node({ sql: 'SELECT ? AS said, ? + 1 AS next', params: ['payload.text', { value: 41 }] });
    const evil = "x'); DROP TABLE items; --";
    const [out] = await n.input({ payload: { text: evil } });
    expect(out!.msg).toMatchObject({ payload: [{ said: evil, next: 42 }], rowCount: 1 });
    expect(await count()).toBe(0);
    await n.stop();
  });

  it('reports affected rows and the insert id of a statement without rows', async () => {
    const n = await node({ sql: 'INSERT INTO items (id, name, tags) VALUES (?, ?, ?)', params: ['payload.id', 'payload.name', 'payload.tags'] });
    const [out] = await n.input({ payload: { id: 9, name: 'nine', tags: { a: [1, 2] } } });
    expect(out!.msg).toMatchObject({ affectedRows: 1, payload: 1 });
    const [rows] = await db.admin.query<any[]>('SELECT tags FROM items WHERE id = 9');
    expect(typeof rows[0].tags === 'string' ? JSON.parse(rows[0].tags) : rows[0].tags).toEqual({ a: [1, 2] });
    await db.admin.query('DELETE FROM items');
    await n.stop();
  });

  it('fails a statement with a syntax error clearly: server, operation, what MariaDB said; not retried; the pool stays usable', async () => {
    const n = await node({ sql: 'SELEC 1' });
    const error = await fails(n.input({}));
    expect(error.message).toMatch(new RegExp(`^MySQL ${server()}: query failed: You have an error in your SQL syntax; .* near 'SELEC 1' at line 1 \\(ER_PARSE_ERROR; SQLSTATE 42000\\)$`));
    expect((error as { retryable?: boolean }).retryable).toBe(false);
    const ok = await node({ sql: 'SELECT 1 AS one' });
    expect((await ok.input({}))[0]!.msg.payload).toEqual([{ one: 1 }]);
    await Promise.all([n.stop(), ok.stop()]);
  });

  it('names the missing message property of a parameter', async () => {
    const n = await node({ sql: 'SELECT ?', params: ['payload.id'] });
    const error = await fails(n.input({ payload: {} }));
    expect(error).toBeInstanceOf(NodeInputError);
    expect(error.message).toContain('/params/0 (?1): the message has no payload.id');
    await n.stop();
  });

  it('refuses to load more than maxRows with output rows, and the connection left mid-result is not reused', async () => {
    const n = await node({ sql: 'SELECT seq FROM seq_1_to_5000', maxRows: 10 });
    expect((await fails(n.input({}))).message).toMatch(/returned more than 10 rows \(maxRows\): choose output "pages" or "blob"/);
    const ok = await node({ sql: 'SELECT seq FROM seq_1_to_3' });
    expect((await ok.input({}))[0]!.msg.payload).toEqual([{ seq: '1' }, { seq: '2' }, { seq: '3' }]);
    await Promise.all([n.stop(), ok.stop()]);
  });

  it('runs readOnly statements in a read-only transaction', async () => {
    const n = await node({ sql: 'DELETE FROM items', readOnly: true });
    expect((await fails(n.input({}))).message).toMatch(/Cannot execute statement in a READ ONLY transaction.*\(ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION; SQLSTATE 25006\)/);
    await n.stop();
  });

  it('runs a transaction all or nothing, saying which statement failed', async () => {
    await db.admin.query('DELETE FROM items');
    const n = await node({
      operation: 'transaction',
      statements: [
        { sql: "INSERT INTO items (id, name) VALUES (?, 'first')", params: ['payload.id'] },
        { sql: "INSERT INTO items (id, name) VALUES (?, 'dup')", params: ['payload.id'] },
      ],
    });
    const error = await fails(n.input({ payload: { id: 7 } }));
    expect(error.message).toBe(`MySQL ${server()}: transaction of 2 statements failed: statement 2 of 2 failed, the transaction was rolled back: Duplicate entry '7' for key 'PRIMARY' (ER_DUP_ENTRY; SQLSTATE 23000)`);
    expect(await count()).toBe(0);
    const ok = await node({ operation: 'transaction', statements: [{ sql: "INSERT INTO items (id, name) VALUES (1, 'a')" }, { sql: 'SELECT COUNT(*) AS n FROM items' }] });
    expect((await ok.input({}))[0]!.msg.payload).toEqual([{ affectedRows: 1, insertId: 0 }, { rowCount: 1, rows: [{ n: '1' }] }]);
    await Promise.all([n.stop(), ok.stop()]);
  });
});

describe('mysql node: batches', () => {
  const rows = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ id: from + i, name: `item ${from + i}`, qty: i, tags: { n: i } }));

  it('inserts in batches and upserts by key (ON DUPLICATE KEY UPDATE, only the chosen columns)', async () => {
    await db.admin.query('DELETE FROM items');
    const insert = await node({ operation: 'insert', table: 'items', batchSize: 100 });
    const [out] = await insert.input({ payload: rows(1, 250) });
    expect(out!.msg.payload).toEqual({ table: 'items', operation: 'insert', rowsWritten: 250, rowsSent: 250, batches: 3, affectedRows: 250 });
    const upsert = await node({ operation: 'upsert', table: `${db.database}.items`, updateColumns: ['qty'], batchSize: 100 });
    const changed = rows(200, 100).map((r) => ({ ...r, qty: 999, name: 'ignored on update' }));
    // 51 rows updated (200–250: counted twice by the server), 49 inserted.
    expect((await upsert.input({ payload: changed }))[0]!.msg.payload).toMatchObject({ rowsWritten: 100, batches: 1, affectedRows: 51 * 2 + 49 });
    const [check] = await db.admin.query<any[]>('SELECT COUNT(*) AS n, SUM(qty = 999) AS updated, MAX(id) AS top FROM items');
    expect(check[0]).toEqual({ n: 299, updated: '100', top: 299 });
    const [kept] = await db.admin.query<any[]>('SELECT name, qty FROM items WHERE id IN (200, 299) ORDER BY id');
    expect(kept).toEqual([{ name: 'item 200', qty: 999 }, { name: 'ignored on update', qty: 999 }]);
    const all = await node({ operation: 'upsert', table: 'items' });
    await all.input({ payload: [{ id: 1, name: 'renamed', qty: 5 }] });
    const [one] = await db.admin.query<any[]>('SELECT name, qty FROM items WHERE id = 1');
    expect(one[0]).toEqual({ name: 'renamed', qty: 5 });
    await Promise.all([insert.stop(), upsert.stop(), all.stop()]);
  });

  it('a constraint violation mid-batch, atomic: nothing written, and the error says so', async () => {
    await db.admin.query('DELETE FROM items');
    const batch = rows(1, 500);
    batch[321] = { ...batch[321]!, name: '' }; // breaks the CHECK in the 4th batch of 100
    const n = await node({ operation: 'insert', table: 'items', batchSize: 100 });
    const error = await fails(n.input({ payload: batch }));
    expect(error).toBeInstanceOf(NodeInputError);
    expect(error.message).toBe(
      `MySQL ${server()}: insert into items: batch 4 (rows 300–399) failed: CONSTRAINT \`items.name\` failed for \`${db.database}\`.\`items\`; nothing was written: the transaction of all 4 batch(es) so far was rolled back`,
    );
    expect(await count()).toBe(0);
    await n.stop();
  });

  it('a constraint violation mid-batch, not atomic: earlier batches stay, the error says which rows were and were not written', async () => {
    await db.admin.query('DELETE FROM items');
    const batch = rows(1, 500);
    batch[321] = { ...batch[321]!, id: 5 };
    const n = await node({ operation: 'insert', table: 'items', batchSize: 100, atomic: false });
    const error = await fails(n.input({ payload: batch }));
    expect(error.message).toContain("batch 4 (rows 300–399) failed: Duplicate entry '5' for key 'PRIMARY'");
    expect(error.message).toContain('rows 0–299 (3 batch(es)) were written and stay; rows from 300 on were not written');
    const [check] = await db.admin.query<any[]>('SELECT COUNT(*) AS n, MAX(id) AS top FROM items');
    expect(check[0]).toEqual({ n: 300, top: 300 });
    await n.stop();
  });

  it('names unknown columns, a missing table and non-object rows before writing anything', async () => {
    const n = await node({ operation: 'insert', table: 'items' });
    expect((await fails(n.input({ payload: [{ id: 1, nmae: 'typo' }] }))).message).toContain('table items has no column "nmae" (it has id, name, qty, tags)');
    expect((await fails(n.input({ payload: [{ id: 1, name: 'a' }, 'oops'] }))).message).toContain('row 1 is not an object');
    expect((await fails(n.input({ payload: 'not rows' }))).message).toContain('msg.payload must be an array of rows or a blob reference');
    const missing = await node({ operation: 'insert', table: 'nope' });
    expect((await fails(missing.input({ payload: [{ id: 1 }] }))).message).toContain('table nope does not exist');
    await Promise.all([n.stop(), missing.stop()]);
  });
});

describe('mysql node: large results', () => {
  it('reads 60,000 rows in pages with flat memory, and the pages feed a batch insert', async () => {
    await db.admin.query('CREATE TABLE big (id INT PRIMARY KEY, body TEXT) AS SELECT seq AS id, REPEAT(MD5(seq), 16) AS body FROM seq_1_to_60000');
    await db.admin.query('CREATE TABLE copy (id INT PRIMARY KEY, body TEXT)');
    const read = await node({ sql: 'SELECT id, body FROM big ORDER BY id', output: 'pages', pageSize: 2000 });
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
    expect(pages).toHaveLength(30);
    expect(pages.every((p) => isBlobRef(p.msg.payload) && p.msg.topic === 'big')).toBe(true);
    expect(pages.at(-1)!.msg.page).toEqual({ index: 29, rows: 2000, rowsSoFar: 60_000, last: true });
    expect(peak).toBeLessThan(15 * 1024 * 1024); // the rows are ~30 MB

    const blobs = await testBlobStore();
    let seen = 0;
    for await (const page of readRows<{ id: number }>(blobs, pages[10]!.msg.payload as never, 500)) {
      expect(page[0]!.id).toBe(20_001 + seen);
      seen += page.length;
    }
    expect(seen).toBe(2000);

    const write = await node({ operation: 'insert', table: 'copy', batchSize: 1000 });
    let written = 0;
    for (const page of pages) written += ((await write.input(page.msg as FlowMessage))[0]!.msg.payload as { rowsWritten: number }).rowsWritten;
    expect(written).toBe(60_000);
    expect(await count('copy')).toBe(60_000);
    await Promise.all([read.stop(), write.stop()]);
  }, 60_000);

  it('puts a whole result in one JSON Lines blob with output blob', async () => {
    const n = await node({ sql: 'SELECT seq AS n FROM seq_1_to_5000', output: 'blob' });
    const [out] = await n.input({ payload: 'replaced' });
    expect(out!.msg).toMatchObject({ rowCount: 5000, payload: { $blob: expect.any(String), contentType: 'application/x-ndjson' } });
    let total = 0;
    for await (const page of readRows(await testBlobStore(), out!.msg.payload as never)) total += page.length;
    expect(total).toBe(5000);
    await n.stop();
  });
});

describe('mysql node: the pool, keyed by credential', () => {
  it('shares one pool between nodes with one credential, closes it when the last is undeployed', async () => {
    const a = await node({ sql: 'SELECT SLEEP(0.05)' }, { credentialId: 'shared' });
    const b = await node({ sql: 'SELECT SLEEP(0.05)' }, { credentialId: 'shared' });
    await Promise.all([a.input({}), b.input({}), a.input({}), b.input({})]);
    expect(testResources().list().filter((r) => r.credential?.id === 'shared')).toEqual([{ key: 'db:mysql:pool', credential: { id: 'shared', revision: 1 }, holders: 2, state: 'open' }]);
    expect(await db.connections()).toBeGreaterThanOrEqual(1);
    await a.stop();
    expect(await db.connections()).toBeGreaterThanOrEqual(1);
    await b.stop();
    expect(await db.waitForConnections(0)).toBe(0);
    expect(testResources().list().filter((r) => r.credential?.id === 'shared')).toEqual([]);
  });

  it('a credential change reaches the running node without a redeploy: new pool, new fields, old connections closed', async () => {
    const n = await node({ sql: 'SELECT DATABASE() AS db' }, { credentialId: 'changing' });
    expect((await n.input({}))[0]!.msg.payload).toEqual([{ db: db.database }]);
    n.changeCredential({ ...fields, database: 'information_schema' });
    expect(n.credential!.revision).toBe(2);
    expect((await n.input({}))[0]!.msg.payload).toEqual([{ db: 'information_schema' }]);
    expect(await db.waitForConnections(1)).toBe(1);
    await n.stop();
    expect(await db.waitForConnections(0)).toBe(0);
  });

  it('cancels the statement on the server when the run is cancelled', async () => {
    const n = await node({ sql: 'SELECT SLEEP(30)' });
    const controller = new AbortController();
    const running = n.input({}, { signal: controller.signal });
    const sleeping = async () => {
      const [rows] = await db.admin.query<any[]>("SELECT COUNT(*) AS n FROM information_schema.processlist WHERE user = ? AND info LIKE 'SELECT SLEEP(30)%'", [fields.user]);
      return Number(rows[0].n);
    };
    for (let i = 0; i < 100 && (await sleeping()) === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await sleeping()).toBe(1);
    controller.abort(new Error('run cancelled'));
    expect((await fails(running)).message).toContain('run cancelled');
    expect(await db.waitForConnections(0)).toBe(0);
    expect(await sleeping()).toBe(0);
    await n.stop();
  });
});
