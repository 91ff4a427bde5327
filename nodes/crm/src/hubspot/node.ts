/** The HubSpot node: CRM objects (get, create, update, archive, search with paging) and associations, with @hubspot/api-client. */
import type { Client } from '@hubspot/api-client';
import { defineNode, getProperty, NodeInputError, PooledResource, type FlowMessage, type JsonSchema, type NodeCredential, type RuntimeServices } from '@flowcrew/sdk';
import { guardedAgent } from '../shared/agent.ts';
import { currentSignal, hostOf, retryAfterMs, withSignal } from '../shared/http.ts';
import { hubspotCredential, type HubSpotFields } from './credential.ts';
import { loadHubspot } from '../shared/libs.ts';

export interface HubSpotProps {
  operation: 'get' | 'create' | 'update' | 'archive' | 'search' | 'associate';
  objectType: string;
  idFrom: string;
  propertiesFrom: string;
  properties: string[];
  filterGroups?: Array<{ filters: Array<{ propertyName: string; operator: string; value?: string; valueFrom?: string }> }>;
  maxRecords: number;
  toObjectType?: string;
  toIdFrom: string;
}

const props = {
  type: 'object',
  additionalProperties: false,
  properties: {
    operation: { title: 'Operation', enum: ['get', 'create', 'update', 'archive', 'search', 'associate'], default: 'get' },
    objectType: { title: 'Object type', type: 'string', minLength: 1, default: 'contacts', description: 'contacts, companies, deals, tickets, or a custom object\'s id (2-123456).' },
    idFrom: { title: 'Record id from', type: 'string', minLength: 1, default: 'payload.id' },
    propertiesFrom: { title: 'Properties from', type: 'string', minLength: 1, default: 'payload.properties', description: 'create/update: the message property holding the properties to write.' },
    properties: { title: 'Properties to read', type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'get/search: the properties returned (default: HubSpot\'s defaults).' },
    filterGroups: {
      title: 'Search filters',
      type: 'array',
      items: {
        type: 'object',
        required: ['filters'],
        properties: {
          filters: {
            type: 'array',
            items: {
              type: 'object',
              required: ['propertyName', 'operator'],
              properties: {
                propertyName: { type: 'string', minLength: 1 },
                operator: { enum: ['EQ', 'NEQ', 'LT', 'LTE', 'GT', 'GTE', 'BETWEEN', 'IN', 'NOT_IN', 'HAS_PROPERTY', 'NOT_HAS_PROPERTY', 'CONTAINS_TOKEN', 'NOT_CONTAINS_TOKEN'] },
                value: { type: 'string' },
                valueFrom: { type: 'string', description: 'A message property giving the value.' },
              },
            },
          },
        },
      },
      description: 'search: groups are ORed, filters in a group ANDed (HubSpot\'s search API).',
    },
    maxRecords: { title: 'Most records', type: 'integer', minimum: 1, maximum: 10_000, default: 1000, description: 'search: pages are followed up to this many records (HubSpot stops at 10,000).' },
    toObjectType: { title: 'Associate with type', type: 'string', minLength: 1, description: 'associate: the other record\'s object type.' },
    toIdFrom: { title: 'Other record id from', type: 'string', minLength: 1, default: 'payload.toId' },
  },
} as const satisfies JsonSchema;

const help = `# HubSpot

Reads and writes HubSpot CRM records with a **hubspot** credential (a private app's access token).

- **get** / **archive**: the record whose id is at \`idFrom\`. **create** / **update**: the properties at
  \`propertiesFrom\` (\`{ "email": "a@example.com" }\`). \`msg.payload\` is HubSpot's record (\`id\`, \`properties\`).
- **search**: \`filterGroups\` (values fixed or from the message with \`valueFrom\`), pages followed up to
  \`maxRecords\`; \`msg.payload\` is the records, \`msg.total\` HubSpot's count.
- **associate**: links the record at \`idFrom\` to the \`toObjectType\` record at \`toIdFrom\` with the default
  association type.

Errors name the host, the operation and HubSpot's answer (status, category, message, correlation id). A 429 is waited
out (Retry-After) up to three times.`;

type HubSpotClient = InstanceType<typeof Client>;

async function openClient(fields: HubSpotFields, services: RuntimeServices) {
  if (!fields.accessToken) throw new NodeInputError('the hubspot credential has no access token');
  const basePath = (fields.baseUrl || 'https://api.hubapi.com').replace(/\/+$/, '');
  const agent = guardedAgent(services.outbound, basePath);
  // Retries are ours (Retry-After aware); the client's own waits 10 s per attempt whatever the server says.
  const client = new (await loadHubspot())({ accessToken: fields.accessToken, basePath, httpAgent: agent, numberOfApiCallRetries: 0 });
  return { client, agent, basePath };
}

/** Run a call, waiting out 429 responses as Retry-After says (1 s, 2 s, 4 s without it), at most 3 times. */
async function rateLimited<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const e = error as { code?: number; headers?: Record<string, string> };
      if (e.code !== 429 || attempt >= 3) throw error;
      const wait = Math.min(retryAfterMs(e.headers?.['retry-after']) ?? 1000 * 2 ** attempt, 30_000);
      const signal = currentSignal();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, wait);
        signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason as Error)), { once: true });
      });
    }
  }
}

