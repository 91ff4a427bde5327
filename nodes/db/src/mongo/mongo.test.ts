/**
 * The MongoDB node against a real MongoDB-wire server: FerretDB 1.x on PostgreSQL (`scripts/services ferretdb`;
 * the MongoDB server itself is not packaged here). Reads, paged cursors, batch writes, parameter binding, errors,
 * the credential test, and the client's connections closed on undeploy (counted on the server's port).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import { isBlobRef, NodeInputError, readRows, type RuntimeServices } from '@flowcrew/sdk';
import { closeTestServices, createTestNode, setTestServiceDefaults, testBlobStore } from '@flowcrew/sdk/testing';
import type { MongoFields } from './connect.ts';
import { mongoCredential } from './credential.ts';
import { mongoNode, type MongoProps } from './node.ts';

const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
setTestServiceDefaults({ outbound });

const port = Number(process.env.FLOWCREW_TEST_MONGO_PORT ?? 27017);
const database = `fc_${randomBytes(4).toString('hex')}`;
// FerretDB 1.x authenticates MongoDB clients as PostgreSQL roles, with PLAIN.
const fields: MongoFields = { host: '127.0.0.1', port, database, username: 'flowcrew', password: 'flowcrew', authMechanism: 'PLAIN', authSource: '$external' };
let admin: MongoClient;

beforeAll(async () => {
  admin = new MongoClient(`mongodb://127.0.0.1:${port}/`, { directConnection: true, auth: { username: 'flowcrew', password: 'flowcrew' }, authMechanism: 'PLAIN', authSource: '$external', serverSelectionTimeoutMS: 5000, maxPoolSize: 1 });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`MongoDB-wire test server not reachable on 127.0.0.1:${port} (${(error as Error).message}): run scripts/services postgres ferretdb`);
  }
});
afterAll(async () => {
  await closeTestServices();
  await admin.db(database).dropDatabase().catch(() => undefined);
  await admin.close();
  await outbound.close();
});

/** Established connections the server holds on its port (from the kernel's table: the server side of each). */
async function serverConnections(): Promise<number> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const table = await readFile('/proc/net/tcp', 'utf8');
  return table.split('\n').filter((line) => {
    const cols = line.trim().split(/\s+/);
    return cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '01';
  }).length;
}
async function waitServerConnections(expected: number): Promise<number> {
  const until = Date.now() + 5000;
  let n = await serverConnections();
  while (n !== expected && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    n = await serverConnections();
  }
  return n;
}

let seq = 0;
const node = (props: Partial<MongoProps>, credentialId = `m-${++seq}`) => createTestNode(mongoNode, props, { credentials: fields, credential: { id: credentialId } });
async function fails(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}
const coll = (name: string) => admin.db(database).collection(name);

describe('mongodb credential type', () => {
  const services = { outbound } as unknown as RuntimeServices;
  it('reports the server and FerretDB versions', async () => {
    expect(await mongoCredential.test!(fields, services, new AbortController().signal)).toEqual({ ok: true, message: expect.stringMatching(new RegExp(`^connected to MongoDB 7\\.0\\.\\d+ \\(FerretDB v1\\.24\\.\\d+\\) at 127\\.0\\.0\\.1:${port}/${database} as flowcrew$`)) });
  });
  it('says what is wrong for a wrong password, without the password', async () => {
    const result = await mongoCredential.test!({ ...fields, password: 'wrong-password-123' }, services, new AbortController().signal);
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(new RegExp(`^MongoDB flowcrew@127\\.0\\.0\\.1:${port}/${database}: connection test failed: .*password authentication failed for user "flowcrew"`));
    expect(result.message).not.toContain('wrong-password-123');
  });
  it('fails fast for a port where nothing listens, and for a destination the guard refuses', async () => {
    const refused = await mongoCredential.test!({ ...fields, port: 9 }, services, new AbortController().signal);
    expect(refused.message).toMatch(/127\.0\.0\.1:9\/\w+: connection test failed: .*ECONNREFUSED/);
    const strict = createOutboundGuard();
    try {
      expect((await mongoCredential.test!(fields, { outbound: strict } as unknown as RuntimeServices, new AbortController().signal)).message).toMatch(/127\.0\.0\.1.*FLOWCREW_OUTBOUND_ALLOW/);
    } finally {
      await strict.close();
    }
  });
});

