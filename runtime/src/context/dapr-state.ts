/**
 * Node, flow and global context kept in a Dapr state store (FLOWCREW_CONTEXT_STORE=dapr) instead of the runtime's
 * database, through the sidecar's HTTP API: for operators who run Flowcrew as a Dapr app and want its state where
 * their other apps' state is (Redis, Cosmos DB, DynamoDB... whatever component the sidecar loaded).
 *
 * The executor's contract (executor/context.ts) is load a whole scope at deploy, write one key at a time. Dapr has no
 * "list keys" on the HTTP API, so each scope keeps an index entry (the list of its keys) beside one entry per key;
 * adding or removing a key writes both in one state transaction, guarded by the index's etag, so two processes
 * adding keys to one scope never lose each other's (on a conflict the index is read again and the write retried).
 * Entries: `ctx|<scope>|<key>` and `ctx-index|<scope>`, scope and key URI-encoded (so '|' cannot be ambiguous).
 *
 * The sidecar address is the operator's configuration, like the database URL: it does not go through the outbound
 * guard, which is for the destinations flows choose.
 */
import type { ContextStorage } from '../executor/context.ts';
import { json } from '../storage/run-writes.ts';

export interface DaprContextOptions {
  /** The sidecar's HTTP API, e.g. http://127.0.0.1:3500. */
  url: string;
  /** The state store component's name. */
  store: string;
  apiToken?: string;
}

/** The Dapr context store when FLOWCREW_CONTEXT_STORE=dapr, else undefined (the runtime's database keeps context). */
export function daprContextFromEnv(env: NodeJS.ProcessEnv = process.env): DaprContextStore | undefined {
  const kind = env.FLOWCREW_CONTEXT_STORE?.trim();
  if (!kind || kind === 'database') return undefined;
  if (kind !== 'dapr') throw new Error(`FLOWCREW_CONTEXT_STORE must be "database" (default) or "dapr", not "${kind}"`);
  return new DaprContextStore({
    url: env.FLOWCREW_DAPR_HTTP_URL?.trim() || `http://127.0.0.1:${env.DAPR_HTTP_PORT?.trim() || '3500'}`,
    store: env.FLOWCREW_DAPR_STATE_STORE?.trim() || 'statestore',
    apiToken: env.FLOWCREW_DAPR_API_TOKEN || env.DAPR_API_TOKEN || undefined,
  });
}

const MAX_INDEX_RETRIES = 50;

interface Index {
  keys: Set<string>;
  etag: string | undefined;
}

