/** ai-knowledge (ingest text and files into a collection) and ai-retrieve (top-k passages with scores, usable as an agent tool). */
import { createHash } from 'node:crypto';
import { NodeInputError, defineNode, type FlowMessage, type JsonSchema, type NodeInit } from '@flowcrew/sdk';
import { ingestDocuments, searchCollection, type KnowledgeDocument } from '../memory/knowledge.ts';
import type { StoreChoice } from '../memory/vector-store.ts';
import type { ModelProvider } from '../providers/types.ts';
import { flowBudgetSchema, runBudgetSchema, type BudgetLimits, type FlowBudgetLimits } from '../crew/budget.ts';
import { checkPriced, meteredForNode } from './crew-accounting.ts';
import { MODEL_HELP, modelCredentials, selectModelForNode, type ModelProps } from './model-selection.ts';
import { modelAndStoreProps, StoreHandle } from './node-resources.ts';

/** Props of both nodes: which collection, embedded with which model, in which store, within which budgets. */
interface CollectionProps extends ModelProps {
  collection: string;
  store?: StoreChoice;
  budget?: BudgetLimits;
  flowBudget?: FlowBudgetLimits;
}

/** The props schema of a collection node: the collection, the node's own props, then model and store. */
function collectionPropsSchema(own: Record<string, JsonSchema>): JsonSchema {
  return {
    type: 'object',
    required: ['collection'],
    properties: {
      collection: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_.:-]+$', description: 'Collection name, e.g. product-docs.' },
      ...own,
      ...modelAndStoreProps,
      budget: runBudgetSchema,
      flowBudget: flowBudgetSchema,
    },
  };
}

/** What a collection node holds from deploy: the model that embeds, and the store (taken on first use, released on close). */
function openCollection(init: NodeInit<CollectionProps>): { provider: ModelProvider; store: StoreHandle } {
  const provider = selectModelForNode(init).provider();
  checkPriced([{ name: 'the embedding model', provider }], [init.props.budget, init.props.flowBudget]);
  return { provider, store: new StoreHandle(init.props.store ?? 'auto', init.services) };
}

const BUDGET_HELP = `**Usage and budgets**: the tokens each embedding call took (the server's count; the local model's tokenizer) and their
cost (the credential's input price) are recorded on the run like a chat call's, and count against \`budget\` (this
node, per message) and \`flowBudget\` (every AI node of the flow, per UTC day, month or in total), which stop the node
before a call once spent.`;

export interface KnowledgeProps extends CollectionProps {
  chunkSize?: number;
  chunkOverlap?: number;
}

export const knowledgeNode = defineNode<KnowledgeProps>({
  type: 'ai-knowledge',
  category: 'ai',
  label: 'Knowledge base',
  icon: 'library_books',
  color: '#d6cbf7',
  inputs: 1,
  outputs: 1,
  credentials: modelCredentials,
  props: collectionPropsSchema({
    chunkSize: { type: 'integer', minimum: 100, maximum: 20_000, default: 1000, description: 'Max characters per chunk.' },
    chunkOverlap: { type: 'integer', minimum: 0, maximum: 5000, default: 150, description: 'Characters repeated between neighbouring chunks.' },
  }),
  help: `Adds documents to a knowledge collection: splits them into overlapping chunks, embeds each chunk with the
node's model and stores it in the vector store, where **ai-retrieve** (and agents using it as a tool) can find it.

**Input** (\`msg.payload\`): text; a file's contents as a Buffer (from a file node; UTF-8 text only) with
\`msg.filename\` as its source; \`{ text, source?, metadata? }\`; or an array of these. Ingesting a source again
replaces its chunks, so it is safe to repeat. Plain text without a source is keyed by a hash of its content.

**Output**: \`msg.payload\` = \`{ collection, sources: [{ source, chunks }], chunks, dimensions }\`.

A collection remembers the embedding model that filled it; searching or adding with another model is refused.

${BUDGET_HELP}

${MODEL_HELP}`,
  create(init) {
    const props = init.props;
    const { provider, store } = openCollection(init);
    const chunking = { size: props.chunkSize ?? 1000, overlap: props.chunkOverlap ?? 150 };
    return {
      async onInput(msg, ctx) {
        const documents = documentsFrom(msg);
        ctx.status({ fill: 'blue', shape: 'dot', text: `ingesting ${documents.length} document${documents.length === 1 ? '' : 's'}` });
        const result = await ingestDocuments(await store.get(), meteredForNode(provider, ctx, props, 'ai-knowledge'), props.collection, documents, chunking, ctx.signal);
        ctx.status({ fill: 'green', shape: 'dot', text: `${result.chunks} chunks in ${props.collection}` });
        return { ...msg, payload: result };
      },
      async close() {
        await store.release();
      },
    };
  },
});

