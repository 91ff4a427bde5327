/**
 * The 'ai-model' credential: which provider a node talks to and how. One credential type with a `provider`
 * discriminator, because a node type declares a single credential type and every AI node must accept all three.
 * Secrets (API keys) live only here, encrypted by the runtime's vault, never in flow props.
 */
import { createSchemaValidator } from '@flowcrew/sdk/schema';
import type { JsonSchema, OutboundServices } from '@flowcrew/sdk';
import { AnthropicProvider } from './anthropic.ts';
import { LocalLlamaProvider } from './local-llama.ts';
import { OpenAICompatibleProvider } from './openai-compatible.ts';
import type { ModelProvider } from './types.ts';

export const MODEL_CREDENTIAL_TYPE = 'ai-model';

const prices = {
  inputCostPerMillion: { type: 'number', minimum: 0, description: 'USD per million prompt tokens, for the cost recorded with each run.' },
  outputCostPerMillion: { type: 'number', minimum: 0, description: 'USD per million completion tokens.' },
};
const transport = {
  timeoutMs: { type: 'integer', minimum: 1000, default: 120_000, description: 'Give up on a call when the server sends nothing for this long, ms.' },
  maxRetries: { type: 'integer', minimum: 0, maximum: 10, default: 2, description: 'Retries (with backoff) after 429, 5xx, timeouts and garbled answers.' },
};

export const modelCredentialSchema: JsonSchema = {
  type: 'object',
  required: ['provider'],
  oneOf: [
    {
      title: 'OpenAI-compatible (OpenAI, Azure OpenAI, Ollama, vLLM, LM Studio, llama.cpp server)',
      properties: {
        provider: { const: 'openai-compatible' },
        baseUrl: { type: 'string', minLength: 1, default: 'https://api.openai.com/v1', description: 'e.g. http://127.0.0.1:11434/v1 for Ollama (a server on this host or network must be allow-listed in FLOWCREW_OUTBOUND_ALLOW); the deployment URL for Azure.' },
        apiKey: { type: 'string', writeOnly: true },
        model: { type: 'string', minLength: 1 },
        embeddingModel: { type: 'string', description: 'Model for embeddings (memory, knowledge); default: model.' },
        apiVersion: { type: 'string', description: 'Azure OpenAI api-version; when set the key is sent as the api-key header.' },
        headers: { type: 'object', additionalProperties: { type: 'string' } },
        jsonMode: { enum: ['json_schema', 'json_object', 'none'], default: 'json_schema', description: 'How the server is asked for structured output.' },
        ...prices,
        ...transport,
      },
      required: ['provider', 'baseUrl', 'model'],
    },
    {
      title: 'Anthropic',
      properties: {
        provider: { const: 'anthropic' },
        apiKey: { type: 'string', minLength: 1, writeOnly: true },
        baseUrl: { type: 'string', default: 'https://api.anthropic.com' },
        model: { type: 'string', minLength: 1 },
        version: { type: 'string', default: '2023-06-01', description: 'anthropic-version header.' },
        ...prices,
        ...transport,
      },
      required: ['provider', 'apiKey', 'model'],
    },
    {
      title: 'Local GGUF model (node-llama-cpp, in-process)',
      properties: {
        provider: { const: 'local-gguf' },
        modelPath: { type: 'string', minLength: 1, description: 'Path of a .gguf file on the server.' },
        contextSize: { type: 'integer', minimum: 256 },
        threads: { type: 'integer', minimum: 1 },
      },
      required: ['provider', 'modelPath'],
    },
  ],
};

export type ModelConfig =
  | ({ provider: 'openai-compatible' } & ConstructorParameters<typeof OpenAICompatibleProvider>[0])
  | ({ provider: 'anthropic' } & ConstructorParameters<typeof AnthropicProvider>[0])
  | ({ provider: 'local-gguf' } & ConstructorParameters<typeof LocalLlamaProvider>[0]);

const ajv = createSchemaValidator({ useDefaults: true });
const validateCredential = ajv.compile(modelCredentialSchema);

/** Check credential fields; returns the config or throws a message naming what is wrong (never the secret). */
export function parseModelCredential(fields: Record<string, unknown>): ModelConfig {
  const copy = structuredClone(fields);
  if (validateCredential(copy)) return copy as unknown as ModelConfig;
  const provider = typeof fields.provider === 'string' ? fields.provider : undefined;
  const branch = (modelCredentialSchema.oneOf as Array<{ properties: { provider: { const: string } }; required: string[] }>).find((b) => b.properties.provider.const === provider);
  if (!branch) throw new Error(`credential field "provider" must be one of openai-compatible, anthropic, local-gguf (got ${JSON.stringify(fields.provider)})`);
  const missing = branch.required.filter((k) => fields[k] === undefined || fields[k] === '');
  if (missing.length) throw new Error(`the ${provider} credential is missing ${missing.map((m) => `"${m}"`).join(', ')}`);
  const detail = (validateCredential.errors ?? []).filter((e) => e.instancePath).map((e) => `${e.instancePath.slice(1)} ${e.message}`);
  throw new Error(`the ${provider} credential is invalid${detail.length ? `: ${[...new Set(detail)].join('; ')}` : ''}`);
}

/** A provider for `config`; HTTP providers reach their server only through `outbound` (the runtime's guard). */
export function createProvider(config: ModelConfig, outbound: OutboundServices): ModelProvider {
  switch (config.provider) {
    case 'openai-compatible':
      return new OpenAICompatibleProvider(config, outbound);
    case 'anthropic':
      return new AnthropicProvider(config, outbound);
    case 'local-gguf':
      return new LocalLlamaProvider(config);
  }
}
