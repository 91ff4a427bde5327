/**
 * The CrewAI compatibility contract, field by field: every documented field of a CrewAI agent and task (and the
 * few undocumented ones real projects write) is either mapped onto Flowcrew's crew spec or reported with the
 * reason it is not, in the words a CrewAI user needs to act on it. A field's value can decide: `cache: false` and
 * `human_input: false` already mean what Flowcrew does, their `true` is reported.
 */
import type { JsonSchema } from '@flowcrew/sdk';
import type { McpServerConfig } from '../tools/mcp.ts';
import type { AgentSpec, TaskSpec } from './spec.ts';
import type { ConfigFile } from './crewai-yaml.ts';

export interface FieldContext {
  file: ConfigFile;
  entry: string;
  field: string;
  line: number;
  /** Report something about the field (it reaches the import and validate responses and the node's log). */
  note(message: string): void;
  /** The value is unusable: the import fails with this, at this line. */
  fail(message: string): never;
}

export interface AgentTarget {
  spec: AgentSpec;
  /** MCP servers the agent's `mcps` URLs become (added to the crew node's servers). */
  mcpServers: McpServerConfig[];
}

export interface FieldRule<T> {
  /** 'mapped': becomes a Flowcrew setting (`to`); 'reported': no Flowcrew equivalent, always reported with why. */
  handling: 'mapped' | 'reported' | 'depends';
  /** The Flowcrew setting it becomes, or what decides ('depends'). */
  to?: string;
  apply(value: unknown, ctx: FieldContext, target: T): void;
}

// ---- value readers: a wrong type is an import error naming the field and its line ----

export function text(value: unknown, ctx: FieldContext): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') ctx.fail('must be text');
  // Folded blocks (>) end with a newline and may carry the file's indentation.
  return String(value).trim();
}

function bool(value: unknown, ctx: FieldContext): boolean {
  if (typeof value !== 'boolean') ctx.fail(`must be true or false (got ${JSON.stringify(value)})`);
  return value;
}

function int(value: unknown, ctx: FieldContext, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) ctx.fail(`must be a whole number of at least ${min} (got ${JSON.stringify(value)})`);
  return value;
}

function positive(value: unknown, ctx: FieldContext): number {
  if (typeof value !== 'number' || !(value > 0)) ctx.fail(`must be a positive number (got ${JSON.stringify(value)})`);
  return value;
}

function list(value: unknown, ctx: FieldContext): string[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) ctx.fail('must be a list of names');
  return value.map((v) => text(v, ctx));
}

const named = (names: string[]) => names.map((n) => `"${n}"`).join(', ');

/** A field with no Flowcrew equivalent: always reported, with `reason`. */
function reported<T>(reason: string | ((value: unknown, ctx: FieldContext) => string)): FieldRule<T> {
  return { handling: 'reported', apply: (value, ctx) => ctx.note(typeof reason === 'string' ? reason : reason(value, ctx)) };
}

/** A boolean field whose `false` is what Flowcrew does and whose `true` is reported with `reason`. */
function offUnlessTrue<T>(to: string, reason: string): FieldRule<T> {
  return {
    handling: 'depends',
    to,
    apply: (value, ctx) => {
      if (bool(value, ctx)) ctx.note(reason);
    },
  };
}

const PYTHON_ONLY = 'is a Python object in CrewAI (crew.py) and cannot come from YAML';

// ---- agents.yaml ----

