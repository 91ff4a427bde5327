/** The Dynamics 365 node: OData v4 queries over the Web API (paging by @odata.nextLink), and record CRUD. */
import { defineNode, getProperty, inPages, NodeInputError, sendRowPages, type BlobServices, type FlowMessage, type InputContext, type JsonSchema, type NodeCredential } from '@flowcrew/sdk';
import { withSignal } from '../shared/http.ts';
import { clientHandle, DynamicsError, odataLiteral, type DynamicsClient, type DynamicsFields } from './client.ts';
import { dynamicsCredential } from './credential.ts';

export interface DynamicsProps {
  operation: 'query' | 'get' | 'create' | 'update' | 'delete';
  entitySet: string;
  select: string[];
  filter?: string;
  params: Record<string, string>;
  orderby?: string;
  pageSize: number;
  maxRecords: number;
  output: 'records' | 'pages';
  idFrom: string;
  recordFrom: string;
}

const props = {
  type: 'object',
  additionalProperties: false,
  required: ['entitySet'],
  properties: {
    operation: { title: 'Operation', enum: ['query', 'get', 'create', 'update', 'delete'], default: 'query' },
    entitySet: { title: 'Entity set', type: 'string', pattern: '^[A-Za-z_]\\w*$', description: 'The table\'s entity set name: accounts, contacts, new_projects...' },
    select: { title: 'Columns ($select)', type: 'array', items: { type: 'string', pattern: '^[A-Za-z_]\\w*$' }, default: [] },
    filter: { title: 'Filter ($filter)', type: 'string', description: "OData filter, e.g. name eq :name and revenue gt 1000. :name placeholders take message values (see params), written as OData literals." },
    params: { title: 'Parameters', type: 'object', additionalProperties: { type: 'string', minLength: 1 }, default: {}, description: 'Placeholder → message property, e.g. { "name": "payload.name" }.' },
    orderby: { title: 'Order ($orderby)', type: 'string', pattern: '^[\\w ,]+$' },
    pageSize: { title: 'Records per page', type: 'integer', minimum: 1, maximum: 5000, default: 1000, description: 'Sent as Prefer: odata.maxpagesize; pages are followed with @odata.nextLink.' },
    maxRecords: { title: 'Most records in one message', type: 'integer', minimum: 1, maximum: 1_000_000, default: 10_000 },
    output: { title: 'Output', enum: ['records', 'pages'], default: 'records', description: 'records: all in msg.payload. pages: one message per page, a JSON Lines blob each.' },
    idFrom: { title: 'Record id from', type: 'string', minLength: 1, default: 'payload.id', description: 'get/update/delete: the record\'s GUID.' },
    recordFrom: { title: 'Record from', type: 'string', minLength: 1, default: 'payload', description: 'create/update: the columns to write.' },
  },
} as const satisfies JsonSchema;

const help = `# Dynamics 365

Reads and writes Dynamics 365 / Dataverse tables through the Web API (OData v4), with a **dynamics365** credential
(an app registration; OAuth 2.0 client credentials).

- **query**: \`entitySet\` with \`$select\`, \`$filter\` (message values through \`:name\` placeholders and
  \`params\`, written as OData literals with quotes doubled) and \`$orderby\`. Pages of \`pageSize\` are followed
  with \`@odata.nextLink\`; output \`records\` or \`pages\` (JSON Lines blobs, any size).
- **get** / **delete**: the record whose GUID is at \`idFrom\`. **create**: the columns at \`recordFrom\`;
  \`msg.payload\` is the created record. **update**: PATCH with \`If-Match: *\`, so a missing record fails instead of
  being created.

Errors name the host, the operation and the Web API's answer (status, error code, message). 429 responses are
waited out as Retry-After says.`;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const dynamicsNode = defineNode<DynamicsProps>({
  type: 'dynamics365',
  category: 'connector',
  label: 'Dynamics 365',
  icon: 'business',
  color: '#002050',
  inputs: 1,
  outputs: 1,
  props,
  credentials: { type: dynamicsCredential.name, schema: dynamicsCredential.schema, required: true },
  help,
  usableAsTool: true,
  create(init) {
    const credential = init.credential as NodeCredential<DynamicsFields> | undefined;
    if (!credential) throw new Error('needs a dynamics365 credential');
    const p = { ...Object.fromEntries(Object.entries(props.properties).flatMap(([k, v]) => ('default' in v ? [[k, v.default]] : []))), ...init.props } as DynamicsProps;
    const handle = clientHandle(init.services, credential);
    return {
      async onInput(msg, ctx) {
        const what = `${p.operation} ${p.entitySet}`;
        try {
          return await handle.use((client) => withSignal(ctx.signal, () => run(client, p, msg, ctx, init.services.blobs, what)));
        } catch (error) {
          if (error instanceof NodeInputError) throw new NodeInputError(`Dynamics 365 ${new URL(credential.fields.url).host}: ${what}: ${error.message}`);
          if (error instanceof DynamicsError) throw error;
          throw new DynamicsError(new URL(credential.fields.url).host, what, (error as Error).message);
        }
      },
      close() {
        handle.release();
      },
    };
  },
});

