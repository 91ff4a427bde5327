/** The Salesforce node: SOQL queries (every page, or page messages), record CRUD and upsert, Bulk API 2.0. */
import type { Connection } from 'jsforce';
import { defineNode, getProperty, inPages, isBlobRef, NodeInputError, readRows, sendRowPages, type BlobServices, type FlowMessage, type InputContext, type JsonSchema, type NodeCredential } from '@flowcrew/sdk';
import { hostOf, withSignal } from '../shared/http.ts';
import { bulkQuery, ingest } from './bulk.ts';
import { connectionHandle, SalesforceError, type SalesforceFields } from './connect.ts';
import { salesforceCredential } from './credential.ts';
import type { Row } from './node-types.ts';
import { bindSoql } from './soql.ts';

export interface SalesforceProps {
  operation: 'query' | 'get' | 'create' | 'update' | 'upsert' | 'delete' | 'bulk-ingest' | 'bulk-query';
  soql?: string;
  params?: Record<string, string>;
  output: 'records' | 'pages';
  maxRecords: number;
  pageSize: number;
  object?: string;
  idFrom: string;
  recordFrom: string;
  externalIdField?: string;
  bulkOperation: 'insert' | 'update' | 'upsert' | 'delete';
  jobSize: number;
  pollTimeoutMs: number;
  includeDeleted: boolean;
}

const props = {
  type: 'object',
  additionalProperties: false,
  properties: {
    operation: {
      title: 'Operation',
      enum: ['query', 'get', 'create', 'update', 'upsert', 'delete', 'bulk-ingest', 'bulk-query'],
      default: 'query',
      description: 'query: SOQL over the REST API. get/create/update/upsert/delete: one record. bulk-ingest / bulk-query: Bulk API 2.0 for large sets.',
    },
    soql: { title: 'SOQL', type: 'string', minLength: 1, format: 'sql', description: 'e.g. SELECT Id, Name FROM Account WHERE Industry = :industry. Use :name placeholders for message values.' },
    params: { title: 'Parameters', type: 'object', additionalProperties: { type: 'string', minLength: 1 }, default: {}, description: 'Placeholder → message property, e.g. { "industry": "payload.industry" }. Values are written as escaped SOQL literals.' },
    output: { title: 'Output', enum: ['records', 'pages'], default: 'records', description: 'records: every record in msg.payload (up to maxRecords). pages: one message per page, a JSON Lines blob each, for any size.' },
    maxRecords: { title: 'Most records in one message', type: 'integer', minimum: 1, maximum: 1_000_000, default: 10_000 },
    pageSize: { title: 'Records per page', type: 'integer', minimum: 200, maximum: 100_000, default: 2000 },
    object: { title: 'Object', type: 'string', pattern: '^[A-Za-z]\\w*$', description: 'The sObject type: Account, Contact, Opportunity, My_Object__c...' },
    idFrom: { title: 'Record id from', type: 'string', minLength: 1, default: 'payload.Id', description: 'get/update/delete: the message property holding the record id (update: may be inside the record).' },
    recordFrom: { title: 'Record from', type: 'string', minLength: 1, default: 'payload', description: 'create/update/upsert: the fields to write. bulk-ingest: the rows (an array or a JSON Lines blob).' },
    externalIdField: { title: 'External id field', type: 'string', pattern: '^[A-Za-z]\\w*$', description: 'upsert: the external id field that decides between insert and update (its value is taken from the record).' },
    bulkOperation: { title: 'Bulk operation', enum: ['insert', 'update', 'upsert', 'delete'], default: 'insert' },
    jobSize: { title: 'Rows per bulk job', type: 'integer', minimum: 1, maximum: 150_000, default: 10_000, description: 'bulk-ingest: rows are uploaded in jobs of this many (one job\'s CSV is held at a time).' },
    pollTimeoutMs: { title: 'Bulk job wait (ms)', type: 'integer', minimum: 1000, maximum: 3_600_000, default: 600_000 },
    includeDeleted: { title: 'Include deleted and archived', type: 'boolean', default: false, description: 'query / bulk-query: queryAll.' },
  },
  allOf: [
    { if: { properties: { operation: { enum: ['query', 'bulk-query'] } } }, then: { required: ['soql'], properties: { soql: {}, params: {}, output: {}, maxRecords: {}, pageSize: {}, includeDeleted: {} } } },
    { if: { properties: { operation: { enum: ['get', 'create', 'update', 'upsert', 'delete', 'bulk-ingest'] } }, required: ['operation'] }, then: { required: ['object'] } },
    { if: { properties: { operation: { const: 'upsert' } }, required: ['operation'] }, then: { required: ['externalIdField'] } },
    { if: { properties: { operation: { const: 'bulk-ingest' } }, required: ['operation'] }, then: { properties: { bulkOperation: {}, jobSize: {}, externalIdField: {} } } },
  ],
} as const satisfies JsonSchema;

