/**
 * PostgreSQL connector figures (printed, never asserted), each beside raw `pg` doing the same work in the same run:
 * 1. batch upsert: ROWS rows in messages of BATCH rows (half of the keys exist already), through
 *    - raw pg: a pg.Pool, one statement per batch (the same json_populate_recordset upsert the node sends);
 *    - the node: the PostgreSQL node under the SDK harness (the shared pool, the outbound guard, its catalog check);
 *    - a flow: inject → PostgreSQL in a real runtime (SQLite storage in a temp dir): every batch is a durable run;
 * 2. paged read: ROWS rows of ~0.5 KB read a page at a time (raw pg-cursor vs the node's `pages` output, which
 *    stores each page as a blob), with the peak RSS of each, and then (a second, slower pass that collects garbage
 *    every 100 ms) the peak of live memory (heap + buffers after a GC): what is actually held.
 *
 * Needs the PostgreSQL server of `scripts/services` (or FLOWCREW_TEST_DATABASE_URL).
 * Usage: node --import tsx bench/connectors-postgres.ts [--rows 100000] [--batch 1000] [--only upsert|read]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { createOutboundGuard } from '../runtime/src/outbound/index.ts';
import { loadConfig } from '../runtime/src/config.ts';
import { Runtime } from '../runtime/src/runtime.ts';
import { closeTestServices, createTestNode, setTestServiceDefaults } from '../nodes/sdk/src/testing.ts';
import { postgresNode } from '../nodes/db/src/postgres/node.ts';
import { testFields, TEST_DATABASE_URL } from '../nodes/db/src/postgres/testing.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : fallback;
};
const ROWS = option('rows', 100_000);
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const BATCH = option('batch', 1000);
const schema = `bench_${process.pid}`;

const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
await admin.connect();
await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);

const rowsOf = (batch: number) => Array.from({ length: BATCH }, (_, i) => ({ id: batch * BATCH + i, name: `item ${batch * BATCH + i}`, qty: i, price: i / 7 }));
const batches = Math.ceil(ROWS / BATCH);

/** A fresh table with every other key already there, so the upserts update half and insert half. */
async function freshTable(name: string): Promise<string> {
  const table = `${schema}.${name}`;
  await admin.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, name text NOT NULL, qty integer, price double precision)`);
  await admin.query(`INSERT INTO ${table} SELECT g, 'old', 0, 0 FROM generate_series(0, ${ROWS - 1}, 2) g`);
  return table;
}

function upsertSql(table: string): string {
  return `INSERT INTO ${table} ("id", "name", "qty", "price") SELECT "id", "name", "qty", "price" FROM json_populate_recordset(NULL::${table}, $1::json) ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name", "qty" = EXCLUDED."qty", "price" = EXCLUDED."price"`;
}

async function timed(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return (performance.now() - started) / 1000;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const fields = testFields({ applicationName: 'flowcrew-bench' });
const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
setTestServiceDefaults({ outbound });

// ---- 1. batch upsert ----
if (only !== 'read') await upsertBenchmark();
async function upsertBenchmark(): Promise<void> {
// Warm up both paths (connections, the server's caches, JIT) on a scratch table first: the first one timed is not penalised.
const warm = await freshTable('warm');
const warmPool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 });
for (let b = 0; b < 5; b++) await warmPool.query(upsertSql(warm), [JSON.stringify(rowsOf(b))]);
await warmPool.end();
const warmNode = await createTestNode(postgresNode, { operation: 'upsert', table: warm, conflictColumns: ['id'], batchSize: BATCH, atomic: false }, { credentials: fields });
for (let b = 0; b < 5; b++) await warmNode.input({ payload: rowsOf(b) });
await warmNode.stop();
console.log(`batch upsert: ${fmt(ROWS)} rows in batches of ${BATCH} (half updates), one batch at a time`);
const rawTable = await freshTable('raw_upsert');
const rawPool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 });
const rawSeconds = await timed(async () => {
  const sql = upsertSql(rawTable);
  for (let b = 0; b < batches; b++) await rawPool.query(sql, [JSON.stringify(rowsOf(b))]);
});
await rawPool.end();

const nodeTable = await freshTable('node_upsert');
const node = await createTestNode(postgresNode, { operation: 'upsert', table: nodeTable, conflictColumns: ['id'], batchSize: BATCH, atomic: false }, { credentials: fields });
const nodeSeconds = await timed(async () => {
  for (let b = 0; b < batches; b++) await node.input({ payload: rowsOf(b) });
});
await node.stop();

