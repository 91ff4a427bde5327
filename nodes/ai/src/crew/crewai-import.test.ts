/**
 * The CrewAI compatibility contract as a table: every field of CrewAI's documented agent and task schema (and the
 * few undocumented ones real projects write), each with a YAML value and what the import must make of it: the
 * Flowcrew setting it maps to, or the note that reports it with its reason. Then how the files are read.
 */
import { describe, expect, it } from 'vitest';
import { AGENT_FIELDS, TASK_FIELDS } from './crewai-fields.ts';
import { importCrewAI, type CrewAIImport } from './crewai-import.ts';
import { inputsFromMessage, interpolate, placeholdersIn, requireInputs } from './interpolate.ts';

/** CrewAI's agent attributes (docs: concepts/agents, "Agent Attributes"), plus BaseAgent fields projects set in YAML. */
const DOCUMENTED_AGENT_FIELDS = [
  'role', 'goal', 'backstory', 'llm', 'tools', 'mcps', 'function_calling_llm', 'max_iter', 'max_rpm', 'max_execution_time', 'verbose',
  'allow_delegation', 'step_callback', 'cache', 'system_template', 'prompt_template', 'response_template', 'allow_code_execution',
  'max_retry_limit', 'respect_context_window', 'code_execution_mode', 'multimodal', 'inject_date', 'date_format', 'reasoning',
  'max_reasoning_attempts', 'embedder', 'knowledge_sources', 'use_system_prompt',
  // BaseAgent / Agent fields beyond the table
  'max_tokens', 'memory', 'callbacks', 'knowledge_config', 'knowledge_storage', 'knowledge', 'apps', 'guardrail', 'guardrail_max_retries', 'config', 'security_config',
]; // prettier-ignore

/** CrewAI's task attributes (docs: concepts/tasks, "Task Attributes" and "Task Guardrails"). */
const DOCUMENTED_TASK_FIELDS = [
  'description', 'expected_output', 'name', 'agent', 'tools', 'context', 'async_execution', 'human_input', 'markdown', 'config',
  'output_file', 'output_json', 'output_pydantic', 'callback', 'guardrail', 'guardrails', 'guardrail_max_retries', 'max_retries',
  'create_directory', 'converter_cls', 'security_config',
]; // prettier-ignore

const BASE_AGENT = 'a:\n  role: R\n  goal: G\n  backstory: B\n';
const BASE_TASK = 't:\n  description: D\n';

/** The base entry with `yaml` added (a field of the base that `yaml` sets is left out of the base). */
function entry(base: string, yaml: string): string {
  const field = /^(\w+):/.exec(yaml)?.[1];
  const lines = base.split('\n').filter((l) => !field || !l.startsWith(`  ${field}:`));
  return `${lines.join('\n')}${yaml.replace(/^/gm, '  ')}\n`;
}
function withAgentField(yaml: string): CrewAIImport {
  return importCrewAI(entry(BASE_AGENT, yaml), BASE_TASK);
}
function withTaskField(yaml: string): CrewAIImport {
  return importCrewAI(BASE_AGENT, entry(BASE_TASK, yaml));
}

type Row = [field: string, yaml: string, expected: { spec?: Record<string, unknown>; note?: RegExp; servers?: unknown[] }];

