/**
 * A crew's memory, as CrewAI 1.x's `memory=True`: short-term (what this run's tasks produced, searched by
 * similarity), long-term (task results of earlier runs, in the vector store) and entities (people, organisations,
 * products... named in the results, extracted by the model, kept across runs and updated by name). By default one
 * memory per crew node, its collections named by project, flow and node; with scope 'project', one named memory shared by the
 * crews of the flow's project that name it (CrewAI keeps a project's memory in one store), never by another project.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { JsonSchema } from '@flowcrew/sdk';
import type { Memory } from '../agents/memory.ts';
import { embeddingIdentity } from '../memory/knowledge.ts';
import type { VectorStore } from '../memory/vector-store.ts';
import type { ModelProvider } from '../providers/types.ts';

export interface CrewMemoryConfig {
  shortTerm?: boolean;
  longTerm?: boolean;
  entities?: boolean;
  scope?: 'crew' | 'project';
  name?: string;
}

export const crewMemorySchema: JsonSchema = {
  type: 'object',
  title: 'Crew memory',
  description: "CrewAI's crew memory: short-term (this run), long-term (earlier runs) and entities, shared by the crew's agents.",
  properties: {
    shortTerm: { type: 'boolean', default: false, description: "Agents recall what this run's earlier tasks produced." },
    longTerm: { type: 'boolean', default: false, description: 'Task results are kept across runs (vector store) and recalled when relevant.' },
    entities: { type: 'boolean', default: false, description: 'People, organisations, products... named in results are extracted (one model call per task) and recalled.' },
    scope: {
      enum: ['crew', 'project'],
      default: 'crew',
      description: "Whose long-term and entity memory: this crew node's own, or one shared by the crews of this flow's project that name the same memory (never by another project).",
    },
    name: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$', default: 'default', description: "With scope 'project': which of the project's memories." },
  },
  additionalProperties: false,
};

export interface Entity {
  name: string;
  type: string;
  description: string;
}

export const ENTITY_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    entities: {
      type: 'array',
      maxItems: 8,
      items: {
        type: 'object',
        properties: { name: { type: 'string', minLength: 1, maxLength: 80 }, type: { type: 'string', maxLength: 40 }, description: { type: 'string', maxLength: 300 } },
        required: ['name', 'type', 'description'],
        additionalProperties: false,
      },
    },
  },
  required: ['entities'],
  additionalProperties: false,
};

const MAX_TEXT_CHARS = 1500;
const RECALL = 3;

/**
 * The collection prefix of a crew's memory: its node's own in its project, or the project's memory of that name.
 * A crew's own memory is keyed by project too: flow ids are reused after a delete, and a flow made again with the
 * same id in another project must not find the old crew's memory.
 */
export function crewMemoryScope(config: CrewMemoryConfig, node: { flowId: string; id: string; projectId?: string | undefined }): string {
  if (config.scope !== 'project') return node.projectId === undefined ? legacyCrewScope(node) : `crew-in:${node.projectId}:${node.flowId}:${node.id}`;
  if (node.projectId === undefined) throw new Error("crew memory scope 'project' needs a host that runs flows in projects (the Flowcrew runtime); this one gives the node no project");
  return `crew-project:${node.projectId}:${config.name ?? 'default'}`;
}

/** Where a crew's own memory was kept before it was keyed by project (still read, see LegacyMemory). */
export function legacyCrewScope(node: { flowId: string; id: string }): string {
  return `crew:${node.flowId}:${node.id}`;
}

export function memoryEnabled(config: CrewMemoryConfig | undefined): config is CrewMemoryConfig {
  return Boolean(config?.shortTerm || config?.longTerm || config?.entities);
}

export interface CrewMemoryOptions {
  config: CrewMemoryConfig;
  /** Embeds what is remembered and what is asked. */
  provider: ModelProvider;
  /** The vector store (long-term and entities). */
  store: () => Promise<VectorStore>;
  /** Collection name prefix, e.g. 'crew:<flowId>:<nodeId>'. */
  scope: string;
  /** Extract entities from a result (a model call that counts in the run's usage and budget). */
  extractEntities?: (text: string, signal?: AbortSignal) => Promise<Entity[]>;
  /** Results less similar than this are noise, not help. */
  minScore?: number;
  /** Memory kept before `scope` was keyed by project: recalled (never written) once this project owns it. */
  legacy?: LegacyMemory;
}

/** One run's view of the crew's memory: short-term lives and dies with it. */
export class CrewMemory implements Memory {
  private readonly shortTerm: Array<{ text: string; vector: number[] }> = [];

  constructor(private readonly options: CrewMemoryOptions) {}

  get longTermCollection(): string {
    return `${this.options.scope}:long-term`;
  }

  get entityCollection(): string {
    return `${this.options.scope}:entities`;
  }

