/**
 * MySQL/MariaDB connector figures (printed, never asserted), each beside raw mysql2 doing the same work in the same
 * run, as a ratio (node ÷ raw):
 * 1. batch upsert: ROWS rows in messages of BATCH rows (half of the keys exist already): raw = a mysql2 pool
 *    executing the same multi-row INSERT ... ON DUPLICATE KEY UPDATE prepared statement per batch; node = the MySQL
 *    node under the SDK harness (shared pool, outbound guard, column check, one transaction per message);
 * 2. paged read: ROWS rows of ~0.5 KB: raw = execute().stream() counting rows; node = output `pages` (each page
 *    stored as a JSON Lines blob), with the peak RSS of each.
 *
 * Needs the MariaDB of `scripts/services mariadb` (or FLOWCREW_TEST_MYSQL_URL).
 * Usage: node --import tsx bench/connectors-db-mariadb.ts [--rows 100000] [--batch 1000]
 */
import mysql from 'mysql2/promise';
import type { Connection as CoreConnection } from 'mysql2';
import { createOutboundGuard } from '../runtime/src/outbound/index.ts';
import { closeTestServices, createTestNode, setTestServiceDefaults } from '../nodes/sdk/src/testing.ts';
import { mysqlNode } from '../nodes/db/src/mysql/node.ts';
import { openTestMysql } from '../nodes/db/src/mysql/testing.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : fallback;
};
const ROWS = option('rows', 100_000);
const BATCH = option('batch', 1000);
const batches = Math.ceil(ROWS / BATCH);

const db = await openTestMysql();
const fields = db.fields({ maxConnections: 4 });
const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
setTestServiceDefaults({ outbound });
const rowsOf = (batch: number) => Array.from({ length: BATCH }, (_, i) => ({ id: batch * BATCH + i, name: `item ${batch * BATCH + i}`, qty: i, price: i / 7 }));

async function freshTable(name: string): Promise<string> {
  await db.admin.query(`CREATE TABLE ${name} (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, qty INT, price DOUBLE) ENGINE=InnoDB`);
  await db.admin.query(`INSERT INTO ${name} SELECT seq, 'old', 0, 0 FROM seq_0_to_${ROWS - 1}_step_2`);
  return name;
}

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
async function timed(run: () => Promise<void>): Promise<{ seconds: number; rssMb: number }> {
  const base = process.memoryUsage().rss;
  peakRss = base;
  const start = process.hrtime.bigint();
  await run();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, rssMb: (peakRss - base) / 1024 / 1024 };
}
const rate = (s: number) => Math.round(ROWS / s).toLocaleString('en');

// 1. batch upsert
const rawTable = await freshTable('raw_upsert');
const pool = mysql.createPool({ host: fields.host, port: fields.port, user: fields.user, password: fields.password, database: fields.database, connectionLimit: 4 });
const tuple = '(?, ?, ?, ?)';
const rawSql = (n: number) => `INSERT INTO ${rawTable} (id, name, qty, price) VALUES ${Array.from({ length: n }, () => tuple).join(', ')} ON DUPLICATE KEY UPDATE name = VALUES(name), qty = VALUES(qty), price = VALUES(price)`;
const raw = await timed(async () => {
  for (let b = 0; b < batches; b++) {
    const rows = rowsOf(b);
    await pool.execute(rawSql(rows.length), rows.flatMap((r) => [r.id, r.name, r.qty, r.price]));
  }
});
const nodeTable = await freshTable('node_upsert');
const upsert = await createTestNode(mysqlNode, { operation: 'upsert', table: nodeTable, batchSize: BATCH }, { credentials: fields, credential: { id: 'bench' } });
const viaNode = await timed(async () => {
  for (let b = 0; b < batches; b++) await upsert.input({ payload: rowsOf(b) });
});
await upsert.stop();
console.log(`MariaDB batch upsert, ${ROWS.toLocaleString('en')} rows in batches of ${BATCH} (half updates):`);
console.log(`  raw mysql2   ${rate(raw.seconds)} rows/s`);
console.log(`  node         ${rate(viaNode.seconds)} rows/s  (${(raw.seconds / viaNode.seconds).toFixed(2)}× raw)`);

// 2. paged read
await db.admin.query(`CREATE TABLE big (id INT PRIMARY KEY, body TEXT) SELECT seq AS id, REPEAT(MD5(seq), 16) AS body FROM seq_1_to_${ROWS}`);
const rawRead = await timed(async () => {
  const conn = await pool.getConnection();
  let n = 0;
  for await (const _row of (conn as unknown as { connection: CoreConnection }).connection.execute('SELECT id, body FROM big ORDER BY id').stream()) n++;
  conn.release();
  if (n !== ROWS) throw new Error(`raw read ${n} rows`);
});
const read = await createTestNode(mysqlNode, { sql: 'SELECT id, body FROM big ORDER BY id', output: 'pages', pageSize: 1000 }, { credentials: fields, credential: { id: 'bench' } });
let pages = 0;
const nodeRead = await timed(async () => {
  pages = (await read.input({})).length;
});
await read.stop();
console.log(`MariaDB paged read, ${ROWS.toLocaleString('en')} rows of ~0.5 KB:`);
console.log(`  raw mysql2 stream   ${rate(rawRead.seconds)} rows/s, peak RSS +${rawRead.rssMb.toFixed(0)} MB`);
console.log(`  node (pages, blobs) ${rate(nodeRead.seconds)} rows/s, peak RSS +${nodeRead.rssMb.toFixed(0)} MB, ${pages} pages  (${(rawRead.seconds / nodeRead.seconds).toFixed(2)}× raw)`);

clearInterval(sampler);
await pool.end();
await closeTestServices();
await outbound.close();
await db.close();
