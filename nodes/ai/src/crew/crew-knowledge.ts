/**
 * A crew's knowledge sources (CrewAI 1.x `knowledge_sources` on the crew): kept in one collection per crew node,
 * brought up to date before a run (a source is embedded again only when its content hash changed; checked at most
 * every `refreshSeconds`), and searched by each task's description, the passages added to the task's prompt.
 */
import { meteredEmbeddings } from '../agents/metered-embeddings.ts';
import type { JsonSchema } from '@flowcrew/sdk';
import type { EmbeddingMeter, Knowledge } from '../agents/memory.ts';
import { searchCollection } from '../memory/knowledge.ts';
import { syncKnowledge, type SyncResult } from '../memory/knowledge-sync.ts';
import { knowledgeSourceSchema, type KnowledgeSourceSpec, type SourceEnvironment } from '../memory/sources.ts';
import type { VectorStore } from '../memory/vector-store.ts';
import type { ModelProvider } from '../providers/types.ts';

export interface CrewKnowledgeConfig {
  sources?: KnowledgeSourceSpec[];
  topK?: number;
  minScore?: number;
  chunkSize?: number;
  chunkOverlap?: number;
  refreshSeconds?: number;
}

export const crewKnowledgeSchema: JsonSchema = {
  type: 'object',
  title: 'Knowledge',
  description: "CrewAI's knowledge sources: files in the knowledge directory (text, Markdown, PDF, CSV, JSON, HTML), web pages, text, or what a connector node returns; embedded once, again when they change.",
  properties: {
    sources: { type: 'array', items: knowledgeSourceSchema, default: [] },
    topK: { type: 'integer', minimum: 1, maximum: 20, default: 3, description: 'Passages added to each task.' },
    minScore: { type: 'number', minimum: -1, maximum: 1, default: 0.3, description: 'Leave out passages less similar than this.' },
    chunkSize: { type: 'integer', minimum: 100, maximum: 20_000, default: 1000 },
    chunkOverlap: { type: 'integer', minimum: 0, maximum: 5000, default: 150 },
    refreshSeconds: { type: 'integer', minimum: 0, default: 300, description: 'Check the sources for changes at most this often (0: before every run).' },
  },
  additionalProperties: false,
};

export class CrewKnowledge implements Knowledge {
  private lastSync: { at: number; done: Promise<SyncResult> } | undefined;

  constructor(
    private readonly config: CrewKnowledgeConfig,
    private readonly provider: ModelProvider,
    private readonly store: () => Promise<VectorStore>,
    readonly collection: string,
    private readonly env: Omit<SourceEnvironment, 'signal'>,
    private readonly now: () => number = Date.now,
  ) {}

  get active(): boolean {
    return (this.config.sources?.length ?? 0) > 0;
  }

  /** Bring the collection up to date, unless that was done less than refreshSeconds ago; the result when it ran now. */
  /** `meter`: the run whose usage and budget the embedding of changed sources counts in. */
  /** `callNode`: runs a connector node source (the run's tool call). */
  async refresh(signal?: AbortSignal, meter?: EmbeddingMeter, callNode?: SourceEnvironment['callNode']): Promise<SyncResult | undefined> {
    const every = (this.config.refreshSeconds ?? 300) * 1000;
    const last = this.lastSync;
    if (last && this.now() - last.at < every) {
      await last.done; // a run arriving while another syncs waits for that sync
      return undefined;
    }
    const done = (async () =>
      syncKnowledge(await this.store(), this.metered(meter), this.collection, this.config.sources ?? [], { size: this.config.chunkSize ?? 1000, overlap: this.config.chunkOverlap ?? 150 }, { ...this.env, signal, ...(callNode ? { callNode } : {}) }))();
    this.lastSync = { at: this.now(), done };
    try {
      return await done;
    } catch (error) {
      this.lastSync = undefined; // a source that failed (a page down) is tried again by the next run
      throw error;
    }
  }

  async search(query: string, signal?: AbortSignal, meter?: EmbeddingMeter): Promise<string[]> {
    const store = await this.store();
    if (!(await store.getCollection(this.collection))) return [];
    const hits = await searchCollection(store, this.metered(meter), this.collection, query, { topK: this.config.topK ?? 3, minScore: this.config.minScore ?? 0.3, signal });
    return hits.map((h) => `${h.text} (source: ${h.source})`);
  }

  private metered(meter: EmbeddingMeter | undefined): ModelProvider {
    return meter ? meteredEmbeddings(this.provider, meter, 'knowledge') : this.provider;
  }
}
