/**
 * A GGUF model run in-process with node-llama-cpp. Each model file is loaded once per process and shared by
 * every node that names it; its context has a few chat sequences (each with a KV cache of its own, see
 * chatSequences) and one embedding context. A call takes a free sequence, preferring the one that last served the
 * same system prompt (node-llama-cpp then reuses the evaluated prefix: system prompt, earlier turns), so calls of
 * a crew's async tasks run side by side (node-llama-cpp evaluates their tokens in one batch) and agents taking turns
 * keep their prefixes. A call on a busy sequence waits for it with lifecycle-utils' withLock (node-llama-cpp's own
 * lock helper): two generations never share one KV cache.
 *
 * The context is opened at the model's trained window (8,192 tokens for SmolLM2). Before each call the prompt is
 * rendered with the model's chat template and counted, so the window is checked by an explicit policy (see
 * context-window.ts) and the prompt token count is the prompt's size whatever part of it the cache held.
 *
 * Nothing is downloaded or compiled at run time: `build: 'never'` uses the prebuilt binaries from npm.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { isLockActive, withLock } from 'lifecycle-utils';
import type {
  ChatHistoryItem,
  ChatModelFunctionCall,
  ChatModelFunctions,
  Llama,
  LlamaChat,
  LlamaContext,
  LlamaContextSequence,
  LlamaEmbeddingContext,
  LlamaGrammar,
  LlamaModel,
} from 'node-llama-cpp';
import { ProviderError, errorMessage } from './errors.ts';
import { fitContextWindow, type CuttableText } from './context-window.ts';
import { toGbnfSchema } from './gbnf-schema.ts';
import type { ChatMessage, ChatRequest, ChatResult, ModelProvider, TokenUsage, ToolCallRequest } from './types.ts';

export interface LocalModelConfig {
  modelPath: string;
  /** Tokens of context; default (and at most) what the model was trained with. */
  contextSize?: number;
  /** CPU threads; default half the cores (llama.cpp's spinning threads collapse when they compete for every core). */
  threads?: number;
  /** Chat sequences (calls side by side), each with a KV cache of the full window; default chatSequences(). */
  sequences?: number;
}

/**
 * FLOWCREW_LLAMA_SEQUENCES, else 1. Each sequence holds a KV cache of the whole window (SmolLM2-135M: ~22 KB per
 * token, +185 MB RSS each at 8,192 tokens, measured). Measured on two shared CPU cores: two async calls side by side
 * took as long as or longer than one after the other (generation there is compute-bound, so batching gains nothing),
 * and a second sequence's different cache history changed a greedy answer of a hierarchical crew (one run 1,024
 * tokens instead of 58). On a GPU or with spare cores, raise it to run a crew's async tasks side by side.
 */
export function chatSequences(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.FLOWCREW_LLAMA_SEQUENCES ?? 1);
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new ProviderError(`FLOWCREW_LLAMA_SEQUENCES must be a whole number from 1 to 16, not "${env.FLOWCREW_LLAMA_SEQUENCES}"`, { retryable: false });
  return n;
}

/** One chat sequence of a loaded model: its own KV cache, and what it last served. */
interface ChatSlot {
  sequence: LlamaContextSequence;
  chat: LlamaChat;
  /** The system prompt of its last call (its cached prefix starts with it). */
  system?: string;
  lastUsed: number;
}

/** A local model that never emits an end token must still stop: this caps a call when the node sets no limit. */
const DEFAULT_MAX_TOKENS = 1024;

interface LoadedModel {
  model: LlamaModel;
  threads: number;
  context: LlamaContext;
  slots: ChatSlot[];
  embedding?: Promise<LlamaEmbeddingContext>;
  grammars: Map<string, Promise<LlamaGrammar>>;
}

let llamaPromise: Promise<Llama> | undefined;
/** Opened windows, by file, window size and sequences. */
const models = new Map<string, Promise<LoadedModel>>();
/** The weights, once per file: windows of other sizes share them (a second load cost seconds and its own memory). */
const modelFiles = new Map<string, Promise<LlamaModel>>();

/** Imported on first use: importing node-llama-cpp costs ~40 MB of RSS in every runtime, whether it runs a local model or not. */
const llamaCpp = () => import('node-llama-cpp');

function loadLlama(): Promise<Llama> {
  llamaPromise ??= llamaCpp().then(({ getLlama, LlamaLogLevel }) => getLlama({
    build: 'never',
    // GPU offload only when asked for: probing GPU backends costs start-up time on machines without one.
    gpu: process.env.FLOWCREW_LLAMA_GPU && process.env.FLOWCREW_LLAMA_GPU !== 'false' ? (process.env.FLOWCREW_LLAMA_GPU as 'auto') : false,
    logLevel: LlamaLogLevel.error,
    progressLogs: false,
  })).catch((error: unknown) => {
    llamaPromise = undefined;
    throw new ProviderError(`cannot start llama.cpp (node-llama-cpp prebuilt binaries): ${errorMessage(error)}`, { retryable: false, cause: error });
  });
  return llamaPromise;
}