const AGENT_ROWS: Row[] = [
  ['role', 'role: "{topic} Analyst"', { spec: { role: '{topic} Analyst' } }],
  ['goal', 'goal: >\n  Analyse {topic}\n  in depth', { spec: { goal: 'Analyse {topic} in depth' } }],
  ['backstory', 'backstory: |\n  Line one.\n  Line two.', { spec: { backstory: 'Line one.\nLine two.' } }],
  ['llm', 'llm: openai/gpt-4o', { spec: { llm: 'openai/gpt-4o' }, note: /^a\.llm: "openai\/gpt-4o" is used as the model "gpt-4o" when the crew node's AI model credential is an OpenAI-compatible one; on the local model/ }],
  ['llm', 'llm: anthropic/claude-3-5-sonnet', { spec: { llm: 'anthropic/claude-3-5-sonnet' }, note: /model "claude-3-5-sonnet" when the crew node's AI model credential is an Anthropic one/ }],
  ['tools', 'tools: [SerperDevTool, ScrapeWebsiteTool]', { note: /^a\.tools: ignored: "SerperDevTool", "ScrapeWebsiteTool" are Python tools from crew\.py\. Give agent "a" Flowcrew tools in the crew node: agents → key "a" → tools/ }],
  ['mcps', 'mcps: ["https://mcp.example.com/mcp#search"]', { spec: { mcp: [{ server: 'a_mcp_example_com', tools: ['search'] }] }, servers: [{ name: 'a_mcp_example_com', transport: 'http', url: 'https://mcp.example.com/mcp' }] }],
  ['mcps', 'mcps: ["crewai-amp:market-intelligence"]', { note: /^a\.mcps: "crewai-amp:market-intelligence" not applied: only http\(s\) MCP URLs can be imported/ }],
  ['function_calling_llm', 'function_calling_llm: gpt-4o-mini', { note: /^a\.function_calling_llm: ignored: the agent's own model makes its tool calls/ }],
  ['max_iter', 'max_iter: 8', { spec: { maxIterations: 8 } }],
  ['max_iter', 'max_iter: 99', { spec: { maxIterations: 50 }, note: /^a\.max_iter: 99 iterations: Flowcrew allows at most 50 per task, so 50 is used$/ }],
  ['max_rpm', 'max_rpm: 30', { spec: { maxRpm: 30 } }],
  ['max_execution_time', 'max_execution_time: 120', { spec: { maxExecutionSeconds: 120 } }],
  ['max_tokens', 'max_tokens: 700', { spec: { maxTokens: 700 } }],
  ['max_retry_limit', 'max_retry_limit: 3', { note: /^a\.max_retry_limit: ignored: a failed model call is retried by the AI model credential \(maxRetries\)/ }],
  ['verbose', 'verbose: true', { note: /^a\.verbose: no effect: Flowcrew always records every step with the run/ }],
  ['allow_delegation', 'allow_delegation: true', { spec: { allowDelegation: true } }],
  ['step_callback', 'step_callback: log_step', { note: /^a\.step_callback: ignored: a step callback is a Python object in CrewAI/ }],
  ['callbacks', 'callbacks: [log_step]', { note: /^a\.callbacks: ignored: callbacks is a Python object in CrewAI/ }],
  ['cache', 'cache: true', { note: /^a\.cache: not applied: Flowcrew does not cache tool results/ }],
  ['cache', 'cache: false', {}],
  ['system_template', 'system_template: "{{ .System }}"', { note: /^a\.system_template: ignored: the model's own chat template is used/ }],
  ['prompt_template', 'prompt_template: "{{ .Prompt }}"', { note: /^a\.prompt_template: ignored/ }],
  ['response_template', 'response_template: "{{ .Response }}"', { note: /^a\.response_template: ignored/ }],
  ['allow_code_execution', 'allow_code_execution: true', { note: /^a\.allow_code_execution: not applied: agents do not run code; give the agent a function node as a tool/ }],
  ['allow_code_execution', 'allow_code_execution: false', {}],
  ['code_execution_mode', 'code_execution_mode: safe', { note: /^a\.code_execution_mode: ignored: agents do not run code/ }],
  ['respect_context_window', 'respect_context_window: false', { spec: { contextOverflow: 'fail' } }],
  ['respect_context_window', 'respect_context_window: true', { spec: { contextOverflow: 'truncate' } }],
  ['multimodal', 'multimodal: true', { note: /^a\.multimodal: not applied: agents get text only/ }],
  ['multimodal', 'multimodal: false', {}],
  ['inject_date', 'inject_date: true', { spec: { injectDate: true } }],
  ['date_format', 'date_format: "%Y-%m-%d"', {}],
  ['date_format', 'date_format: "%B %d, %Y"', { note: /^a\.date_format: not applied: the injected date is written as YYYY-MM-DD/ }],
  ['reasoning', 'reasoning: true', { spec: { reasoning: true } }],
  ['max_reasoning_attempts', 'max_reasoning_attempts: 2', { note: /^a\.max_reasoning_attempts: not applied: with reasoning on, the agent writes its plan once/ }],
  ['embedder', 'embedder: {provider: openai}', { note: /^a\.embedder: ignored: agent memory embeds with the crew node's model/ }],
  ['knowledge_sources', 'knowledge_sources: [docs]', { note: /^a\.knowledge_sources: ignored: knowledge sources is a Python object .* ai-knowledge node .* ai-retrieve node as a tool/ }],
  ['knowledge_config', 'knowledge_config: {results_limit: 3}', { note: /^a\.knowledge_config: ignored/ }],
  ['knowledge_storage', 'knowledge_storage: chroma', { note: /^a\.knowledge_storage: ignored/ }],
  ['knowledge', 'knowledge: kb', { note: /^a\.knowledge: ignored/ }],
  ['memory', 'memory: true', { spec: { memory: true } }],
  ['use_system_prompt', 'use_system_prompt: true', {}],
  ['use_system_prompt', 'use_system_prompt: false', { note: /^a\.use_system_prompt: not applied: the agent's role, goal and backstory always go in a system message/ }],
  ['apps', 'apps: [gmail]', { note: /^a\.apps: ignored: CrewAI AMP apps/ }],
  ['guardrail', 'guardrail: Cite sources.', { note: /^a\.guardrail: ignored: an agent's guardrail only checks agent\.kickoff\(\) outside a crew/ }],
  ['guardrail_max_retries', 'guardrail_max_retries: 2', { note: /^a\.guardrail_max_retries: ignored/ }],
  ['config', 'config: {role: Other}', { spec: { role: 'R' }, note: /^a\.config: ignored, as CrewAI does: the YAML entry is itself the agent's config/ }],
  ['security_config', 'security_config: {fingerprint: x}', { note: /^a\.security_config: ignored/ }],
];

const TASK_ROWS: Row[] = [
  ['description', 'description: >\n  Research {topic}\n  thoroughly.', { spec: { description: 'Research {topic} thoroughly.' } }],
  ['expected_output', 'expected_output: Ten bullet points.', { spec: { expectedOutput: 'Ten bullet points.' } }],
  ['name', 'name: Research', { spec: { name: 'Research' } }],
  ['agent', 'agent: a', { spec: { agent: 'a' } }],
  ['tools', 'tools: [SerperDevTool]', { note: /^t\.tools: ignored: "SerperDevTool" is a Python tool from crew\.py\. Give task "t" Flowcrew tools in the crew node: tasks → key "t" → tools or mcp$/ }],
  ['context', 'context: []', { spec: { context: [] } }],
  ['async_execution', 'async_execution: true', { spec: { asyncExecution: true } }],
  ['async_execution', 'async_execution: false', { spec: { asyncExecution: false } }],
  ['human_input', 'human_input: true', { spec: { humanInput: true } }],
  ['human_input', 'human_input: false', { spec: { humanInput: false } }],
  ['markdown', 'markdown: true', { spec: { markdown: true } }],
  ['config', 'config: {description: Other}', { spec: { description: 'D' }, note: /^t\.config: ignored, as CrewAI does/ }],
  ['output_file', 'output_file: report.md', { note: /^t\.output_file: ignored: a task does not write files; take the answer from msg\.crew\.tasks/ }],
  ['output_json', 'output_json: Report', { note: /^t\.output_json: not applied: "Report" is a pydantic class in crew\.py\. Give task "t" its output as a JSON Schema: in the crew node \(tasks → key "t" → outputSchema\), or here as a mapping/ }],
  ['output_json', 'output_json:\n  type: object\n  properties: {title: {type: string}}', { spec: { outputSchema: { type: 'object', properties: { title: { type: 'string' } } } } }],
  ['output_pydantic', 'output_pydantic: Report', { note: /^t\.output_pydantic: not applied: "Report" is a pydantic class/ }],
  ['output_pydantic', 'output_pydantic: {type: array, items: {type: string}}', { spec: { outputSchema: { type: 'array', items: { type: 'string' } } } }],
  ['callback', 'callback: notify', { note: /^t\.callback: ignored: a task callback is a Python object in CrewAI/ }],
  ['guardrail', 'guardrail: At most 100 words.', { spec: { guardrails: ['At most 100 words.'] } }],
  ['guardrails', 'guardrails: [At most 100 words., Cite a source.]', { spec: { guardrails: ['At most 100 words.', 'Cite a source.'] } }],
  ['guardrail_max_retries', 'guardrail_max_retries: 1', { spec: { guardrailMaxRetries: 1 } }],
  ['max_retries', 'max_retries: 2', { spec: { guardrailMaxRetries: 2 } }],
  ['create_directory', 'create_directory: false', { note: /^t\.create_directory: ignored: a task does not write files/ }],
  ['converter_cls', 'converter_cls: MyConverter', { note: /^t\.converter_cls: ignored: a converter class is a Python object/ }],
  ['security_config', 'security_config: {fingerprint: x}', { note: /^t\.security_config: ignored/ }],
];

function check(result: CrewAIImport, spec: Record<string, unknown>, expected: Row[2]): void {
  if (expected.spec) expect(spec).toMatchObject(expected.spec);
  const messages = result.notes.map((n) => n.message);
  if (expected.note) expect(messages).toEqual([expect.stringMatching(expected.note)]);
  else expect(messages).toEqual([]);
  if (expected.servers) expect(result.mcpServers).toEqual(expected.servers);
}

describe('every CrewAI agent field is mapped or reported with its reason', () => {
  it('has a rule for each documented agent field, and only for those', () => {
    expect(Object.keys(AGENT_FIELDS).sort()).toEqual([...DOCUMENTED_AGENT_FIELDS].sort());
    expect(new Set(AGENT_ROWS.map((r) => r[0]))).toEqual(new Set(DOCUMENTED_AGENT_FIELDS));
  });

  it.each(AGENT_ROWS)('%s: %s', (_field, yaml, expected) => {
    const result = withAgentField(yaml);
    check(result, result.agents[0] as unknown as Record<string, unknown>, expected);
  });

  it('gives imported agents CrewAI\'s default of keeping prompts within the window (respect_context_window: true)', () => {
    expect(withAgentField('memory: false').agents[0]).toMatchObject({ contextOverflow: 'truncate' });
  });

  it('reports a field CrewAI does not have, and refuses a value of the wrong type with its line', () => {
    expect(withAgentField('favourite_colour: blue').notes).toEqual([{ file: 'agents.yaml', line: 5, message: 'a.favourite_colour: ignored: not a field of a CrewAI agent (CrewAI ignores it too)' }]);
    expect(() => withAgentField('max_rpm: fast')).toThrow('agents.yaml line 5: a.max_rpm must be a whole number of at least 1 (got "fast")');
    expect(() => withAgentField('allow_delegation: maybe')).toThrow('agents.yaml line 5: a.allow_delegation must be true or false (got "maybe")');
    expect(() => withAgentField('role: [a, b]')).toThrow('agents.yaml line 4: a.role must be text');
  });
});

describe('every CrewAI task field is mapped or reported with its reason', () => {
  it('has a rule for each documented task field, and only for those', () => {
    expect(Object.keys(TASK_FIELDS).sort()).toEqual([...DOCUMENTED_TASK_FIELDS].sort());
    expect(new Set(TASK_ROWS.map((r) => r[0]))).toEqual(new Set(DOCUMENTED_TASK_FIELDS));
  });

  it.each(TASK_ROWS)('%s: %s', (_field, yaml, expected) => {
    const result = withTaskField(yaml);
    check(result, result.tasks[0] as unknown as Record<string, unknown>, expected);
  });

  it('keeps an absent context absent (every earlier task) and [] as none', () => {
    expect(withTaskField('agent: a').tasks[0]).not.toHaveProperty('context');
    expect(withTaskField('context: []').tasks[0]!.context).toEqual([]);
  });
});

describe('reading the YAML as CrewAI does', () => {
  it('applies merge keys, skips anchor holders, reads YAML 1.1 booleans, and keeps lines for every note', () => {
    const agents = `
_defaults: &defaults
  allow_delegation: yes
  max_iter: 4
  tools: [SerperDevTool]
writer:
  <<: *defaults
  role: Writer
  goal: Write
  max_iter: 2
`;
    const tasks = `
base: &base
  expected_output: One paragraph.
draft:
  <<: *base
  description: Draft it.
  agent: writer
`;
    const result = importCrewAI(agents, tasks);
    expect(result.agents).toEqual([{ key: 'writer', role: 'Writer', goal: 'Write', backstory: '', allowDelegation: true, maxIterations: 2, contextOverflow: 'truncate' }]);
    expect(result.tasks).toEqual([{ key: 'draft', description: 'Draft it.', expectedOutput: 'One paragraph.', agent: 'writer' }]);
    expect(result.notes).toEqual([
      { file: 'agents.yaml', line: 2, message: '"_defaults" is taken for shared fields, not an agent: its name starts with "_"' },
      expect.objectContaining({ file: 'agents.yaml', line: 7, message: expect.stringMatching(/^writer\.tools: ignored: "SerperDevTool" is a Python tool/) }),
      { file: 'tasks.yaml', line: 2, message: '"base" is taken for shared fields, not a task: it defines the anchor &base that other entries use, and is not complete on its own' },
    ]);
    expect(result.lines).toEqual({ agents: { writer: 6 }, tasks: { draft: 4 } });
  });

  it('takes the later of a repeated key, as PyYAML does, and says so', () => {
    const result = importCrewAI(`${BASE_AGENT}  goal: Second\n`, 't:\n  description: one\nt:\n  description: two\n');
    expect(result.agents[0]!.goal).toBe('Second');
    expect(result.tasks).toEqual([{ key: 't', description: 'two' }]);
    expect(result.notes.map((n) => `${n.file}:${n.line} ${n.message}`)).toEqual([
      "agents.yaml:5 a.goal is given twice (lines 3, 5): the last value is used, as CrewAI's loader does",
      'tasks.yaml:3 "t" is defined twice (lines 1 and 3): the later one is used, as CrewAI\'s loader does',
    ]);
  });

  it('refuses broken YAML, a file that is not a mapping, an agent without role or goal and a task without description, saying where', () => {
    expect(() => importCrewAI('researcher: [unclosed', BASE_TASK)).toThrow(/^agents\.yaml is not valid YAML: .*line 1/s);
    expect(() => importCrewAI('- a\n- b\n', BASE_TASK)).toThrow('agents.yaml must be a mapping of names to definitions (line 1)');
    expect(() => importCrewAI('x:\n  goal: g\n', BASE_TASK)).toThrow('agents.yaml line 1: agent "x" needs a role and a goal');
    expect(() => importCrewAI(BASE_AGENT, 'a: 3\n')).toThrow('tasks.yaml line 1: "a" must be a mapping of fields');
    expect(() => importCrewAI(BASE_AGENT, 't:\n  agent: a\n')).toThrow('tasks.yaml line 1: task "t" needs a description');
  });

  it('does not let a few aliases grow into a huge document', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`)].join('\n');
    expect(() => importCrewAI(bomb, BASE_TASK)).toThrow(/agents\.yaml cannot be read: .*alias/i);
  });
});

describe('placeholders, with CrewAI\'s pattern', () => {
  it('fills {topic} and hyphenated {company-name}, leaves JSON alone, and names every missing one', () => {
    const text = 'Write for {company-name} about {topic}; return {"a": 1} and {not a placeholder}.';
    expect(placeholdersIn(text)).toEqual(['company-name', 'topic']);
    expect(interpolate(text, { 'company-name': 'ACME', topic: 'mugs' })).toBe('Write for ACME about mugs; return {"a": 1} and {not a placeholder}.');
    expect(() => requireInputs([text], inputsFromMessage({ payload: { topic: 'mugs' } }))).toThrow('missing input {company-name}: send them as fields of msg.payload (the message offers topic)');
    expect(inputsFromMessage({ payload: 'plain text', topic: 'news' })).toEqual({ input: 'plain text', topic: 'news' });
  });
});