export class HubSpotError extends Error {
  readonly retryable: boolean;
  constructor(host: string, operation: string, error: unknown) {
    const e = error as { code?: number; body?: unknown; message: string };
    let said = e.message;
    if (typeof e.code === 'number') {
      const body = (typeof e.body === 'string' ? safeJson(e.body) : e.body) as { message?: string; category?: string; correlationId?: string } | undefined;
      said = `${e.code}${body?.category ? ` ${body.category}` : ''}: ${body?.message ?? e.message.split('\n')[0]}${body?.correlationId ? ` (correlation id ${body.correlationId})` : ''}`;
    }
    super(`HubSpot ${host}: ${operation} failed: ${said}`, { cause: error });
    this.name = 'HubSpotError';
    this.retryable = typeof e.code !== 'number' || e.code === 429 || e.code >= 500;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function idAt(msg: FlowMessage, path: string): string {
  const id = getProperty(msg, path);
  if ((typeof id !== 'string' && typeof id !== 'number') || !/^\d+$/.test(String(id))) throw new NodeInputError(`msg.${path} must be a HubSpot record id (digits), got ${JSON.stringify(id)?.slice(0, 40)}`);
  return String(id);
}

export const hubspotNode = defineNode<HubSpotProps>({
  type: 'hubspot',
  category: 'connector',
  label: 'HubSpot',
  icon: 'hub',
  color: '#FF7A59',
  inputs: 1,
  outputs: 1,
  props,
  credentials: { type: hubspotCredential.name, schema: hubspotCredential.schema, required: true },
  help,
  usableAsTool: true,
  create(init) {
    const credential = init.credential as NodeCredential<HubSpotFields> | undefined;
    if (!credential) throw new Error('needs a hubspot credential');
    const p = { ...Object.fromEntries(Object.entries(props.properties).flatMap(([k, v]) => ('default' in v ? [[k, v.default]] : []))), ...init.props } as HubSpotProps;
    const handle = new PooledResource(init.services.resources, 'crm:hubspot:client', async () => openClient(credential.fields, init.services), (c) => c.agent.destroy(), { credential, idleMs: 60_000 });
    return {
      async onInput(msg, ctx) {
        let host = hostOf(credential.fields.baseUrl || 'https://api.hubapi.com');
        const what = `${p.operation} ${p.objectType}`;
        try {
          return await handle.use(({ client, basePath }) => {
            host = hostOf(basePath);
            return withSignal(ctx.signal, () => run(client, p, msg));
          });
        } catch (error) {
          if (error instanceof NodeInputError) throw new NodeInputError(`HubSpot ${host}: ${what}: ${error.message}`);
          throw new HubSpotError(host, what, error);
        }
      },
      close() {
        handle.release();
      },
    };
  },
});

async function run(client: HubSpotClient, p: HubSpotProps, msg: FlowMessage): Promise<FlowMessage> {
  const objects = client.crm.objects;
  const properties = p.properties.length ? p.properties : undefined;
  const writes = () => {
    const value = getProperty(msg, p.propertiesFrom);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new NodeInputError(`msg.${p.propertiesFrom} must be an object of properties`);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)]));
  };
  switch (p.operation) {
    case 'get':
      return { ...msg, payload: await rateLimited(() => objects.basicApi.getById(p.objectType, idAt(msg, p.idFrom), properties)) };
    case 'create':
      return { ...msg, payload: await rateLimited(() => objects.basicApi.create(p.objectType, { properties: writes(), associations: [] })) };
    case 'update':
      return { ...msg, payload: await rateLimited(() => objects.basicApi.update(p.objectType, idAt(msg, p.idFrom), { properties: writes() })) };
    case 'archive':
      await rateLimited(() => objects.basicApi.archive(p.objectType, idAt(msg, p.idFrom)));
      return { ...msg, payload: { archived: true, id: idAt(msg, p.idFrom) } };
    case 'associate': {
      if (!p.toObjectType) throw new NodeInputError('associate needs toObjectType');
      const result = await rateLimited(() => client.crm.associations.v4.basicApi.createDefault(p.objectType, idAt(msg, p.idFrom), p.toObjectType!, idAt(msg, p.toIdFrom)));
      return { ...msg, payload: result };
    }
    case 'search': {
      const filterGroups = (p.filterGroups ?? []).map((group) => ({
        filters: group.filters.map((f) => ({ propertyName: f.propertyName, operator: f.operator as never, value: f.valueFrom !== undefined ? String(getProperty(msg, f.valueFrom) ?? '') : f.value })),
      }));
      const records: unknown[] = [];
      let after: string | undefined;
      let total = 0;
      do {
        const limit = Math.min(200, p.maxRecords - records.length);
        const page = await rateLimited(() => objects.searchApi.doSearch(p.objectType, { filterGroups, properties, limit, after, sorts: [] } as never));
        records.push(...page.results);
        total = page.total;
        after = page.paging?.next?.after;
      } while (after && records.length < p.maxRecords);
      return { ...msg, payload: records, total };
    }
  }
}