function loadModel(config: LocalModelConfig): Promise<LoadedModel> {
  const file = path.resolve(config.modelPath);
  const sequences = config.sequences ?? chatSequences();
  // One window per file, size and sequences (a provider asking for a smaller window gets one of its own), one load per file.
  const key = `${file}#${config.contextSize ?? 'trained'}#${sequences}`;
  let loaded = models.get(key);
  if (!loaded) {
    loaded = (async () => {
      const model = await loadModelFile(file);
      const threads = config.threads ?? Math.max(1, Math.floor(availableParallelism() / 2));
      // contextSize is per sequence: each gets the whole window.
      const context = await model.createContext({ contextSize: Math.min(config.contextSize ?? model.trainContextSize, model.trainContextSize), threads, sequences });
      const { LlamaChat } = await llamaCpp();
      const slots = Array.from({ length: sequences }, () => {
        const sequence = context.getSequence();
        return { sequence, chat: new LlamaChat({ contextSequence: sequence }), lastUsed: 0 };
      });
      return { model, threads, context, slots, grammars: new Map() };
    })();
    models.set(key, loaded);
    loaded.catch(() => models.delete(key)); // A failed load is retried by the next call, not cached.
  }
  return loaded;
}

function loadModelFile(file: string): Promise<LlamaModel> {
  let model = modelFiles.get(file);
  if (!model) {
    model = loadLlama().then((llama) =>
      llama.loadModel({ modelPath: file }).catch((error: unknown) => {
        throw new ProviderError(`cannot load the local model ${file}: ${errorMessage(error)}. It must be a GGUF model file: check the path, or run scripts/fetch-model for the default model`, {
          retryable: false,
          cause: error,
        });
      }),
    );
    modelFiles.set(file, model);
    model.catch(() => modelFiles.delete(file));
  }
  return model;
}

/** Free every loaded model (tests, benchmarks, shutdown). */
export async function disposeLocalModels(): Promise<void> {
  const loaded = await Promise.allSettled([...models.values()]);
  const files = await Promise.allSettled([...modelFiles.values()]);
  models.clear();
  modelFiles.clear();
  for (const entry of loaded) {
    if (entry.status !== 'fulfilled') continue;
    const embedding = await entry.value.embedding?.catch(() => undefined);
    await embedding?.dispose();
    await entry.value.context.dispose();
  }
  for (const entry of files) if (entry.status === 'fulfilled') await entry.value.dispose();
}

export class LocalLlamaProvider implements ModelProvider {
  readonly kind = 'local-gguf';
  readonly model: string;

  constructor(private readonly config: LocalModelConfig) {
    this.model = path.basename(config.modelPath);
  }

  cost(): number {
    return 0;
  }

  /** The context window the model was opened with, in tokens (loads the model). */
  async contextWindow(): Promise<number> {
    return (await loadModel(this.config)).context.contextSize;
  }

  async chat(request: ChatRequest): Promise<ChatResult> {
    const loaded = await loadModel(this.config);
    const system = request.messages.find((m) => m.role === 'system')?.content;
    const slot = pickSlot(loaded.slots, system);
    slot.lastUsed = Date.now();
    return withLock([slot, 'chat'], request.signal, async () => {
      slot.system = system;
      slot.lastUsed = Date.now();
      const { chat, sequence } = slot;
      const { history, pendingFunctionCalls, texts } = toHistory(request.messages);
      const functions = request.tools?.length ? toFunctions(request) : undefined;
      // node-llama-cpp cannot combine a grammar with function calling; with tools the answer is validated later.
      const grammar = request.responseSchema && !functions ? await this.grammarFor(loaded, request.responseSchema) : undefined;
      const maxTokens = request.maxTokens ?? DEFAULT_MAX_TOKENS;
      const { tokenizer } = loaded.model;
      const fit = fitContextWindow({
        model: `local model ${this.model}`,
        window: loaded.context.contextSize,
        maxTokens,
        policy: request.contextOverflow ?? 'fail',
        // The prompt exactly as generateResponse renders it (chat template, tool descriptions), however much of it is cached.
        countPrompt: () => chat.chatWrapper.generateContextState({ chatHistory: history, availableFunctions: functions }).contextText.tokenize(tokenizer).length,
        texts,
        tokenize: (text) => tokenizer(text),
        keepEnds: (text, head, tail) => {
          const tokens = tokenizer(text);
          return { head: loaded.model.detokenize(tokens.slice(0, head)), tail: tail > 0 ? loaded.model.detokenize(tokens.slice(-tail)) : '' };
        },
      });
      const before = sequence.tokenMeter.getState();
      let response;
      try {
        response = await chat.generateResponse(history, {
          ...(functions ? { functions } : grammar ? { grammar } : {}),
          maxTokens,
          temperature: request.temperature ?? 0,
          signal: request.signal,
          onTextChunk: request.onText,
          // The window was checked above; should llama.cpp still run out of room, fail rather than drop turns silently.
          contextShift: {
            strategy: () => {
              throw new ProviderError(`local model ${this.model}: the conversation outgrew the ${loaded.context.contextSize}-token context window during generation`, { retryable: false });
            },
          },
        });
      } catch (error) {
        if (request.signal?.aborted) throw request.signal.reason ?? error;
        if (error instanceof ProviderError) throw error;
        throw new ProviderError(`local model ${this.model}: generation failed: ${errorMessage(error)}`, { retryable: false, cause: error });
      }
      const used = sequence.tokenMeter.diff(before);
      const toolCalls: ToolCallRequest[] = (response.functionCalls ?? []).map((call, i) => ({
        id: `call_${pendingFunctionCalls + i}`,
        name: call.functionName,
        arguments: call.params && typeof call.params === 'object' ? (call.params as Record<string, unknown>) : {},
      }));
      const stop = response.metadata.stopReason;
      return {
        content: response.response,
        toolCalls,
        // Evaluated input tokens (the meter) shrink when the cache holds the prefix; the prompt's size does not.
        usage: { promptTokens: fit.promptTokens, completionTokens: used.usedOutputTokens },
        model: this.model,
        finishReason: toolCalls.length ? 'tool_calls' : stop === 'maxTokens' ? 'length' : stop === 'abort' ? 'other' : 'stop',
        ...(fit.note ? { notes: [fit.note] } : {}),
      };
    });
  }