const flowTable = await freshTable('flow_upsert');
const dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-bench-'));
const runtime = await Runtime.create(loadConfig({ ...process.env, DATABASE_URL: '' }, { dataDir, flowsDir: null, logLevel: 'error', outboundAllow: ['127.0.0.1'] }), { loadExamples: false });
const credential = await runtime.vault.save({ name: 'bench', type: 'postgres', fields });
await runtime.createFlow({
  id: 'bench-upsert',
  name: 'bench',
  nodes: [
    { id: 'in', type: 'inject', wires: [['db']] },
    { id: 'db', type: 'postgres', credentials: credential.id, props: { operation: 'upsert', table: flowTable, conflictColumns: ['id'], batchSize: BATCH, atomic: false } },
  ],
});
await runtime.deployFlow('bench-upsert');
let failedRuns = 0;
const flowSeconds = await timed(async () => {
  for (let b = 0; b < batches; b++) {
    const { runId } = await runtime.startRun('bench-upsert', { input: { payload: rowsOf(b) } });
    if ((await runtime.waitForRun(runId)).status !== 'succeeded') failedRuns++;
  }
});
await runtime.close();
await rm(dataDir, { recursive: true, force: true });

for (const table of [rawTable, nodeTable, flowTable]) {
  const { rows } = await admin.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE name = 'old')::int AS old FROM ${table}`);
  if (rows[0].n !== ROWS || rows[0].old !== 0) console.log(`  !! ${table}: ${rows[0].n} rows, ${rows[0].old} not upserted`);
}
const rawRate = ROWS / rawSeconds;
console.log(`  raw pg                         ${fmt(rawRate).padStart(10)} rows/s`);
console.log(`  PostgreSQL node (harness)      ${fmt(ROWS / nodeSeconds).padStart(10)} rows/s   ratio to raw ${(ROWS / nodeSeconds / rawRate).toFixed(2)}`);
console.log(`  flow in a runtime (durable)    ${fmt(ROWS / flowSeconds).padStart(10)} rows/s   ratio to raw ${(ROWS / flowSeconds / rawRate).toFixed(2)}${failedRuns ? `   (${failedRuns} failed runs!)` : ''}`);
}

// ---- 2. paged read ----
if (only !== 'upsert') await readBenchmark();
async function readBenchmark(): Promise<void> {
const PAGE = 2000;
await admin.query(`CREATE TABLE ${schema}.big AS SELECT g AS id, repeat(md5(g::text), 16) AS body FROM generate_series(1, ${ROWS}) g`);
console.log(`paged read: ${fmt(ROWS)} rows of ~0.5 KB (${fmt((ROWS * 530) / 1e6)} MB), pages of ${PAGE}`);

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 10);
const rssBefore = () => {
  peakRss = process.memoryUsage().rss;
  return peakRss;
};

let base = rssBefore();
const rawReadSeconds = await timed(async () => {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  const cursor = client.query(new Cursor(`SELECT id, body FROM ${schema}.big ORDER BY id`));
  let seen = 0;
  for (;;) {
    const rows = await cursor.read(PAGE);
    if (rows.length === 0) break;
    seen += rows.length;
  }
  await cursor.close();
  await client.end();
  if (seen !== ROWS) console.log(`  !! raw read saw ${seen} rows`);
});
const rawPeak = peakRss - base;

base = rssBefore();
const reader = await createTestNode(postgresNode, { sql: `SELECT id, body FROM ${schema}.big ORDER BY id`, output: 'pages', pageSize: PAGE }, { credentials: fields });
let pages = 0;
const nodeReadSeconds = await timed(async () => {
  pages = (await reader.input({})).length;
});
const nodePeak = peakRss - base;
clearInterval(sampler);
await reader.stop();
console.log(`  raw pg-cursor                  ${fmt(ROWS / rawReadSeconds).padStart(10)} rows/s   peak RSS +${fmt(rawPeak / 1e6)} MB`);
console.log(`  PostgreSQL node, pages (blobs) ${fmt(ROWS / nodeReadSeconds).padStart(10)} rows/s   peak RSS +${fmt(nodePeak / 1e6)} MB   ratio to raw ${(rawReadSeconds / nodeReadSeconds).toFixed(2)}   (${pages} page messages)`);

// The same read again, garbage collected every 100 ms: the peak of what is live (RSS above includes garbage V8 had
// not collected yet, and V8 keeps heap it grew into).
const live = () => {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const liveBase = live();
let livePeak = 0;
const liveSampler = setInterval(() => (livePeak = Math.max(livePeak, live() - liveBase)), 100);
const again = await createTestNode(postgresNode, { sql: `SELECT id, body FROM ${schema}.big ORDER BY id`, output: 'pages', pageSize: PAGE }, { credentials: fields });
await again.input({});
clearInterval(liveSampler);
await again.stop();
console.log(`  PostgreSQL node, pages (blobs) peak live memory (heap + buffers after GC) +${fmt(livePeak / 1e6)} MB`);
}

await closeTestServices();
await outbound.close();
await admin.query(`DROP SCHEMA ${schema} CASCADE`);
await admin.end();
