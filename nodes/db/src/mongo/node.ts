/** The MongoDB node: find (paged cursor), aggregate, count, insert/upsert in batches, update, delete. */
import type { AnyBulkWriteOperation, Collection, Document, FindCursor, AggregationCursor } from 'mongodb';
import { defineNode, getProperty, inPages, NodeInputError, sendRowPages, toJsonLines, JSON_LINES, type FlowMessage, type InputContext, type JsonSchema, type NodeCredential } from '@flowcrew/sdk';
import { withDefaults } from '../shared/props.ts';
import { rowSource } from '../shared/rows.ts';
import { clientHandle, describeServer, MongoNodeError, type MongoFields } from './connect.ts';
import { mongoCredential } from './credential.ts';
import { bind, checkDocument } from './params.ts';

const OPERATIONS = ['find', 'findOne', 'count', 'aggregate', 'insert', 'upsert', 'update', 'delete'] as const;

export interface MongoProps {
  operation: (typeof OPERATIONS)[number];
  collection: string;
  filter: Record<string, unknown>;
  projection?: Record<string, unknown>;
  sort?: Record<string, unknown>;
  limit: number;
  pipeline?: unknown[];
  update?: Record<string, unknown>;
  many: boolean;
  upsert: boolean;
  keyFields?: string[];
  output: 'rows' | 'pages' | 'blob';
  maxRows: number;
  pageSize: number;
  rowsFrom: string;
  batchSize: number;
}

const ejson = { type: 'object', format: 'json' } as const;

const props = {
  type: 'object',
  required: ['collection'],
  additionalProperties: false,
  properties: {
    operation: { enum: OPERATIONS, default: 'find', title: 'Operation', description: 'find/findOne/count/aggregate read; insert/upsert write documents from the message in batches; update/delete by filter.' },
    collection: { type: 'string', minLength: 1, title: 'Collection' },
    filter: { ...ejson, default: {}, title: 'Filter', description: 'A query document (Extended JSON). Message values go in as { "$param": "payload.id" }; they cannot be operators.' },
    projection: { ...ejson, title: 'Projection' },
    sort: { ...ejson, title: 'Sort', description: 'e.g. { "createdAt": -1 }' },
    limit: { type: 'integer', minimum: 0, default: 0, title: 'Limit', description: '0: no limit.' },
    pipeline: { type: 'array', items: ejson, title: 'Pipeline', description: 'Aggregation stages (Extended JSON, $param placeholders allowed).' },
    update: { ...ejson, title: 'Update', description: 'An update document, e.g. { "$set": { "status": { "$param": "payload.status" } } }.' },
    many: { type: 'boolean', default: false, title: 'Every match', description: 'update/delete: all matching documents (otherwise the first).' },
    upsert: { type: 'boolean', default: false, title: 'Insert when nothing matches', description: 'update: upsert.' },
    keyFields: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, uniqueItems: true, title: 'Key fields', description: 'upsert: the fields that identify a document (e.g. sku); matching documents get the others set.' },
    output: { enum: ['rows', 'pages', 'blob'], default: 'rows', title: 'Output', description: 'rows: documents in msg.payload (up to maxRows). pages: one message per page (a JSON Lines blob each). blob: one JSON Lines blob.' },
    maxRows: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 10_000, title: 'Documents at most' },
    pageSize: { type: 'integer', minimum: 1, maximum: 100_000, default: 1000, title: 'Documents per page' },
    rowsFrom: { type: 'string', minLength: 1, default: 'payload', title: 'Documents from', description: 'insert/upsert: an array of documents, or a JSON Lines blob reference.' },
    batchSize: { type: 'integer', minimum: 1, maximum: 100_000, default: 1000, title: 'Documents per batch' },
  },
  allOf: [
    { if: { properties: { operation: { enum: ['find', 'findOne', 'count', 'update', 'delete'] } } }, then: { properties: { filter: {} } } },
    { if: { properties: { operation: { enum: ['find', 'findOne'] } } }, then: { properties: { projection: {}, sort: {} } } },
    { if: { properties: { operation: { const: 'find' } } }, then: { properties: { limit: {}, output: {}, maxRows: {}, pageSize: {} } } },
    { if: { properties: { operation: { const: 'aggregate' } }, required: ['operation'] }, then: { required: ['pipeline'], properties: { pipeline: {}, output: {}, maxRows: {}, pageSize: {} } } },
    { if: { properties: { operation: { const: 'update' } }, required: ['operation'] }, then: { required: ['update'], properties: { update: {}, many: {}, upsert: {} } } },
    { if: { properties: { operation: { const: 'delete' } }, required: ['operation'] }, then: { properties: { many: {} } } },
    { if: { properties: { operation: { enum: ['insert', 'upsert'] } }, required: ['operation'] }, then: { properties: { rowsFrom: {}, batchSize: {} } } },
    { if: { properties: { operation: { const: 'upsert' } }, required: ['operation'] }, then: { required: ['keyFields'], properties: { keyFields: {} } } },
  ],
} as const satisfies JsonSchema;