const help = `# Salesforce

Reads and writes Salesforce records with a **salesforce** credential (JWT bearer, refresh token or username-password).
One session per credential is shared by every Salesforce node and renewed when it expires.

- **query**: SOQL over the REST API; every page is fetched (queryMore). Message values go in through \`:name\`
  placeholders and \`params\` (\`{ "industry": "payload.industry" }\`), written as escaped SOQL literals. Output
  \`records\` puts them in \`msg.payload\` (\`msg.totalSize\` too); \`pages\` sends one message per page, each a JSON
  Lines blob (\`msg.page\`), whatever the size.
- **get** / **delete**: the record whose id is at \`idFrom\`. **create** / **update**: the fields at \`recordFrom\`
  (update takes the id from \`idFrom\`, which may be the record's own \`Id\`). **upsert**: insert or update by
  \`externalIdField\`; \`msg.payload\` says \`{ id, created }\`.
- **bulk-ingest**: Bulk API 2.0 insert/update/upsert/delete of the rows at \`recordFrom\` (an array, or a JSON Lines
  blob such as a database query's pages), in jobs of \`jobSize\` rows; \`msg.payload\` counts what succeeded and
  lists the failed rows with Salesforce's \`sf__Error\`. **bulk-query**: a Bulk API 2.0 query job, results in pages.

Errors name the Salesforce host, the operation and what Salesforce said (\`errorCode: message\`, fields). Rate limits
(429 with Retry-After) are waited out a few times before failing.`;

export const salesforceNode = defineNode<SalesforceProps>({
  type: 'salesforce',
  category: 'connector',
  label: 'Salesforce',
  icon: 'cloud',
  color: '#00A1E0',
  inputs: 1,
  outputs: 1,
  props,
  credentials: { type: salesforceCredential.name, schema: salesforceCredential.schema, required: true },
  help,
  usableAsTool: true,
  create(init) {
    const credential = init.credential as NodeCredential<SalesforceFields> | undefined;
    if (!credential) throw new Error('needs a salesforce credential');
    const handle = connectionHandle(init.services, credential);
    const p = withDefaults(init.props);
    const blobs = init.services.blobs;
    return {
      async onInput(msg: FlowMessage, ctx: InputContext) {
        const what = p.object ? `${p.operation} ${p.object}` : p.operation;
        let host = hostOf(credential.fields.loginUrl || 'https://login.salesforce.com');
        try {
          return await handle.use((conn) => {
            host = hostOf(conn.instanceUrl);
            return withSignal(ctx.signal, () => run(conn, p, msg, ctx, blobs));
          });
        } catch (error) {
          if (error instanceof NodeInputError) throw new NodeInputError(`Salesforce ${host}: ${what}: ${error.message}`);
          if (error instanceof SalesforceError) throw error;
          throw new SalesforceError(host, what, error);
        }
      },
      close() {
        handle.release();
      },
    };
  },
});

function withDefaults(given: Partial<SalesforceProps>): SalesforceProps {
  const defaults = Object.fromEntries(Object.entries(props.properties).flatMap(([name, spec]) => ('default' in spec ? [[name, spec.default]] : [])));
  return { ...defaults, ...given } as SalesforceProps;
}

function record(msg: FlowMessage, from: string): Row {
  const value = getProperty(msg, from);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new NodeInputError(`msg.${from} must be an object of fields${Array.isArray(value) ? ' (for many records use bulk-ingest)' : ''}`);
  const { attributes: _attributes, ...fields } = value as Row;
  return fields;
}

function recordId(msg: FlowMessage, from: string): string {
  const id = getProperty(msg, from);
  if (typeof id !== 'string' || !/^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/.test(id)) throw new NodeInputError(`msg.${from} must be a Salesforce record id (15 or 18 characters), got ${JSON.stringify(id)?.slice(0, 40)}`);
  return id;
}

