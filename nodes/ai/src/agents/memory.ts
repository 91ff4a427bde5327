/**
 * An agent's memory: what it produced on earlier tasks, embedded and stored in the vector store, recalled by
 * similarity to the task at hand. It persists across runs (that is the point), in its own collection per agent.
 */
import { randomUUID } from 'node:crypto';
import { embeddingIdentity, searchCollection } from '../memory/knowledge.ts';
import type { VectorStore } from '../memory/vector-store.ts';
import type { ModelProvider } from '../providers/types.ts';

const MAX_MEMORY_CHARS = 1500;
const RECALL = 3;

/** What an agent remembers with: its own memory, or its crew's (short-term, long-term, entities). */
export interface Memory {
  /** Texts worth showing the agent for this task, most relevant first. */
  recall(query: string, signal?: AbortSignal): Promise<string[]>;
  /** After a task: keep what it produced. */
  remember(task: string, output: string, signal?: AbortSignal): Promise<void>;
}

/** Knowledge the agent's tasks are grounded in (a crew's knowledge sources). */
export interface Knowledge {
  /** `meter`: the run whose usage and budget the query's embedding counts in. */
  search(query: string, signal?: AbortSignal, meter?: EmbeddingMeter): Promise<string[]>;
}

/** What embeddings are counted against (agents/metered-embeddings.ts). */
export type EmbeddingMeter = Pick<import('./agent.ts').AgentEnvironment, 'recordUsage' | 'beforeCall'>;

export class AgentMemory implements Memory {
  constructor(
    private readonly store: () => Promise<VectorStore>,
    private readonly provider: ModelProvider,
    readonly collection: string,
    /** Memories less similar than this are noise, not help. */
    private readonly minScore = 0.3,
  ) {}

  async recall(query: string, signal?: AbortSignal): Promise<string[]> {
    const store = await this.store();
    if (!(await store.getCollection(this.collection))) return [];
    const hits = await searchCollection(store, this.provider, this.collection, query, { topK: RECALL, minScore: this.minScore, signal });
    return hits.map((h) => h.text);
  }

  async remember(task: string, output: string, signal?: AbortSignal): Promise<void> {
    const text = `Task: ${task}\nResult: ${output}`.slice(0, MAX_MEMORY_CHARS);
    const [vector] = await this.provider.embed([text], signal);
    const store = await this.store();
    await store.ensureCollection({ name: this.collection, dimensions: vector!.length, embeddingModel: embeddingIdentity(this.provider) });
    await store.upsert(this.collection, [{ id: randomUUID(), source: 'memory', text, metadata: { at: new Date().toISOString() }, vector: vector! }]);
  }
}