  private grammarFor(loaded: LoadedModel, schema: unknown): Promise<LlamaGrammar> {
    const key = JSON.stringify(schema);
    let grammar = loaded.grammars.get(key);
    if (!grammar) {
      grammar = loadLlama().then((llama) => llama.createGrammarForJsonSchema(toGbnfSchema(schema) as never) as Promise<LlamaGrammar>);
      loaded.grammars.set(key, grammar);
      grammar.catch(() => loaded.grammars.delete(key));
    }
    return grammar;
  }

  async embed(texts: string[], signal?: AbortSignal, onUsage?: (usage: TokenUsage) => void): Promise<number[][]> {
    const loaded = await loadModel(this.config);
    loaded.embedding ??= loaded.model.createEmbeddingContext({ contextSize: Math.min(2048, loaded.model.trainContextSize), threads: loaded.threads });
    const context = await loaded.embedding;
    return withLock([loaded, 'embed'], signal, async () => {
      const vectors: number[][] = [];
      for (const text of texts) {
        signal?.throwIfAborted();
        const embedding = await context.getEmbeddingFor(text);
        vectors.push(Array.from(embedding.vector));
      }
      // The model's own tokenizer: the same count whatever the cache holds.
      onUsage?.({ promptTokens: texts.reduce((n, text) => n + loaded.model.tokenize(text).length, 0), completionTokens: 0 });
      return vectors;
    });
  }
}

/**
 * The sequence for a call: a free one that last served the same system prompt (its prefix is cached), else the free
 * one used longest ago; all busy: the one with the same system prompt, else the one used longest ago (it waits there).
 */
function pickSlot(slots: ChatSlot[], system: string | undefined): ChatSlot {
  const free = slots.filter((s) => !isLockActive([s, 'chat']));
  const from = free.length ? free : slots;
  return from.find((s) => system !== undefined && s.system === system) ?? from.reduce((a, b) => (b.lastUsed < a.lastUsed ? b : a));
}

function toFunctions(request: ChatRequest): ChatModelFunctions {
  const functions: Record<string, { description?: string; params?: unknown }> = {};
  for (const tool of request.tools ?? []) functions[tool.name] = { description: tool.description, params: toGbnfSchema(tool.parameters) };
  return functions as ChatModelFunctions;
}

/**
 * node-llama-cpp keeps a function call and its result inside the model turn that made it. An assistant turn with
 * tool calls becomes one model item whose calls carry the results of the tool messages that follow; when the
 * history ends there, generation continues that same model turn.
 */
function toHistory(messages: ChatMessage[]): { history: ChatHistoryItem[]; pendingFunctionCalls: number; texts: CuttableText[] } {
  const history: ChatHistoryItem[] = [];
  /** User texts and tool results, which the context-window policy may shorten (the system prompt it may not). */
  const texts: CuttableText[] = [];
  let calls = 0;
  const results = new Map<string, string>();
  for (const m of messages) if (m.role === 'tool') results.set(m.toolCallId, m.content);
  for (const m of messages) {
    if (m.role === 'system') history.push({ type: 'system', text: m.content });
    else if (m.role === 'user') {
      const item = { type: 'user' as const, text: m.content };
      history.push(item);
      texts.push({ get: () => item.text, set: (text) => (item.text = text) });
    } else if (m.role === 'assistant') {
      const response: Array<string | ChatModelFunctionCall> = m.content ? [m.content] : [];
      for (const call of m.toolCalls ?? []) {
        calls++;
        const item: ChatModelFunctionCall = { type: 'functionCall', name: call.name, params: call.arguments, result: results.get(call.id) ?? '' };
        response.push(item);
        texts.push({ get: () => String(item.result ?? ''), set: (text) => (item.result = text) });
      }
      history.push({ type: 'model', response });
    }
  }
  // A model turn must follow the last user turn for node-llama-cpp to generate the answer into it.
  if (history[history.length - 1]?.type !== 'model') history.push({ type: 'model', response: [] });
  return { history, pendingFunctionCalls: calls, texts };
}
