/**
 * How an AI node picks its model: the attached 'ai-model' credential, or the local GGUF model, so a flow runs
 * offline as shipped without anyone creating a credential. Decided at deploy: a broken credential or an
 * explicitly named model file that does not exist is a deploy error, reported before any run starts.
 */
import type { InputContext, JsonSchema, NodeDefinition, NodeInit, OutboundServices } from '@flowcrew/sdk';
import { MODEL_CREDENTIAL_TYPE, createProvider, modelCredentialSchema, parseModelCredential, type ModelConfig } from '../providers/config.ts';
import { ProviderError } from '../providers/errors.ts';
import { resolveModelPath } from '../providers/model-path.ts';
import type { ChatResult, ModelProvider } from '../providers/types.ts';
import type { AgentEnvironment } from '../agents/agent.ts';

export interface ModelProps {
  provider?: 'auto' | 'local' | 'credential';
  modelPath?: string;
}

export const modelPropsSchema = {
  provider: {
    enum: ['auto', 'local', 'credential'],
    default: 'auto',
    description: 'auto: the attached AI model credential if there is one, else the local model. local: always the local model. credential: require a credential.',
  },
  modelPath: {
    type: 'string',
    default: '',
    description: 'Local model (.gguf) on the server. Empty: $FLOWCREW_MODEL_PATH, else the models directory that scripts/fetch-model fills (npm start runs it).',
  },
} as const satisfies Record<string, JsonSchema>;

export const modelCredentials: NonNullable<NodeDefinition['credentials']> = {
  type: MODEL_CREDENTIAL_TYPE,
  schema: modelCredentialSchema,
  // Not required: without one the node runs on the local model.
  required: false,
};

export const MODEL_HELP = `### Model
With **provider** \`auto\` (the default) the node uses its **AI model credential** when one is attached, else the
local model: a GGUF file run in-process (\`modelPath\`, or \`$FLOWCREW_MODEL_PATH\`, or the models directory that
\`scripts/fetch-model\` fills (\`npm start\` runs it once) with SmolLM2-135M-Instruct). Nothing is downloaded at run time.

The credential (type \`ai-model\`) is one of:
- \`openai-compatible\`: \`baseUrl\`, \`apiKey\`, \`model\` (OpenAI, Azure OpenAI with \`apiVersion\`, Ollama, vLLM, LM Studio, llama.cpp server);
- \`anthropic\`: \`apiKey\`, \`model\`, optional \`baseUrl\`;
- \`local-gguf\`: \`modelPath\`.

Model servers are reached through the runtime's outbound guard: one on this host or on a private network (Ollama at
\`http://127.0.0.1:11434/v1\`, a vLLM box at \`10.0.0.5\`) must be allow-listed by an administrator in
\`FLOWCREW_OUTBOUND_ALLOW\`, so a flow cannot send the API key to the runtime's own or another internal service.
The credential's \`apiKey\` is redacted from run records, debug, live events and logs.

Add \`inputCostPerMillion\`/\`outputCostPerMillion\` to have the cost of each call recorded with the run.
Calls that time out or get 429/5xx are retried with backoff (\`maxRetries\`), then the invocation fails with the reason.`;

export interface ModelSelection {
  /**
   * The node's model, or the same provider with another model name / GGUF path. `setting` names where an override
   * comes from ('the model of agent "writer"'), for the error when it is a model file that does not exist.
   */
  provider(override?: string, setting?: string): ModelProvider;
  /** Shown in the node status: 'local SmolLM2-135M-Instruct.Q4_1.gguf', 'openai-compatible gpt-4o-mini'. */
  description: string;
  /** A problem that will fail every run (e.g. no local model yet), for the node status at deploy. */
  warning?: string;
  /** The default local model, whatever the node's credential (an agent's fallback "local"); throws when there is none. */
  localModel(setting: string): ModelProvider;
}