const help = `# MongoDB

Reads and writes a MongoDB collection, with a **mongodb** credential (MongoDB, or a MongoDB-wire server such as
FerretDB). Filters, updates and pipelines are Extended JSON in the node's settings; values from the message go in
only as \`{ "$param": "payload.id" }\` placeholders and may not contain operators (\`$gt\`...), so a message cannot
change what a query does.

- **find**: documents matching \`filter\` (\`projection\`, \`sort\`, \`limit\`). Output \`rows\` (up to \`maxRows\`),
  \`pages\` (one message per page of a cursor, each a JSON Lines blob: memory stays flat) or \`blob\`.
- **findOne**, **count**, **aggregate** (\`pipeline\`, same outputs as find).
- **insert**: the documents at \`rowsFrom\` in ordered batches. A failure says how many were inserted before it.
- **upsert**: each document is matched by \`keyFields\` and its other fields set, or inserted (bulk, ordered).
- **update** / **delete**: by \`filter\`, one or \`many\`.

Errors name the server, the operation and what it said (codeName). Change streams: see the pack's README (FerretDB
1.x does not implement them).`;

export const mongoNode = defineNode<MongoProps>({
  type: 'mongodb',
  category: 'connector',
  label: 'MongoDB',
  icon: 'database',
  color: '#47a248',
  inputs: 1,
  outputs: 1,
  props,
  credentials: { type: mongoCredential.name, schema: mongoCredential.schema, required: true },
  help,
  usableAsTool: true,
  create(init) {
    const credential = init.credential as NodeCredential<MongoFields> | undefined;
    if (!credential) throw new Error('needs a mongodb credential');
    const client = clientHandle(init.services, credential);
    const p = withDefaults<MongoProps>(props, init.props);
    const blobs = init.services.blobs;
    return {
      async onInput(msg: FlowMessage, ctx: InputContext) {
        const fields = credential.fields;
        const what = `${p.operation} on ${p.collection}`;
        let cursor: FindCursor | AggregationCursor | undefined;
        const onAbort = () => void cursor?.close();
        ctx.signal.addEventListener('abort', onAbort, { once: true });
        try {
          return await client.use(async (mongo) => {
            const coll = mongo.db(fields.database).collection(p.collection);
            const work = (async () => {
              switch (p.operation) {
                case 'find':
                case 'aggregate': {
                  cursor =
                    p.operation === 'find'
                      ? coll.find(bind(p.filter, msg, '/filter'), { projection: p.projection, sort: p.sort as never, limit: p.limit, batchSize: Math.min(p.pageSize, p.output === 'rows' ? p.maxRows + 1 : p.pageSize) })
                      : coll.aggregate(bind(p.pipeline, msg, '/pipeline'), { batchSize: p.pageSize });
                  return read(cursor, msg, ctx);
                }
                case 'findOne':
                  return { ...msg, payload: await coll.findOne(bind(p.filter, msg, '/filter'), { projection: p.projection, sort: p.sort as never }) };
                case 'count':
                  return { ...msg, payload: await coll.countDocuments(bind(p.filter, msg, '/filter')) };
                case 'update': {
                  const filter = bind(p.filter, msg, '/filter');
                  const update = bind(p.update, msg, '/update');
                  const r = p.many ? await coll.updateMany(filter, update, { upsert: p.upsert }) : await coll.updateOne(filter, update, { upsert: p.upsert });
                  return { ...msg, payload: { matched: r.matchedCount, modified: r.modifiedCount, upsertedId: r.upsertedId ?? null } };
                }
                case 'delete': {
                  const filter = bind(p.filter, msg, '/filter');
                  const r = p.many ? await coll.deleteMany(filter) : await coll.deleteOne(filter);
                  return { ...msg, payload: { deleted: r.deletedCount } };
                }
                default:
                  return { ...msg, payload: await write(coll, p, rowSource(getProperty(msg, p.rowsFrom), blobs, p.batchSize, `msg.${p.rowsFrom}`), ctx.signal) };
              }
            })();
            work.catch(() => undefined);
            // Writes cannot be called back once sent; the run stops waiting for them at once.
            const aborted = new Promise<never>((_, reject) => {
              if (ctx.signal.aborted) reject(ctx.signal.reason as Error);
              ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true });
            });
            aborted.catch(() => undefined);
            return Promise.race([work, aborted]);
          });
        } catch (error) {
          if (ctx.signal.aborted) throw ctx.signal.reason as Error;
          if (error instanceof NodeInputError) throw new NodeInputError(`MongoDB ${describeServer(fields)}: ${what}: ${error.message}`);
          throw new MongoNodeError(describeServer(fields), what, error);
        } finally {
          ctx.signal.removeEventListener('abort', onAbort);
          await cursor?.close().catch(() => undefined);
        }
      },
      close() {
        client.release();
      },
    };

    async function read(cursor: FindCursor | AggregationCursor, msg: FlowMessage, ctx: InputContext): Promise<FlowMessage | null> {
      const { payload: _payload, ...base } = msg;
      if (p.output === 'pages') {
        await sendRowPages(ctx, blobs, inPages(cursor, p.pageSize), { base });
        return null;
      }
      if (p.output === 'blob') {
        let rowCount = 0;
        async function* counted() {
          for await (const doc of cursor) {
            rowCount++;
            yield doc;
          }
        }
        const ref = await blobs.put(toJsonLines(counted()), { runId: ctx.runId, contentType: JSON_LINES });
        return { ...base, payload: ref, rowCount };
      }
      const docs: Document[] = [];
      for await (const doc of cursor) {
        if (docs.length === p.maxRows) throw new NodeInputError(`more than ${p.maxRows} documents (maxRows): choose output "pages" or "blob" for large results, or raise maxRows`);
        docs.push(doc);
      }
      return { ...msg, payload: docs, rowCount: docs.length };
    }
  },
});