export const AGENT_FIELDS: Record<string, FieldRule<AgentTarget>> = {
  role: { handling: 'mapped', to: 'role', apply: (v, ctx, t) => (t.spec.role = text(v, ctx)) },
  goal: { handling: 'mapped', to: 'goal', apply: (v, ctx, t) => (t.spec.goal = text(v, ctx)) },
  backstory: { handling: 'mapped', to: 'backstory', apply: (v, ctx, t) => (t.spec.backstory = text(v, ctx)) },
  llm: {
    handling: 'mapped',
    to: 'llm (model selection)',
    apply: (v, ctx, t) => {
      const llm = text(v, ctx);
      if (!llm) return;
      t.spec.llm = llm;
      ctx.note(
        `"${llm}" is used as the model "${llmModelName(llm)}" when the crew node's AI model credential is ${llmProvider(llm) === 'anthropic' ? 'an Anthropic one' : 'an OpenAI-compatible one'}; ` +
          'on the local model, or with a credential of another provider, the node\'s own model runs this agent (said again at deploy)',
      );
    },
  },
  function_calling_llm: reported('ignored: the agent\'s own model makes its tool calls (a second model for tool calling is not supported)'),
  tools: reported((v, ctx) => {
    const tools = list(v, ctx);
    return `ignored: ${named(tools)} ${tools.length > 1 ? 'are Python tools' : 'is a Python tool'} from crew.py. Give agent "${ctx.entry}" Flowcrew tools in the crew node: agents → key "${ctx.entry}" → tools (node types usable as tools, e.g. http-request, ai-retrieve) or mcp (tools of an MCP server)`;
  }),
  mcps: {
    handling: 'depends',
    to: 'mcpServers + mcp (https URLs)',
    apply: (v, ctx, t) => mapMcps(list(v, ctx), ctx, t),
  },
  apps: reported('ignored: CrewAI AMP apps are CrewAI\'s hosted integrations; use Flowcrew connector nodes as tools instead'),
  max_iter: {
    handling: 'mapped',
    to: 'maxIterations',
    apply: (v, ctx, t) => {
      const n = int(v, ctx, 1);
      if (n > 50) ctx.note(`${n} iterations: Flowcrew allows at most 50 per task, so 50 is used`);
      t.spec.maxIterations = Math.min(n, 50);
    },
  },
  max_rpm: { handling: 'mapped', to: 'maxRpm', apply: (v, ctx, t) => (t.spec.maxRpm = int(v, ctx, 1)) },
  max_execution_time: { handling: 'mapped', to: 'maxExecutionSeconds', apply: (v, ctx, t) => (t.spec.maxExecutionSeconds = positive(v, ctx)) },
  max_tokens: { handling: 'mapped', to: 'maxTokens', apply: (v, ctx, t) => (t.spec.maxTokens = int(v, ctx, 1)) },
  max_retry_limit: reported('ignored: a failed model call is retried by the AI model credential (maxRetries), a failed run by the node\'s retry policy'),
  verbose: reported('no effect: Flowcrew always records every step with the run and streams it to the editor'),
  allow_delegation: { handling: 'mapped', to: 'allowDelegation', apply: (v, ctx, t) => (t.spec.allowDelegation = bool(v, ctx)) },
  step_callback: reported(`ignored: a step callback ${PYTHON_ONLY}; each step is recorded with the run instead`),
  callbacks: reported(`ignored: callbacks ${PYTHON_ONLY}; each step is recorded with the run instead`),
  cache: offUnlessTrue('(tool results are not cached)', 'not applied: Flowcrew does not cache tool results; every tool call runs and is recorded as its own step'),
  system_template: reported('ignored: the model\'s own chat template is used; custom prompt templates are not supported'),
  prompt_template: reported('ignored: the model\'s own chat template is used; custom prompt templates are not supported'),
  response_template: reported('ignored: the model\'s own chat template is used; custom prompt templates are not supported'),
  allow_code_execution: offUnlessTrue('(no code execution)', 'not applied: agents do not run code; give the agent a function node as a tool (it runs in the isolated-vm sandbox)'),
  code_execution_mode: reported('ignored: agents do not run code (see allow_code_execution)'),
  respect_context_window: {
    handling: 'mapped',
    to: 'contextOverflow (true: truncate, false: fail)',
    apply: (v, ctx, t) => (t.spec.contextOverflow = bool(v, ctx) ? 'truncate' : 'fail'),
  },
  multimodal: offUnlessTrue('(text only)', 'not applied: agents get text only; images are not passed to models'),
  inject_date: { handling: 'mapped', to: 'injectDate', apply: (v, ctx, t) => (t.spec.injectDate = bool(v, ctx)) },
  date_format: {
    handling: 'depends',
    to: 'injectDate (ISO dates)',
    apply: (v, ctx) => {
      if (text(v, ctx) !== '%Y-%m-%d') ctx.note('not applied: the injected date is written as YYYY-MM-DD (ISO 8601)');
    },
  },
  reasoning: { handling: 'mapped', to: 'reasoning', apply: (v, ctx, t) => (t.spec.reasoning = bool(v, ctx)) },
  max_reasoning_attempts: reported('not applied: with reasoning on, the agent writes its plan once before each task; it is not refined over several attempts'),
  embedder: reported('ignored: agent memory embeds with the crew node\'s model; knowledge is embedded by the ai-knowledge node'),
  knowledge_sources: reported(
    `ignored: knowledge sources ${PYTHON_ONLY}. List them in the crew node's knowledge (files, URLs, text; embedded once, again when they change), or load them with an ai-knowledge node and give the agent the ai-retrieve node as a tool`,
  ),
  knowledge_config: reported('ignored: retrieval settings (results, threshold) are set on the ai-retrieve tool'),
  knowledge_storage: reported('ignored: knowledge lives in the runtime\'s vector store (ai-knowledge node)'),
  knowledge: reported('ignored: see knowledge_sources'),
  memory: { handling: 'mapped', to: 'memory', apply: (v, ctx, t) => (t.spec.memory = bool(v, ctx)) },
  use_system_prompt: {
    handling: 'depends',
    to: '(always a system prompt)',
    apply: (v, ctx) => {
      if (!bool(v, ctx)) ctx.note('not applied: the agent\'s role, goal and backstory always go in a system message');
    },
  },
  guardrail: reported('ignored: an agent\'s guardrail only checks agent.kickoff() outside a crew in CrewAI; put the guardrail on the task'),
  guardrail_max_retries: reported('ignored: see guardrail (set it on the task)'),
  config: reported('ignored, as CrewAI does: the YAML entry is itself the agent\'s config, so a nested config is dropped'),
  security_config: reported('ignored: fingerprinting is CrewAI telemetry; runs are identified by their run id'),
};