function documentsFrom(msg: FlowMessage): KnowledgeDocument[] {
  const items = Array.isArray(msg.payload) ? msg.payload : [msg.payload];
  if (items.length === 0) throw new NodeInputError('nothing to ingest: msg.payload is an empty array');
  const single = items.length === 1;
  // A lone text or file takes msg.filename (a file node's) as its source.
  const plain = (text: string): KnowledgeDocument => ({ text, source: single && typeof msg.filename === 'string' ? msg.filename : contentSource(text) });
  return items.map((item, i) => {
    const where = single ? 'msg.payload' : `msg.payload[${i}]`;
    if (typeof item === 'string') return plain(item);
    if (item instanceof Uint8Array) return plain(decodeText(item, where));
    if (item && typeof item === 'object') {
      const doc = item as { text?: unknown; content?: unknown; source?: unknown; metadata?: unknown };
      const raw = doc.text ?? doc.content;
      const text = raw instanceof Uint8Array ? decodeText(raw, `${where}.text`) : raw;
      if (typeof text !== 'string') throw new NodeInputError(`${where} must be text, a Buffer, or { text, source?, metadata? }`);
      const metadata = doc.metadata && typeof doc.metadata === 'object' ? (doc.metadata as Record<string, unknown>) : undefined;
      return { text, source: typeof doc.source === 'string' && doc.source ? doc.source : contentSource(text), ...(metadata ? { metadata } : {}) };
    }
    throw new NodeInputError(`${where} must be text, a Buffer, or { text, source?, metadata? } (got ${item === null ? 'null' : typeof item})`);
  });
}

function decodeText(bytes: Uint8Array, where: string): string {
  // NUL bytes mean a binary format (PDF, Office, images); decoding it as text would store garbage.
  if (bytes.includes(0)) throw new NodeInputError(`${where} is a binary file; only text files (UTF-8) can be ingested`);
  return new TextDecoder('utf-8').decode(bytes);
}

function contentSource(text: string): string {
  return `text:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

export interface RetrieveProps extends CollectionProps {
  query?: string;
  topK?: number;
  minScore?: number;
}

export const retrieveNode = defineNode<RetrieveProps>({
  type: 'ai-retrieve',
  category: 'ai',
  label: 'Retrieve',
  icon: 'manage_search',
  color: '#d6cbf7',
  inputs: 1,
  outputs: 1,
  usableAsTool: true,
  credentials: modelCredentials,
  props: collectionPropsSchema({
    query: { type: 'string', default: '', description: 'What to search for. Empty: msg.payload.' },
    topK: { type: 'integer', minimum: 1, maximum: 50, default: 4, description: 'How many passages to return.' },
    minScore: { type: 'number', minimum: -1, maximum: 1, default: 0, description: 'Leave out passages less similar than this (cosine similarity).' },
  }),
  help: `Searches a knowledge collection for the passages most similar to a query and returns them with their scores.

**Input**: the query in \`query\`, else \`msg.payload\` (text).
**Output**: \`msg.payload\` = \`[{ text, score, source, metadata }]\`, best first (score: cosine similarity, 1 = identical).

As an **agent tool**, fix \`collection\` (and the model settings) in the agent's tool props so the model only fills
in \`query\` (and maybe \`topK\`). Use the same model as the knowledge node that filled the collection.

${BUDGET_HELP}

${MODEL_HELP}`,
  create(init) {
    const props = init.props;
    const { provider, store } = openCollection(init);
    return {
      async onInput(msg, ctx) {
        const query = props.query || (typeof msg.payload === 'string' ? msg.payload : '');
        if (!query.trim()) throw new NodeInputError('no query: set the query prop or send the query as msg.payload (text)');
        const hits = await searchCollection(await store.get(), meteredForNode(provider, ctx, props, 'ai-retrieve'), props.collection, query, { topK: props.topK ?? 4, minScore: props.minScore ?? 0, signal: ctx.signal });
        return { ...msg, query, payload: hits.map((h) => ({ text: h.text, score: Math.round(h.score * 10_000) / 10_000, source: h.source, metadata: h.metadata })) };
      },
      async close() {
        await store.release();
      },
    };
  },
});