export function selectModel(props: ModelProps, credentials: Record<string, unknown> | undefined, outbound: OutboundServices): ModelSelection {
  const choice = props.provider ?? 'auto';
  if (choice === 'credential' && !credentials) {
    throw new Error(`this node is set to use a credential but has none: attach an "${MODEL_CREDENTIAL_TYPE}" credential, or set provider to auto or local`);
  }
  const checkedOverride = (path: string, setting = 'the model override') => checkedModelPath(path, `correct ${setting}, or leave it empty to use the node's model`);
  if (credentials && choice !== 'local') {
    const config = parseModelCredential(credentials);
    if (config.provider === 'local-gguf') checkedModelPath(config.modelPath, `correct modelPath in the node's local-gguf "${MODEL_CREDENTIAL_TYPE}" credential`);
    const cache = new Map<string, ModelProvider>();
    const make = (override?: string, setting?: string): ModelProvider => {
      const key = override ?? '';
      let provider = cache.get(key);
      if (!provider) {
        if (override && config.provider === 'local-gguf') checkedOverride(override, setting);
        const chosen: ModelConfig = !override ? config : config.provider === 'local-gguf' ? { ...config, modelPath: override } : { ...config, model: override };
        provider = createProvider(chosen, outbound);
        cache.set(key, provider);
      }
      return provider;
    };
    return { provider: make, description: `${config.provider} ${make().model}`, localModel: (setting) => defaultLocal(setting) };
  }
  const { base, warning } = nodeLocalModel(props, local);
  return {
    provider: (override, setting) => (override ? local(checkedOverride(override, setting)) : base),
    description: warning ? 'local model (missing)' : `local ${base.model}`,
    warning,
    localModel: (setting) => defaultLocal(setting),
  };

  function local(path: string): ModelProvider {
    return createProvider({ provider: 'local-gguf', modelPath: path }, outbound);
  }
  function defaultLocal(setting: string): ModelProvider {
    const resolved = resolveModelPath(undefined);
    if (resolved.problem) throw new Error(`${setting} is "local", but ${resolved.problem}`);
    return local(resolved.path!);
  }
}

/** The node's own local model: its modelPath, else the default one, else a stand-in that fails each run saying how to get one. */
function nodeLocalModel(props: ModelProps, local: (path: string) => ModelProvider): { base: ModelProvider; warning?: string } {
  if (props.modelPath) return { base: local(checkedModelPath(props.modelPath, 'correct modelPath, or leave it empty to use the default local model')) };
  const resolved = resolveModelPath(undefined);
  if (resolved.problem) {
    // No default model yet: keep the flow deployable (it may be an example) and fail each run with how to fix it.
    return { base: new UnavailableModel(`${resolved.problem}, or attach an "${MODEL_CREDENTIAL_TYPE}" credential to this node`), warning: resolved.problem };
  }
  return { base: local(checkedModelPath(resolved.path!, 'correct or unset FLOWCREW_MODEL_PATH')) };
}

/** An explicitly named model file must exist at deploy; `fix` says which setting to correct when it does not. */
function checkedModelPath(path: string, fix: string): string {
  const resolved = resolveModelPath(path);
  if (resolved.problem) throw new Error(`${resolved.problem}: ${fix}`);
  return resolved.path!;
}

class UnavailableModel implements ModelProvider {
  readonly kind = 'local-gguf';
  readonly model = 'missing';
  constructor(private readonly problem: string) {}
  chat(): Promise<ChatResult> {
    return Promise.reject(new ProviderError(this.problem, { retryable: false }));
  }
  embed(): Promise<number[][]> {
    return Promise.reject(new ProviderError(this.problem, { retryable: false }));
  }
}

/** Select at deploy and show the choice (or the problem) on the node. */
export function selectModelForNode(init: NodeInit<ModelProps>): ModelSelection {
  const selection = selectModel(init.props, init.credentials, init.services.outbound);
  init.status(selection.warning ? { fill: 'red', shape: 'ring', text: selection.warning.slice(0, 80) } : { fill: 'grey', shape: 'ring', text: selection.description });
  return selection;
}

export function agentEnvironment(ctx: InputContext, stream: boolean): AgentEnvironment {
  return {
    signal: ctx.signal,
    callTool: (call) => ctx.callTool(call),
    progress: (event) => ctx.progress(event),
    recordUsage: (usage) => ctx.recordUsage(usage),
    stream,
  };
}
