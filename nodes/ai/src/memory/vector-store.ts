/**
 * The vector store contract shared by the PostgreSQL (pgvector) and embedded SQLite (sqlite-vec) stores, and the
 * choice between them, which follows the runtime's own storage: PostgreSQL when the runtime runs on it, SQLite
 * next to the runtime's data otherwise. Similarity is cosine in both, reported as a score in [-1, 1].
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ResourceLease, ResourceServices, RuntimeServices } from '@flowcrew/sdk';

export interface VectorRecord {
  /** Unique within the collection; re-using an id replaces the record. */
  id: string;
  /** Where the text came from (file name, URL, 'memory'...); ingesting a source again replaces its records. */
  source: string;
  text: string;
  metadata?: Record<string, unknown>;
  vector: number[];
}

export interface VectorHit {
  id: string;
  source: string;
  text: string;
  metadata: Record<string, unknown>;
  score: number;
}

export interface CollectionInfo {
  name: string;
  dimensions: number;
  /** Which embedding model filled it: vectors from different models are not comparable. */
  embeddingModel: string;
}

export interface VectorStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Create the collection, or check that an existing one was built with the same model and dimensions. */
  ensureCollection(info: CollectionInfo): Promise<void>;
  getCollection(name: string): Promise<CollectionInfo | undefined>;
  upsert(collection: string, records: VectorRecord[]): Promise<void>;
  /** Remove every record of a source; returns how many went. */
  deleteSource(collection: string, source: string): Promise<number>;
  query(collection: string, vector: number[], topK: number): Promise<VectorHit[]>;
  count(collection: string): Promise<number>;
  /** Each source in the collection with the content hash it was embedded from (metadata.contentHash), if recorded. */
  sources(collection: string): Promise<Array<{ source: string; contentHash?: string }>>;
  dropCollection(collection: string): Promise<void>;
  close(): Promise<void>;
}

export function checkCollection(existing: CollectionInfo, wanted: CollectionInfo): void {
  if (existing.dimensions !== wanted.dimensions || existing.embeddingModel !== wanted.embeddingModel) {
    throw new Error(
      `collection "${wanted.name}" holds ${existing.dimensions}-dimension vectors from ${existing.embeddingModel}; ` +
        `this node embeds with ${wanted.embeddingModel} (${wanted.dimensions} dimensions). Use the same model or another collection.`,
    );
  }
}

export function missingCollection(name: string): Error {
  return new Error(`collection "${name}" does not exist (ingest into it with a knowledge node first)`);
}

export function checkVector(vector: number[], dimensions: number): void {
  if (vector.length !== dimensions) throw new Error(`vector has ${vector.length} dimensions, the collection ${dimensions}`);
  if (!vector.every(Number.isFinite)) throw new Error('vector contains a non-finite number');
}

export type StoreChoice = 'auto' | 'sqlite' | 'postgres';
export type StoreLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/** The SQLite database file for a throwaway runtime: one in-memory database per process. */
const IN_MEMORY = ':memory:';

/**
 * postgres: $FLOWCREW_VECTOR_DATABASE_URL, else the runtime's own database when it is PostgreSQL (RuntimeServices
 *           .database: the runtime says where it keeps its data; the pack does not read DATABASE_URL itself).
 * sqlite:   $FLOWCREW_VECTOR_SQLITE_PATH, else ai/vectors.db in the runtime's data directory (`dataDir`, from
 *           RuntimeServices), or in memory when that is ':memory:' (a throwaway runtime, the test harness).
 */
export function resolveStoreLocation(choice: StoreChoice, runtime: Pick<RuntimeServices, 'dataDir' | 'database'>, env: NodeJS.ProcessEnv = process.env): StoreLocation {
  const dataDir = runtime.dataDir;
  const postgresUrl = env.FLOWCREW_VECTOR_DATABASE_URL || (runtime.database.dialect === 'postgres' ? runtime.database.url : undefined);
  if (choice === 'postgres' || (choice === 'auto' && postgresUrl)) {
    if (!postgresUrl) throw new Error('vector store "postgres" needs FLOWCREW_VECTOR_DATABASE_URL or a runtime running on PostgreSQL (DATABASE_URL): set one, or set store to auto or sqlite');
    return { kind: 'postgres', url: postgresUrl };
  }
  if (env.FLOWCREW_VECTOR_SQLITE_PATH) return { kind: 'sqlite', path: path.resolve(env.FLOWCREW_VECTOR_SQLITE_PATH) };
  return { kind: 'sqlite', path: dataDir === IN_MEMORY ? IN_MEMORY : path.resolve(dataDir, 'ai', 'vectors.db') };
}

/** The resource key of a store: the database it is in (a URL's password only as part of a hash). */
export function vectorStoreKey(location: StoreLocation): string {
  if (location.kind === 'sqlite') return `ai:vectors:sqlite:${location.path}`;
  return `ai:vectors:postgres:${createHash('sha256').update(location.url).digest('hex').slice(0, 32)}`;
}

/** A store shared (through the runtime's pooled resources) by every node of the runtime that uses the same database. */
export function acquireVectorStore(resources: ResourceServices, location: StoreLocation): Promise<ResourceLease<VectorStore>> {
  const open = async (): Promise<VectorStore> => {
    // Imported on first use: a flow that never touches PostgreSQL never loads pg, and vice versa.
    if (location.kind === 'sqlite') return (await import('./sqlite-vec-store.ts')).SqliteVecStore.open(location.path);
    return (await import('./pgvector-store.ts')).PgVectorStore.open(location.url);
  };
  return resources.acquire(vectorStoreKey(location), open, (store) => store.close(), {
    // Nodes made per tool call come and go: keep the store open a while for the next one.
    idleMs: 30_000,
    // Closing an in-memory database would lose its data: it stays open while the (throwaway) runtime lives.
    keepOpen: location.kind === 'sqlite' && location.path === IN_MEMORY,
  });
}