export class DaprContextStore implements ContextStorage {
  private readonly base: string;
  /** Each scope's index as last read or written by this process. */
  private readonly indexes = new Map<string, Index>();
  /** Writes of one scope run one after the other (the index is read-modify-write). */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly options: DaprContextOptions) {
    this.base = `${options.url.replace(/\/+$/, '')}/v1.0/state/${encodeURIComponent(options.store)}`;
  }

  async loadContext(scope: string): Promise<Record<string, unknown>> {
    const index = await this.readIndex(scope);
    this.indexes.set(scope, index);
    if (index.keys.size === 0) return {};
    const keys = [...index.keys];
    const items = (await this.call(`read context "${scope}"`, 'POST', '/bulk', { keys: keys.map((k) => entryKey(scope, k)), parallelism: 8 })) as Array<{ key: string; data?: unknown; error?: string }>;
    const byEntry = new Map(items.map((item) => [item.key, item]));
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const item = byEntry.get(entryKey(scope, key));
      if (item?.error) throw new Error(`Dapr context store ${this.where}: read context "${scope}" key "${key}" failed: ${item.error}`);
      // A key in the index whose entry is missing was being deleted by a process that died half-way: absent.
      if (item && item.data !== undefined) out[key] = item.data;
    }
    return out;
  }

  setContext(scope: string, key: string, value: unknown): Promise<void> {
    // Checked before queueing, as the database store does: a bad value fails at once and writes nothing.
    let text: string | null | undefined;
    try {
      text = value === undefined ? undefined : json(value, `context ${scope}/${key}`);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const previous = this.queues.get(scope) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.write(scope, key, text));
    this.queues.set(scope, next);
    void next.finally(() => {
      if (this.queues.get(scope) === next) this.queues.delete(scope);
    });
    return next;
  }

  /** Wait for the writes queued so far (shutdown, tests). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.queues.values()]);
  }

  private get where(): string {
    return `${this.options.url} (state store "${this.options.store}")`;
  }

  private async write(scope: string, key: string, text: string | null | undefined): Promise<void> {
    const entry = entryKey(scope, key);
    for (let attempt = 0; ; attempt++) {
      let index = this.indexes.get(scope);
      if (!index) this.indexes.set(scope, (index = await this.readIndex(scope)));
      const present = index.keys.has(key);
      if (text !== undefined && present) {
        // The key set does not change: the entry alone.
        await this.call(`write context "${scope}" key "${key}"`, 'POST', '', [{ key: entry, value: JSON.parse(text ?? 'null') as unknown }]);
        return;
      }
      if (text === undefined && !present) return;
      if (index.etag === undefined) {
        // A scope's first key: create its empty index as first writer (a second creator is refused, its write then
        // goes through the etag path below), so every later key-set change can be guarded by the index's etag.
        await this.fetch(`create the index of context "${scope}"`, 'POST', '', [{ key: indexKey(scope), value: [], options: { concurrency: 'first-write' } }], 'etag').catch((error: unknown) => {
          if (!(error instanceof EtagConflict)) throw error;
        });
        this.indexes.delete(scope);
        continue;
      }
      const keys = new Set(index.keys);
      if (text === undefined) keys.delete(key);
      else keys.add(key);
      const indexWrite = { key: indexKey(scope), value: [...keys], etag: index.etag, options: { concurrency: 'first-write' } };
      const operations = [
        text === undefined ? { operation: 'delete', request: { key: entry } } : { operation: 'upsert', request: { key: entry, value: JSON.parse(text ?? 'null') as unknown } },
        { operation: 'upsert', request: indexWrite },
      ];
      try {
        await this.call(`write context "${scope}" key "${key}"`, 'POST', '/transaction', { operations }, 'etag');
        // The new etag is not returned by a transaction: read the index again before the next key-set change.
        this.indexes.delete(scope);
        return;
      } catch (error) {
        if (!(error instanceof EtagConflict) || attempt >= MAX_INDEX_RETRIES) throw error;
        this.indexes.delete(scope); // another process changed the scope's keys: merge with what it wrote
      }
    }
  }

  private async readIndex(scope: string): Promise<Index> {
    const response = await this.fetch(`read context "${scope}"`, 'GET', `/${encodeURIComponent(indexKey(scope))}`);
    if (response.status === 204) return { keys: new Set(), etag: undefined };
    const keys = (await response.json()) as unknown;
    if (!Array.isArray(keys)) throw new Error(`Dapr context store ${this.where}: the index of context "${scope}" is not a list of keys`);
    return { keys: new Set(keys.map(String)), etag: response.headers.get('etag') ?? undefined };
  }

  private async call(operation: string, method: string, path: string, body: unknown, conflicts?: 'etag'): Promise<unknown> {
    const response = await this.fetch(operation, method, path, body, conflicts);
    const text = await response.text();
    return text ? (JSON.parse(text) as unknown) : undefined;
  }

  private async fetch(operation: string, method: string, path: string, body?: unknown, conflicts?: 'etag'): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.apiToken) headers['dapr-api-token'] = this.options.apiToken;
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
    } catch (error) {
      throw new Error(`Dapr context store ${this.where}: ${operation} failed: ${(error as Error).message}${(error as { cause?: Error }).cause ? ` (${(error as { cause: Error }).cause.message})` : ''}`);
    }
    if (response.ok) return response;
    const text = await response.text();
    // Dapr answers a failed etag check with 409; state.redis inside a transaction (and a refused first write) with a
    // 500 whose message says "failed to set key".
    if (conflicts === 'etag' && (response.status === 409 || /failed to set key|etag mismatch/i.test(text))) throw new EtagConflict();
    throw new Error(`Dapr context store ${this.where}: ${operation} failed: ${response.status} ${text}`);
  }
}

class EtagConflict extends Error {}

const entryKey = (scope: string, key: string) => `ctx|${encodeURIComponent(scope)}|${encodeURIComponent(key)}`;
const indexKey = (scope: string) => `ctx-index|${encodeURIComponent(scope)}`;
