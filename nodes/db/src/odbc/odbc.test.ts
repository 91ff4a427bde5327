/**
 * The ODBC node over unixODBC with Debian's PostgreSQL and MariaDB ODBC drivers (`scripts/services odbc`), against
 * the real PostgreSQL and MariaDB servers: bound parameters, cursors, transactions, errors with SQLSTATE.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import { isBlobRef, NodeInputError, type RuntimeServices } from '@flowcrew/sdk';
import { closeTestServices, createTestNode, setTestServiceDefaults, testResources } from '@flowcrew/sdk/testing';
import { openTestDatabase, testFields, type TestDatabase } from '../postgres/testing.ts';
import { openTestMysql, type TestMysql } from '../mysql/testing.ts';
import { closePool, connectionString, countFailedAttempts, loadOdbc, type OdbcFields } from './connect.ts';
import { odbcCredential } from './credential.ts';
import { odbcNode, type OdbcProps } from './node.ts';

const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
setTestServiceDefaults({ outbound });
const services = { outbound } as unknown as RuntimeServices;

let pgdb: TestDatabase;
let mydb: TestMysql;
let pgFields: OdbcFields;
let myFields: OdbcFields;
beforeAll(async () => {
  [pgdb, mydb] = await Promise.all([openTestDatabase(), openTestMysql()]);
  const pgConn = testFields();
  pgFields = { driver: 'PostgreSQL Unicode', host: pgConn.host, port: pgConn.port!, database: pgConn.database, user: pgConn.user, password: pgConn.password, attributes: { ApplicationName: pgConn.applicationName! } };
  const my = mydb.fields();
  // NO_CACHE: MariaDB's driver streams rows instead of reading the whole result first.
  myFields = { driver: 'MariaDB Unicode', host: my.host, port: my.port!, database: my.database, user: my.user, password: my.password, attributes: { NO_CACHE: '1' } };
  await pgdb.admin.query('CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL)');
  await mydb.admin.query('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL)');
});
afterAll(async () => {
  await closeTestServices();
  await Promise.all([pgdb?.close(), mydb?.close()]);
  await outbound.close();
});

let seq = 0;
async function fails(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

for (const target of ['PostgreSQL', 'MariaDB'] as const) {
  const fields = () => (target === 'PostgreSQL' ? pgFields : myFields);
  const table = () => (target === 'PostgreSQL' ? `${pgdb.schema}.items` : 'items');
  const node = (props: Partial<OdbcProps>, id = `o-${++seq}`) => createTestNode(odbcNode, props, { credentials: fields(), credential: { id } });
  /** A pool of odbc's own on the test credential (not through a node). */
  const openPool = async () => (await loadOdbc()).pool({ connectionString: await connectionString(fields(), services), initialSize: 1, incrementSize: 1, maxSize: 3 });
  /** The test account's connections still open on the server, once they reach 0 or after 15 s. */
  const connectionsLeft = () => (target === 'PostgreSQL' ? pgdb.waitForConnections(pgFields.attributes!.ApplicationName!, 0) : mydb.waitForConnections(0));

  describe(`odbc node on ${target}`, () => {
    it('tests the credential: ok, and a wrong password with what the driver said', async () => {
      expect((await odbcCredential.test!(fields(), services, new AbortController().signal)).message).toMatch(new RegExp(`^connected to .* at \\S+@127\\.0\\.0\\.1:\\d+/\\S+ \\(${fields().driver}\\)$`));
      const wrong = await odbcCredential.test!({ ...fields(), password: 'wrong-password-123' }, services, new AbortController().signal);
      expect(wrong.ok).toBe(false);
      expect(wrong.message).toMatch(target === 'PostgreSQL' ? /connection test failed: .*password authentication failed.*\(SQLSTATE 08001\)/ : /connection test failed: .*Access denied for user.*\(SQLSTATE 28000\)/);
      expect(wrong.message).not.toContain('wrong-password-123');
    });

    it('binds message values to ? (never SQL), writes in a transaction, reads through a cursor', async () => {
      const tx = await node({ operation: 'transaction', statements: [{ sql: `INSERT INTO ${table()} (id, name) VALUES (?, ?)`, params: ['payload.id', 'payload.name'] }, { sql: `SELECT name FROM ${table()} WHERE id = ?`, params: ['payload.id'] }] });
      const evil = "x'); DROP TABLE items; --";
      expect((await tx.input({ payload: { id: 1, name: evil } }))[0]!.msg.payload).toEqual([{ rowCount: 1 }, { rowCount: 1, rows: [{ name: evil }] }]);
      const dup = await fails(tx.input({ payload: { id: 1, name: 'again' } }));
      expect(dup.message).toMatch(/transaction of 2 statements failed: statement 1 of 2 failed, the transaction was rolled back: .*(duplicate key|Duplicate entry).*\(SQLSTATE 23(505|000)\)/);
      const read = await node({ sql: `SELECT id, name FROM ${table()} WHERE id >= ? ORDER BY id`, params: [{ value: 0 }] });
      expect((await read.input({}))[0]!.msg.payload).toEqual([{ id: 1, name: evil }]);
      await Promise.all([tx.stop(), read.stop()]);
    });

    it('inserts and upserts rows in batches in the driver\'s dialect; a failed batch says what was written', async () => {
      const base = 1000;
      const rows = Array.from({ length: 12 }, (_, i) => ({ id: base + i, name: `row ${i}` }));
      const insert = await node({ operation: 'insert', table: table(), batchSize: 5, rowsFrom: 'payload' });
      expect((await insert.input({ payload: rows }))[0]!.msg.payload).toEqual({ rowsWritten: 12, batches: 3 });
      const upsert = await node({ operation: 'upsert', table: table(), keyColumns: ['id'], batchSize: 5, rowsFrom: 'payload' });
      expect((await upsert.input({ payload: [{ id: base, name: 'renamed' }, { id: base + 20, name: 'new' }] }))[0]!.msg.payload).toEqual({ rowsWritten: 2, batches: 1 });
      const read = await node({ sql: `SELECT id, name FROM ${table()} WHERE id IN (?, ?) ORDER BY id`, params: [{ value: base }, { value: base + 20 }] });
      expect((await read.input({}))[0]!.msg.payload).toEqual([{ id: base, name: 'renamed' }, { id: base + 20, name: 'new' }]);
      // Not atomic: the first batch is committed, the second fails on a missing name (NOT NULL), the rest is not written.
      const partial = await node({ operation: 'insert', table: table(), batchSize: 2, atomic: false, rowsFrom: 'payload' });
      const failed = await fails(partial.input({ payload: [{ id: base + 30, name: 'a' }, { id: base + 31, name: 'b' }, { id: base + 32, name: null }, { id: base + 33, name: 'd' }] }));
      expect(failed).toBeInstanceOf(NodeInputError);
      expect(failed.message).toMatch(/insert into \S+: batch 2 \(rows 3-4\) failed: .*\(SQLSTATE 23\d{3}\); rows 1-2 were written, rows 3 on were not/);
      const count = await node({ sql: `SELECT COUNT(*) AS n FROM ${table()} WHERE id >= ?`, params: [{ value: base + 30 }] });
      expect((await count.input({}))[0]!.msg.payload).toEqual([{ n: 2 }]);
      await Promise.all([insert.stop(), upsert.stop(), read.stop(), partial.stop(), count.stop()]);
    });

    it('fails a syntax error with the SQLSTATE, bounds rows, and pages a large result', async () => {
      const bad = await node({ sql: 'SELEC 1' });
      expect((await fails(bad.input({}))).message).toMatch(new RegExp(`^ODBC \\S+@127\\.0\\.0\\.1:\\d+/\\S+ \\(${fields().driver}\\): query failed: .*(syntax error|SQL syntax).*\\(SQLSTATE 42(601|000)\\)`));
      const series = target === 'PostgreSQL' ? 'SELECT g AS n FROM generate_series(1, 5000) g' : 'SELECT seq AS n FROM seq_1_to_5000';
      const tooMany = await node({ sql: series, maxRows: 10 });
      const error = await fails(tooMany.input({}));
      expect(error).toBeInstanceOf(NodeInputError);
      expect(error.message).toContain('returned more than 10 rows (maxRows)');
      const pages = await node({ sql: series, output: 'pages', pageSize: 1000 });
      if (target === 'MariaDB') {
        expect((await fails(pages.input({}))).message).toContain('output "pages" is not available with the MariaDB/MySQL ODBC driver');
        const bounded = await node({ sql: series, maxRows: 5000 });
        expect(((await bounded.input({}))[0]!.msg.payload as unknown[]).length).toBe(5000);
        await Promise.all([bad.stop(), tooMany.stop(), pages.stop(), bounded.stop()]);
        return;
      }
      const sent = await pages.input({});
      expect(sent).toHaveLength(5);
      expect(sent.every((s) => isBlobRef(s.msg.payload))).toBe(true);
      expect(sent.at(-1)!.msg.page).toEqual({ index: 4, rows: 1000, rowsSoFar: 5000, last: true });
      await Promise.all([bad.stop(), tooMany.stop(), pages.stop()]);
    });

    it('shares one pool per credential and closes it on undeploy', async () => {
      const a = await node({ sql: 'SELECT 1 AS one' }, `shared-${target}`);
      const b = await node({ sql: 'SELECT 1 AS one' }, `shared-${target}`);
      await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).input({})));
      expect(testResources().list().filter((r) => r.credential?.id === `shared-${target}`)).toHaveLength(1);
      await a.stop();
      await b.stop();
      expect(testResources().list().filter((r) => r.credential?.id === `shared-${target}`)).toEqual([]);
      expect(await connectionsLeft()).toBe(0);
    });

    it('closes a connection still being opened when its pool closes (odbc 2.x alone leaves it open on the server)', async () => {
      const pool = await openPool();
      // What a burst of work does when it ends before the pool's next connection is open: one is on its way.
      (pool as unknown as { increasePoolSize(count: number): void }).increasePoolSize(1);
      await closePool(pool, 10);
      expect(await connectionsLeft()).toBe(0);
    });

    it('takes a refused connection off the pool\'s count of connections being opened (odbc 2.x keeps counting it)', async () => {
      const pool = await openPool();
      countFailedAttempts(pool);
      const internals = pool as unknown as { connectionConfig: { connectionString: string }; connectionsBeingCreatedCount: number; increasePoolSize(count: number): void };
      // The database refuses the pool's next connection (as when it restarts with other credentials or is down).
      internals.connectionConfig.connectionString = await connectionString({ ...fields(), password: 'wrong-password-123' }, services);
      internals.increasePoolSize(1);
      const until = Date.now() + 15_000;
      while (internals.connectionsBeingCreatedCount > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(internals.connectionsBeingCreatedCount).toBe(0);
      await closePool(pool, 10);
    });
  });
}