/** REST query pages: the first request, then nextRecordsUrl until done. */
async function* queryPages(conn: Connection, soql: string, all: boolean): AsyncIterable<{ records: Row[]; totalSize: number }> {
  let page = (await conn.request({ method: 'GET', url: `/${all ? 'queryAll' : 'query'}?q=${encodeURIComponent(soql)}` })) as { records: Row[]; totalSize: number; done: boolean; nextRecordsUrl?: string };
  for (;;) {
    yield { records: page.records.map(({ attributes: _a, ...fields }) => fields), totalSize: page.totalSize };
    if (page.done || !page.nextRecordsUrl) return;
    page = (await conn.request({ method: 'GET', url: page.nextRecordsUrl })) as typeof page;
  }
}

async function run(conn: Connection, p: SalesforceProps, msg: FlowMessage, ctx: InputContext, blobs: BlobServices): Promise<FlowMessage | null> {
  const sobject = () => conn.sobject(p.object!);
  switch (p.operation) {
    case 'query':
    case 'bulk-query': {
      const values = Object.fromEntries(Object.entries(p.params ?? {}).map(([name, path]) => [name, getProperty(msg, path)]));
      const soql = bindSoql(p.soql!, values);
      const pages =
        p.operation === 'query'
          ? (async function* () {
              for await (const page of queryPages(conn, soql, p.includeDeleted)) yield page.records;
            })()
          : bulkQuery(conn, soql, { pageSize: p.pageSize, pollIntervalMs: 1000, pollTimeoutMs: p.pollTimeoutMs, all: p.includeDeleted });
      if (p.output === 'pages') {
        await sendRowPages(ctx, blobs, inPages(flatten(pages), p.pageSize), { base: msg });
        return null;
      }
      const records: Row[] = [];
      for await (const page of pages) {
        if (records.length + page.length > p.maxRecords) throw new NodeInputError(`the query returned more than ${p.maxRecords} records (maxRecords): use output "pages" for large results`);
        records.push(...page);
      }
      return { ...msg, payload: records, totalSize: records.length };
    }
    case 'get':
      return { ...msg, payload: stripAttributes((await sobject().retrieve(recordId(msg, p.idFrom))) as Row) };
    case 'create':
      return { ...msg, payload: await sobject().create(record(msg, p.recordFrom)) };
    case 'update': {
      const fields = record(msg, p.recordFrom);
      const id = typeof fields.Id === 'string' && p.idFrom === 'payload.Id' ? fields.Id : recordId(msg, p.idFrom);
      return { ...msg, payload: await sobject().update({ ...fields, Id: id }) };
    }
    case 'upsert': {
      const fields = record(msg, p.recordFrom);
      if (fields[p.externalIdField!] === undefined || fields[p.externalIdField!] === null) throw new NodeInputError(`the record has no value for the external id field ${p.externalIdField}`);
      return { ...msg, payload: await sobject().upsert(fields as never, p.externalIdField!) };
    }
    case 'delete':
      return { ...msg, payload: await sobject().destroy(recordId(msg, p.idFrom)) };
    case 'bulk-ingest': {
      const value = getProperty(msg, p.recordFrom);
      const source = Array.isArray(value) ? inPages(value as Row[], p.jobSize) : isBlobRef(value) ? readRows<Row>(blobs, value, p.jobSize) : undefined;
      if (!source) throw new NodeInputError(`msg.${p.recordFrom} must be an array of rows or a JSON Lines blob reference`);
      if (p.bulkOperation === 'upsert' && !p.externalIdField) throw new NodeInputError('bulk upsert needs externalIdField');
      const summary = await ingest(conn, source, { object: p.object!, operation: p.bulkOperation, externalIdFieldName: p.bulkOperation === 'upsert' ? p.externalIdField : undefined, pollIntervalMs: 1000, pollTimeoutMs: p.pollTimeoutMs }, ctx.signal);
      return { ...msg, payload: summary };
    }
  }
}

async function* flatten(pages: AsyncIterable<Row[]>): AsyncIterable<Row> {
  for await (const page of pages) yield* page;
}

function stripAttributes(row: Row): Row {
  const { attributes: _attributes, ...fields } = row;
  return fields;
}