  async recall(query: string, signal?: AbortSignal): Promise<string[]> {
    const { config, provider } = this.options;
    const minScore = this.options.minScore ?? 0.3;
    const [vector] = await provider.embed([query], signal);
    const found: string[] = [];
    if (config.shortTerm) {
      const near = this.shortTerm.map((m) => ({ text: m.text, score: cosine(m.vector, vector!) })).filter((m) => m.score >= minScore);
      near.sort((a, b) => b.score - a.score);
      found.push(...near.slice(0, RECALL).map((m) => `Earlier in this run: ${m.text}`));
    }
    const scopes = [this.options.scope];
    const legacy = this.options.legacy;
    if ((config.longTerm || config.entities) && legacy && (await claimLegacyMemory(await this.options.store(), legacy))) scopes.push(legacy.scope);
    for (const scope of scopes) {
      if (config.longTerm) found.push(...(await this.search(`${scope}:long-term`, vector!, minScore)).map((t) => `From an earlier run: ${t}`));
    }
    for (const scope of scopes) {
      if (config.entities) found.push(...(await this.search(`${scope}:entities`, vector!, minScore)).map((t) => `Known entity: ${t}`));
    }
    return [...new Set(found)];
  }

  async remember(task: string, output: string, signal?: AbortSignal): Promise<void> {
    const { config, provider } = this.options;
    const text = `Task: ${task}\nResult: ${output}`.slice(0, MAX_TEXT_CHARS);
    const [vector] = await provider.embed([text], signal);
    if (config.shortTerm) this.shortTerm.push({ text, vector: vector! });
    if (config.longTerm) {
      await this.upsert(this.longTermCollection, [{ id: randomUUID(), source: 'long-term', text, metadata: { at: new Date().toISOString() } }], [vector!]);
    }
    if (config.entities && this.options.extractEntities) {
      const entities = await this.options.extractEntities(output.slice(0, MAX_TEXT_CHARS), signal);
      if (entities.length === 0) return;
      const texts = entities.map((e) => `${e.name} (${e.type}): ${e.description}`);
      const vectors = await provider.embed(texts, signal);
      // One record per entity name: what a later run learns about it replaces what an earlier one said.
      const records = entities.map((e, i) => ({ id: `entity:${createHash('sha256').update(e.name.trim().toLowerCase()).digest('hex').slice(0, 32)}`, source: 'entities', text: texts[i]!, metadata: { name: e.name, type: e.type } }));
      await this.upsert(this.entityCollection, records, vectors);
    }
  }

  private async search(collection: string, vector: number[], minScore: number): Promise<string[]> {
    const store = await this.options.store();
    const info = await store.getCollection(collection);
    if (!info) return [];
    if (info.embeddingModel !== embeddingIdentity(this.options.provider)) {
      throw new Error(`crew memory "${collection}" was built with ${info.embeddingModel}; this crew embeds with ${embeddingIdentity(this.options.provider)}`);
    }
    const hits = await store.query(collection, vector, RECALL);
    return hits.filter((h) => h.score >= minScore).map((h) => h.text);
  }

  private async upsert(collection: string, records: Array<{ id: string; source: string; text: string; metadata: Record<string, unknown> }>, vectors: number[][]): Promise<void> {
    const store = await this.options.store();
    await store.ensureCollection({ name: collection, dimensions: vectors[0]!.length, embeddingModel: embeddingIdentity(this.options.provider) });
    await store.upsert(collection, records.map((r, i) => ({ ...r, vector: vectors[i]! })));
  }
}

/** A crew's memory from before it was keyed by project, and the project now asking for it. */
export interface LegacyMemory {
  scope: string;
  projectId: string;
}

/**
 * Whether the project may read a crew's pre-project memory. Flows never change project, so the old key's memory is
 * the project's that runs that flow id first after the upgrade: that project claims it (a marker collection whose one
 * record's source is the project). After that, a flow made again with the same id in another project is refused it.
 */
export async function claimLegacyMemory(store: VectorStore, legacy: LegacyMemory): Promise<boolean> {
  const marker = `${legacy.scope}:owner`;
  const owner = await store.getCollection(marker) ? (await store.sources(marker))[0]?.source : undefined;
  if (owner !== undefined) return owner === legacy.projectId;
  const exists = async (kind: string) => (await store.getCollection(`${legacy.scope}:${kind}`)) !== undefined;
  if (!(await exists('long-term')) && !(await exists('entities'))) return false; // nothing to claim
  await store.ensureCollection({ name: marker, dimensions: 1, embeddingModel: 'none (ownership marker)' });
  await store.upsert(marker, [{ id: 'owner', source: legacy.projectId, text: 'the project that owns this crew memory', vector: [1] }]);
  return true;
}

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}