// ---- tasks.yaml ----

export const TASK_FIELDS: Record<string, FieldRule<TaskSpec>> = {
  description: { handling: 'mapped', to: 'description', apply: (v, ctx, t) => (t.description = text(v, ctx)) },
  expected_output: {
    handling: 'mapped',
    to: 'expectedOutput',
    apply: (v, ctx, t) => {
      const expected = text(v, ctx);
      if (expected) t.expectedOutput = expected;
    },
  },
  name: {
    handling: 'mapped',
    to: 'name',
    apply: (v, ctx, t) => {
      const name = text(v, ctx);
      if (name) t.name = name;
    },
  },
  agent: {
    handling: 'mapped',
    to: 'agent',
    apply: (v, ctx, t) => {
      const agent = text(v, ctx);
      if (agent) t.agent = agent;
    },
  },
  context: { handling: 'mapped', to: 'context (absent: every earlier task; []: none)', apply: (v, ctx, t) => (t.context = list(v, ctx)) },
  tools: reported((v, ctx) => {
    const tools = list(v, ctx);
    return `ignored: ${named(tools)} ${tools.length > 1 ? 'are' : 'is a'} Python tool${tools.length > 1 ? 's' : ''} from crew.py. Give task "${ctx.entry}" Flowcrew tools in the crew node: tasks → key "${ctx.entry}" → tools or mcp`;
  }),
  async_execution: { handling: 'mapped', to: 'asyncExecution', apply: (v, ctx, t) => (t.asyncExecution = bool(v, ctx)) },
  human_input: { handling: 'mapped', to: 'humanInput (the run waits for a person to accept the answer or give feedback)', apply: (v, ctx, t) => (t.humanInput = bool(v, ctx)) },
  markdown: { handling: 'mapped', to: 'markdown', apply: (v, ctx, t) => (t.markdown = bool(v, ctx)) },
  output_json: { handling: 'depends', to: 'outputSchema (a JSON Schema mapping)', apply: (v, ctx, t) => mapOutputSchema(v, ctx, t) },
  output_pydantic: { handling: 'depends', to: 'outputSchema (a JSON Schema mapping)', apply: (v, ctx, t) => mapOutputSchema(v, ctx, t) },
  output_file: reported('ignored: a task does not write files; take the answer from msg.crew.tasks and send it to the node that should store it'),
  create_directory: reported('ignored: a task does not write files (see output_file)'),
  callback: reported(`ignored: a task callback ${PYTHON_ONLY}; the crew node's output carries every task's answer for the next node`),
  guardrail: {
    handling: 'depends',
    to: 'guardrails (text: checked by the agent\'s model)',
    apply: (v, ctx, t) => {
      const rule = text(v, ctx);
      if (rule) t.guardrails = [...(t.guardrails ?? []), rule];
    },
  },
  guardrails: { handling: 'mapped', to: 'guardrails', apply: (v, ctx, t) => (t.guardrails = [...(t.guardrails ?? []), ...list(v, ctx).filter(Boolean)]) },
  guardrail_max_retries: { handling: 'mapped', to: 'guardrailMaxRetries', apply: (v, ctx, t) => (t.guardrailMaxRetries = int(v, ctx, 0)) },
  max_retries: { handling: 'mapped', to: 'guardrailMaxRetries', apply: (v, ctx, t) => (t.guardrailMaxRetries = int(v, ctx, 0)) },
  converter_cls: reported(`ignored: a converter class ${PYTHON_ONLY}; structured answers are checked against the task's output schema`),
  config: reported('ignored, as CrewAI does: the YAML entry is itself the task\'s config, so a nested config is dropped'),
  security_config: reported('ignored: fingerprinting is CrewAI telemetry; runs are identified by their run id'),
};