interface WriteResult {
  collection: string;
  operation: 'insert' | 'upsert';
  written: number;
  batches: number;
  inserted: number;
  matched: number;
  modified: number;
}

/** Ordered batches: a failure stops at the failing document, and the error says what was written before it. */
async function write(coll: Collection, p: MongoProps, source: AsyncIterable<unknown[]>, signal: AbortSignal): Promise<WriteResult> {
  const result: WriteResult = { collection: p.collection, operation: p.operation as 'insert' | 'upsert', written: 0, batches: 0, inserted: 0, matched: 0, modified: 0 };
  for await (const batch of source) {
    if (signal.aborted) throw signal.reason as Error;
    const docs = batch.map((d, i) => checkDocument(d, result.written + i));
    try {
      if (p.operation === 'insert') {
        const r = await coll.insertMany(docs, { ordered: true });
        result.inserted += r.insertedCount;
      } else {
        const ops: AnyBulkWriteOperation[] = docs.map((doc, i) => {
          const filter: Record<string, unknown> = {};
          for (const key of p.keyFields!) {
            if (doc[key] === undefined) throw new NodeInputError(`document ${result.written + i} has no key field "${key}"`);
            filter[key] = doc[key];
          }
          return { updateOne: { filter, update: { $set: doc }, upsert: true } };
        });
        const r = await coll.bulkWrite(ops, { ordered: true });
        result.inserted += r.upsertedCount;
        result.matched += r.matchedCount;
        result.modified += r.modifiedCount;
      }
    } catch (error) {
      if (error instanceof NodeInputError) throw error;
      // An ordered bulk write stops at the first failing document: the ones before it in this batch were written.
      const partial = (error as { insertedCount?: number; result?: { insertedCount?: number; upsertedCount?: number; matchedCount?: number }; writeErrors?: Array<{ index: number }> | { index: number } }).writeErrors;
      const failedAt = Array.isArray(partial) ? partial[0]?.index : partial?.index;
      if (failedAt === undefined) throw error;
      const before = result.written + failedAt;
      const e = error as Error;
      e.message = `document ${before} (batch ${result.batches + 1}) failed: ${e.message}; documents 0–${before - 1} were written and stay, documents from ${before} on were not written`;
      if (before === 0) e.message = e.message.replace(/; documents 0–-1 were written and stay, documents from 0 on were not written$/, '; nothing was written');
      throw e;
    }
    result.written += docs.length;
    result.batches++;
  }
  return result;
}