describe('mongodb node', () => {
  it('inserts in batches, finds with bound parameters, counts, updates, upserts by key, deletes', async () => {
    const insert = await node({ operation: 'insert', collection: 'items', batchSize: 40 });
    const docs = Array.from({ length: 100 }, (_, i) => ({ sku: `s${i}`, qty: i, tags: ['a', i % 2 ? 'odd' : 'even'] }));
    expect((await insert.input({ payload: docs }))[0]!.msg.payload).toEqual({ collection: 'items', operation: 'insert', written: 100, batches: 3, inserted: 100, matched: 0, modified: 0 });
    const find = await node({ operation: 'find', collection: 'items', filter: { qty: { $gte: { $param: 'payload.min' } } }, projection: { _id: 0, sku: 1 }, sort: { qty: 1 }, limit: 3 });
    expect((await find.input({ payload: { min: 95 } }))[0]!.msg.payload).toEqual([{ sku: 's95' }, { sku: 's96' }, { sku: 's97' }]);
    const count = await node({ operation: 'count', collection: 'items', filter: { tags: 'odd' } });
    expect((await count.input({}))[0]!.msg.payload).toBe(50);
    const update = await node({ operation: 'update', collection: 'items', filter: { sku: { $param: 'payload.sku' } }, update: { $set: { qty: { $param: 'payload.qty' } } } });
    expect((await update.input({ payload: { sku: 's1', qty: 1000 } }))[0]!.msg.payload).toEqual({ matched: 1, modified: 1, upsertedId: null });
    const upsert = await node({ operation: 'upsert', collection: 'items', keyFields: ['sku'] });
    expect((await upsert.input({ payload: [{ sku: 's2', qty: -2 }, { sku: 'new', qty: 7 }] }))[0]!.msg.payload).toMatchObject({ written: 2, inserted: 1, matched: 1, modified: 1 });
    expect(await coll('items').countDocuments()).toBe(101);
    expect(await coll('items').findOne({ sku: 's2' }, { projection: { _id: 0 } })).toEqual({ sku: 's2', qty: -2, tags: ['a', 'even'] });
    const del = await node({ operation: 'delete', collection: 'items', filter: { qty: { $lt: 0 } }, many: true });
    expect((await del.input({}))[0]!.msg.payload).toEqual({ deleted: 1 });
    const aggregate = await node({ operation: 'aggregate', collection: 'items', pipeline: [{ $match: { tags: { $param: 'payload' } } }, { $group: { _id: null, total: { $sum: '$qty' } } }] });
    expect((await aggregate.input({ payload: 'even' }))[0]!.msg.payload).toEqual([{ _id: null, total: 2450 - 2 + 0 }]);
    await Promise.all([insert, find, count, update, upsert, del, aggregate].map((n) => n.stop()));
  });

  it('never lets message data act as an operator', async () => {
    const find = await node({ operation: 'find', collection: 'items', filter: { sku: { $param: 'payload.sku' } } });
    const error = await fails(find.input({ payload: { sku: { $ne: null } } }));
    expect(error).toBeInstanceOf(NodeInputError);
    expect(error.message).toBe(`MongoDB flowcrew@127.0.0.1:${port}/${database}: find on items: msg.payload.sku holds the key "$ne": a value from the message may not contain MongoDB operators`);
    const insert = await node({ operation: 'insert', collection: 'items' });
    expect((await fails(insert.input({ payload: [{ $where: 'x' }] }))).message).toContain('document 0 has the key "$where"');
    await Promise.all([find.stop(), insert.stop()]);
  });

  it('a duplicate key mid-batch: the error says which documents were written and which not', async () => {
    await coll('unique').createIndex({ code: 1 }, { unique: true });
    const insert = await node({ operation: 'insert', collection: 'unique', batchSize: 10 });
    const docs = Array.from({ length: 30 }, (_, i) => ({ code: i }));
    docs[14] = { code: 3 };
    const error = await fails(insert.input({ payload: docs }));
    expect(error.message).toMatch(/^MongoDB \S+: insert on unique failed: document 14 \(batch 2\) failed: .*duplicate key.*; documents 0–13 were written and stay, documents from 14 on were not written/);
    expect(await coll('unique').countDocuments()).toBe(14);
    await insert.stop();
  });

  it('fails clearly on a bad query (what the server said)', async () => {
    const find = await node({ operation: 'find', collection: 'items', filter: { qty: { $nope: 1 } } });
    expect((await fails(find.input({}))).message).toMatch(/^MongoDB \S+: find on items failed: .*\$nope.*\(BadValue; code 2\)$/);
    await find.stop();
  });

  it('reads a large collection in cursor pages of JSON Lines blobs', async () => {
    await coll('big').insertMany(Array.from({ length: 10_000 }, (_, i) => ({ n: i, body: 'x'.repeat(200) })));
    const find = await node({ operation: 'find', collection: 'big', sort: { n: 1 }, projection: { _id: 0 }, output: 'pages', pageSize: 1250 });
    const pages = await find.input({ topic: 'big' });
    expect(pages).toHaveLength(8);
    expect(pages.every((p) => isBlobRef(p.msg.payload))).toBe(true);
    expect(pages.at(-1)!.msg.page).toEqual({ index: 7, rows: 1250, rowsSoFar: 10_000, last: true });
    let seen = 0;
    for await (const page of readRows<{ n: number }>(await testBlobStore(), pages[3]!.msg.payload as never, 1000)) {
      expect(page[0]!.n).toBe(3750 + seen);
      seen += page.length;
    }
    expect(seen).toBe(1250);
    const tooMany = await node({ operation: 'find', collection: 'big', maxRows: 100 });
    expect((await fails(tooMany.input({}))).message).toContain('more than 100 documents (maxRows)');
    await Promise.all([find.stop(), tooMany.stop()]);
  }, 30_000);

  it('shares one client per credential, and its connections close when the last node is undeployed', async () => {
    const before = await serverConnections();
    const a = await node({ operation: 'count', collection: 'items' }, 'shared');
    const b = await node({ operation: 'count', collection: 'items' }, 'shared');
    await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).input({})));
    const open = await serverConnections();
    expect(open).toBeGreaterThan(before);
    expect(open - before).toBeLessThanOrEqual(12); // the pool (10) and the driver's monitors
    await a.stop();
    await b.stop();
    expect(await waitServerConnections(before)).toBe(before);
  });
});