/** CrewAI names the provider before a slash (LiteLLM): "openai/gpt-4o", "anthropic/claude-3-5-sonnet", "ollama/llama3". */
export function llmProvider(llm: string): 'anthropic' | 'openai-compatible' {
  const prefix = llm.includes('/') ? llm.slice(0, llm.indexOf('/')).toLowerCase() : '';
  return prefix === 'anthropic' || (!prefix && /^claude/i.test(llm)) ? 'anthropic' : 'openai-compatible';
}

export function llmModelName(llm: string): string {
  return llm.includes('/') ? llm.slice(llm.indexOf('/') + 1) : llm;
}

function mapOutputSchema(value: unknown, ctx: FieldContext, task: TaskSpec): void {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    task.outputSchema = value as JsonSchema; // checked when the crew is (a broken schema is a problem at its line)
    return;
  }
  const name = text(value, ctx);
  ctx.note(
    `not applied: "${name}" is a pydantic class in crew.py. Give task "${ctx.entry}" its output as a JSON Schema: in the crew node (tasks → key "${ctx.entry}" → outputSchema), ` +
      `or here as a mapping (${ctx.field}: {type: object, properties: ...})`,
  );
}

/** HTTPS MCP servers become HTTP servers of the crew node, and the agent's MCP tools; "#tool" picks one tool. */
function mapMcps(refs: string[], ctx: FieldContext, target: AgentTarget): void {
  for (const ref of refs) {
    let url: URL | undefined;
    try {
      url = new URL(ref);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      ctx.note(
        `"${ref}" not applied: only http(s) MCP URLs can be imported (CrewAI AMP references need CrewAI's service); ` +
          'have the administrator declare the server (FLOWCREW_MCP_SERVERS) and add it to the crew node\'s MCP servers',
      );
      continue;
    }
    const tool = url.hash ? decodeURIComponent(url.hash.slice(1)) : undefined;
    url.hash = '';
    const name = `${ctx.entry}_${url.hostname}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 48);
    let server = target.mcpServers.find((s) => s.transport === 'http' && s.url === url!.href);
    if (!server) {
      server = { name: uniqueName(name, target.mcpServers), transport: 'http', url: url.href };
      target.mcpServers.push(server);
    }
    const refs = (target.spec.mcp ??= []);
    const existing = refs.find((r) => r.server === server!.name);
    if (!existing) refs.push({ server: server.name, ...(tool ? { tools: [tool] } : {}) });
    else if (tool && existing.tools) existing.tools.push(tool);
    else if (!tool) delete existing.tools;
  }
}

function uniqueName(base: string, servers: McpServerConfig[]): string {
  let name = base;
  for (let i = 2; servers.some((s) => s.name === name); i++) name = `${base}_${i}`;
  return name;
}
