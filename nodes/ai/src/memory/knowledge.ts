/** Ingest documents into a collection (chunk, embed, store) and search it: what the knowledge, retrieve and memory features share. */
import type { ModelProvider } from '../providers/types.ts';
import { chunkText, type ChunkOptions } from './chunking.ts';
import { missingCollection, type VectorHit, type VectorRecord, type VectorStore } from './vector-store.ts';

export interface KnowledgeDocument {
  text: string;
  source: string;
  metadata?: Record<string, unknown>;
}

export interface IngestResult {
  collection: string;
  sources: Array<{ source: string; chunks: number }>;
  chunks: number;
  dimensions: number;
}

/** Embed this many chunks per provider call. */
const EMBED_BATCH = 32;

/** Which model's vector space a collection is in. */
export function embeddingIdentity(provider: ModelProvider): string {
  return `${provider.kind}:${provider.embeddingModel ?? provider.model}`;
}

export async function embedAll(provider: ModelProvider, texts: string[], signal?: AbortSignal): Promise<number[][]> {
  const vectors: number[][] = [];
  for (let i = 0; i < texts.length; i += EMBED_BATCH) vectors.push(...(await provider.embed(texts.slice(i, i + EMBED_BATCH), signal)));
  return vectors;
}

/** Re-ingesting a source replaces its chunks, so ingestion is safe to repeat. */
export async function ingestDocuments(
  store: VectorStore,
  provider: ModelProvider,
  collection: string,
  documents: KnowledgeDocument[],
  chunking: ChunkOptions,
  signal?: AbortSignal,
): Promise<IngestResult> {
  const result: IngestResult = { collection, sources: [], chunks: 0, dimensions: 0 };
  for (const doc of documents) {
    const chunks = chunkText(doc.text, chunking);
    // Embed before touching the store: a failed embedding call leaves the previous version of the source intact.
    const vectors = await embedAll(provider, chunks.map((c) => c.text), signal);
    if (vectors[0]) {
      result.dimensions = vectors[0].length;
      await store.ensureCollection({ name: collection, dimensions: vectors[0].length, embeddingModel: embeddingIdentity(provider) });
    }
    await store.deleteSource(collection, doc.source);
    const records: VectorRecord[] = chunks.map((c, i) => ({
      id: `${doc.source}#${c.index}`,
      source: doc.source,
      text: c.text,
      metadata: { ...doc.metadata, chunk: c.index },
      vector: vectors[i]!,
    }));
    await store.upsert(collection, records);
    result.sources.push({ source: doc.source, chunks: records.length });
    result.chunks += records.length;
  }
  return result;
}

export async function searchCollection(
  store: VectorStore,
  provider: ModelProvider,
  collection: string,
  query: string,
  options: { topK: number; minScore?: number; signal?: AbortSignal },
): Promise<VectorHit[]> {
  const info = await store.getCollection(collection);
  if (!info) throw missingCollection(collection);
  if (info.embeddingModel !== embeddingIdentity(provider)) {
    throw new Error(`collection "${collection}" was built with ${info.embeddingModel}; searching it with ${embeddingIdentity(provider)} would compare unrelated vectors`);
  }
  const [vector] = await provider.embed([query], options.signal);
  const hits = await store.query(collection, vector!, options.topK);
  return hits.filter((h) => h.score >= (options.minScore ?? -1));
}
