/**
 * Keep a collection in step with a list of knowledge sources: a source is embedded when it is new or its content
 * hash changed, left alone when not, and removed when it is no longer listed. What CrewAI 1.x does for a crew's
 * knowledge_sources, with the vector store the pack already uses.
 */
import type { ModelProvider } from '../providers/types.ts';
import type { ChunkOptions } from './chunking.ts';
import { embeddingIdentity, ingestDocuments } from './knowledge.ts';
import { fetchSource, type KnowledgeSourceSpec, type SourceEnvironment } from './sources.ts';
import type { VectorStore } from './vector-store.ts';

export interface SyncResult {
  embedded: string[];
  unchanged: string[];
  removed: string[];
  /** The collection was embedded with another model: dropped and embedded again from the sources. */
  rebuilt?: string;
}

export async function syncKnowledge(
  store: VectorStore,
  provider: ModelProvider,
  collection: string,
  specs: KnowledgeSourceSpec[],
  chunking: ChunkOptions,
  env: SourceEnvironment,
): Promise<SyncResult> {
  const result: SyncResult = { embedded: [], unchanged: [], removed: [] };
  // Knowledge is derived from its sources: vectors of another model are rebuilt, not refused.
  const existing = await store.getCollection(collection);
  if (existing && existing.embeddingModel !== embeddingIdentity(provider)) {
    await store.dropCollection(collection);
    result.rebuilt = `embedded with ${existing.embeddingModel}, now ${embeddingIdentity(provider)}`;
  }
  const stored = new Map((await store.sources(collection)).map((s) => [s.source, s.contentHash]));
  const listed = new Set<string>();
  for (const spec of specs) {
    const fetched = await fetchSource(spec, env);
    listed.add(fetched.source);
    if (stored.get(fetched.source) === fetched.contentHash) {
      result.unchanged.push(fetched.source);
      continue;
    }
    const text = await fetched.text();
    await ingestDocuments(store, provider, collection, [{ text, source: fetched.source, metadata: { contentHash: fetched.contentHash } }], chunking, env.signal);
    result.embedded.push(fetched.source);
  }
  for (const source of stored.keys()) {
    if (listed.has(source)) continue;
    await store.deleteSource(collection, source);
    result.removed.push(source);
  }
  return result;
}
