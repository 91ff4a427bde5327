/** Dapr state: get, set or delete a key in one of the sidecar's state stores, with etags for optimistic locking. */
import { defineNode, NodeInputError, type FlowMessage, type JsonSchema } from '@flowcrew/sdk';
import { DaprError, daprHttp, seg } from './client.ts';
import { daprCredential } from './credential.ts';

export interface DaprStateProps {
  store: string;
  operation: 'get' | 'set' | 'delete';
  key: string;
  /** set/delete: only when the key still has the etag of msg.dapr.etag (first-write-wins). */
  useEtag: boolean;
  /** set: seconds until the value expires (0 = never). */
  ttlSeconds: number;
}

const props = {
  type: 'object',
  required: ['store', 'operation'],
  additionalProperties: false,
  properties: {
    store: { title: 'State store', type: 'string', minLength: 1, default: 'statestore', description: 'The name of a state store component the sidecar loaded.' },
    operation: { title: 'Operation', enum: ['get', 'set', 'delete'], default: 'get' },
    key: { title: 'Key', type: 'string', default: '', description: 'Empty: msg.topic.' },
    useEtag: {
      title: 'Only if unchanged',
      type: 'boolean',
      default: false,
      description: 'set/delete: only when the key still has the etag a get put in msg.dapr.etag; otherwise the node fails (nothing written).',
    },
    ttlSeconds: { title: 'Expires after (s)', type: 'integer', minimum: 0, default: 0, description: 'set: the value expires after this many seconds (0: never). The store must support TTLs.' },
  },
  allOf: [
    { if: { properties: { operation: { enum: ['set', 'delete'] } }, required: ['operation'] }, then: { properties: { useEtag: {} } } },
    { if: { properties: { operation: { const: 'set' } }, required: ['operation'] }, then: { properties: { ttlSeconds: {} } } },
  ],
} as const satisfies JsonSchema;

const help = `# Dapr state

Reads and writes a state store of the Dapr sidecar (\`/v1.0/state\`); the key is set here or taken from \`msg.topic\`.

- **get**: \`msg.payload\` becomes the stored value (JSON), or null when the key does not exist;
  \`msg.dapr = { store, key, found, etag }\`.
- **set**: stores \`msg.payload\` (JSON data), optionally expiring after a number of seconds.
- **delete**: removes the key (deleting a missing key succeeds).

**Only if unchanged**: set and delete then send the etag of \`msg.dapr.etag\` (from a get earlier in the run): when
someone changed the key meanwhile, Dapr refuses and the node fails with "etag mismatch", writing nothing. Route
that to a retry of get → change → set for a safe read-modify-write.`;

export const daprStateNode = defineNode<DaprStateProps>({
  type: 'dapr-state',
  category: 'connector',
  label: 'Dapr state',
  icon: 'database',
  color: '#0d2192',
  inputs: 1,
  outputs: 1,
  props,
  credentials: { type: daprCredential.name, schema: daprCredential.schema, required: true },
  usableAsTool: true,
  help,
  create(init) {
    const http = daprHttp(init.services.outbound, init.credential);
    const { store, operation, useEtag, ttlSeconds } = init.props;
    const etagOf = (msg: FlowMessage, key: string): string | undefined => {
      if (!useEtag) return undefined;
      const etag = (msg.dapr as { etag?: unknown } | undefined)?.etag;
      if (typeof etag !== 'string' || !etag) throw new NodeInputError(`dapr state ${operation} "${key}": "only if unchanged" needs msg.dapr.etag (from a get of the key)`);
      return etag;
    };
    const mismatch = (error: unknown, key: string) =>
      error instanceof DaprError && (error.status === 409 || error.code === 'ERR_STATE_SAVE' || error.code === 'ERR_STATE_DELETE') && useEtag
        ? new NodeInputError(`dapr state ${operation} "${key}" in ${store}: etag mismatch, the key changed since it was read (${error.message})`)
        : error;
    return {
      async onInput(msg, ctx) {
        const key = init.props.key || (typeof msg.topic === 'string' ? msg.topic : '');
        if (!key) throw new NodeInputError(`dapr state ${operation}: the key must be set (here or in msg.topic)`);
        const path = `/v1.0/state/${seg(store)}`;
        if (operation === 'get') {
          const res = await http.request(`get "${key}" from ${store}`, 'GET', `${path}/${seg(key)}`, { signal: ctx.signal });
          const found = res.status === 200 && res.text !== '';
          return { ...msg, payload: found ? (JSON.parse(res.text) as unknown) : null, dapr: { store, key, found, etag: res.headers.get('etag') ?? undefined } };
        }
        const etag = etagOf(msg, key);
        try {
          if (operation === 'set') {
            if (msg.payload === undefined) throw new NodeInputError(`dapr state set "${key}": msg.payload is undefined (set null to store null, or use delete)`);
            const item: Record<string, unknown> = { key, value: msg.payload };
            if (etag) Object.assign(item, { etag, options: { concurrency: 'first-write' } });
            if (ttlSeconds > 0) item.metadata = { ttlInSeconds: String(ttlSeconds) };
            await http.request(`set "${key}" in ${store}`, 'POST', path, { body: JSON.stringify([item]), headers: { 'content-type': 'application/json' }, signal: ctx.signal });
          } else {
            await http.request(`delete "${key}" from ${store}`, 'DELETE', `${path}/${seg(key)}${etag ? '?concurrency=first-write' : ''}`, { headers: etag ? { 'if-match': etag } : {}, signal: ctx.signal });
          }
        } catch (error) {
          throw mismatch(error, key);
        }
        return { ...msg, dapr: { store, key } };
      },
    };
  },
});