function guidAt(msg: FlowMessage, path: string): string {
  const id = getProperty(msg, path);
  if (typeof id !== 'string' || !GUID.test(id)) throw new NodeInputError(`msg.${path} must be a record GUID, got ${JSON.stringify(id)?.slice(0, 40)}`);
  return id;
}

function columns(msg: FlowMessage, path: string): Record<string, unknown> {
  const value = getProperty(msg, path);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new NodeInputError(`msg.${path} must be an object of columns`);
  return value as Record<string, unknown>;
}

function queryPath(p: DynamicsProps, msg: FlowMessage): string {
  const query: string[] = [];
  if (p.select.length) query.push(`$select=${p.select.join(',')}`);
  if (p.filter) {
    const filter = p.filter.replace(/(?<!')\B:([A-Za-z_]\w*)/g, (_, name: string) => {
      if (!(name in p.params)) throw new NodeInputError(`filter parameter :${name} has no entry in params`);
      return odataLiteral(getProperty(msg, p.params[name]!));
    });
    query.push(`$filter=${encodeURIComponent(filter)}`);
  }
  if (p.orderby) query.push(`$orderby=${encodeURIComponent(p.orderby)}`);
  return `${p.entitySet}${query.length ? `?${query.join('&')}` : ''}`;
}

async function* pages(client: DynamicsClient, first: string, p: DynamicsProps, what: string, signal: AbortSignal): AsyncIterable<Array<Record<string, unknown>>> {
  let next: string | undefined = first;
  while (next) {
    const { body } = await client.request(what, 'GET', next, { headers: { prefer: `odata.maxpagesize=${p.pageSize}, odata.include-annotations="OData.Community.Display.V1.FormattedValue"` }, signal });
    const page = body as { value: Array<Record<string, unknown>>; '@odata.nextLink'?: string };
    yield page.value.map((row) => Object.fromEntries(Object.entries(row).filter(([k]) => k !== '@odata.etag')));
    next = page['@odata.nextLink'];
  }
}

async function run(client: DynamicsClient, p: DynamicsProps, msg: FlowMessage, ctx: InputContext, blobs: BlobServices, what: string): Promise<FlowMessage | null> {
  const signal = ctx.signal;
  switch (p.operation) {
    case 'query': {
      const source = pages(client, queryPath(p, msg), p, what, signal);
      if (p.output === 'pages') {
        await sendRowPages(ctx, blobs, inPages(flatten(source), p.pageSize), { base: msg });
        return null;
      }
      const records: Array<Record<string, unknown>> = [];
      for await (const page of source) {
        if (records.length + page.length > p.maxRecords) throw new NodeInputError(`the query returned more than ${p.maxRecords} records (maxRecords): use output "pages" for large results`);
        records.push(...page);
      }
      return { ...msg, payload: records };
    }
    case 'get':
      return { ...msg, payload: (await client.request(what, 'GET', `${p.entitySet}(${guidAt(msg, p.idFrom)})${p.select.length ? `?$select=${p.select.join(',')}` : ''}`, { signal })).body };
    case 'create':
      return { ...msg, payload: (await client.request(what, 'POST', p.entitySet, { body: columns(msg, p.recordFrom), headers: { prefer: 'return=representation' }, signal })).body };
    case 'update': {
      await client.request(what, 'PATCH', `${p.entitySet}(${guidAt(msg, p.idFrom)})`, { body: columns(msg, p.recordFrom), headers: { 'if-match': '*' }, signal });
      return { ...msg, payload: { updated: true, id: guidAt(msg, p.idFrom) } };
    }
    case 'delete':
      await client.request(what, 'DELETE', `${p.entitySet}(${guidAt(msg, p.idFrom)})`, { signal });
      return { ...msg, payload: { deleted: true, id: guidAt(msg, p.idFrom) } };
  }
}

async function* flatten<T>(source: AsyncIterable<T[]>): AsyncIterable<T> {
  for await (const page of source) yield* page;
}
