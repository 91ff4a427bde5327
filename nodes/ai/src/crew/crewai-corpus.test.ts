/**
 * The CrewAI-shaped YAML corpus (fixtures/): each project as the crew node sees it (resolveCrew), with the crew it
 * makes and every issue, pointer and line included, so a change in how any field or file shape is read shows here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveCrew, type CrewProps } from './resolve.ts';

function project(dir: string, extra: Partial<CrewProps> = {}): CrewProps {
  const read = (file: string) => readFileSync(path.join(import.meta.dirname, 'fixtures', dir, file), 'utf8');
  return { source: 'crewai', crewai: { agentsYaml: read('agents.yaml'), tasksYaml: read('tasks.yaml') }, ...extra };
}

const errors = (props: CrewProps) => resolveCrew(props).issues.filter((i) => i.severity !== 'warning');
const warnings = (props: CrewProps) => resolveCrew(props).issues.filter((i) => i.severity === 'warning').map((i) => i.message);

describe('CrewAI corpus', () => {
  it('latest-ai-development (crewai create crew): imports as written, markdown mapped, output_file reported', () => {
    const crew = resolveCrew(project('latest-ai-development'));
    expect(crew.issues).toEqual([
      {
        pointer: '/crewai/tasksYaml',
        message: 'tasks.yaml line 19: reporting_task.output_file: ignored: a task does not write files; take the answer from msg.crew.tasks and send it to the node that should store it',
        severity: 'warning',
      },
    ]);
    expect(crew.agents.map((a) => [a.key, a.role])).toEqual([
      ['researcher', '{topic} Senior Data Researcher'],
      ['reporting_analyst', '{topic} Reporting Analyst'],
    ]);
    expect(crew.tasks.map((t) => [t.key, t.agent, t.markdown ?? false, t.context])).toEqual([
      ['research_task', 'researcher', false, undefined],
      ['reporting_task', 'reporting_analyst', true, undefined],
    ]);
  });

  it('no-agent-lines: refused as a sequential crew, accepted as a hierarchical one (the manager assigns)', () => {
    expect(errors(project('no-agent-lines')).map((e) => /^tasks\.yaml line \d+: task "\w+" has no agent/.exec(e.message)?.[0])).toEqual([
      'tasks.yaml line 2: task "research_task" has no agent',
      'tasks.yaml line 9: task "project_understanding_task" has no agent',
      'tasks.yaml line 15: task "marketing_strategy_task" has no agent',
    ]);
    expect(resolveCrew(project('no-agent-lines', { process: 'hierarchical' })).issues).toEqual([]);
  });

  it('no-agent-lines: an assignment naming an agent the crew lacks, or a task that is not in the YAML, is pointed at', () => {
    const props = project('no-agent-lines', {
      tasks: [
        { key: 'research_task', agent: 'lead_market_analyst' },
        { key: 'project_understanding_task', agent: 'ghost' },
        { key: 'marketing_strategy_task', agent: 'chief_content_strategist', context: ['later'] },
        { key: 'typo_task', agent: 'lead_market_analyst' },
      ],
    });
    expect(errors(props)).toEqual([
      { pointer: '/tasks/3/description', message: 'task "typo_task" needs a description (tasks.yaml has no task "typo_task"; it has "research_task", "project_understanding_task", "marketing_strategy_task")' },
      { pointer: '/tasks/1/agent', message: 'task "project_understanding_task" names agent "ghost", which is not in the crew (agents: lead_market_analyst, chief_content_strategist)' },
      { pointer: '/tasks/2/context/0', message: 'task "marketing_strategy_task" takes context from "later", which is not a task before it' },
    ]);
  });

  it('merge-keys: shared fields merged, holders skipped, YAML 1.1 booleans, the later of a repeated key', () => {
    const crew = resolveCrew(project('merge-keys'));
    expect(errors(project('merge-keys'))).toEqual([]);
    expect(crew.agents).toEqual([
      expect.objectContaining({ key: 'writer', role: 'Writer at {company-name}', allowDelegation: false, maxIterations: 5, backstory: "You write plainly, in short sentences, for {company-name}'s customers." }),
      expect.objectContaining({ key: 'editor', allowDelegation: true, maxIterations: 3, backstory: "You write plainly, in short sentences, for {company-name}'s customers." }),
    ]);
    expect(crew.tasks).toEqual([
      { key: 'draft', description: 'Write a product description of {product-name} for {company-name}.', expectedOutput: 'One paragraph of at most five sentences.', agent: 'writer' },
      { key: 'polish', description: 'Edit the draft about {product-name} for {company-name}; keep it under five sentences.', expectedOutput: 'One paragraph of at most five sentences.', agent: 'editor' },
    ]);
  });

  it('every-field: each field mapped onto the crew, or reported once with its line', () => {
    const crew = resolveCrew(project('every-field'));
    expect(errors(project('every-field'))).toEqual([]);
    expect(crew.agents[0]).toEqual({
      key: 'analyst',
      role: 'Data Analyst',
      goal: 'Analyse {dataset}',
      backstory: 'Careful with numbers.',
      llm: 'openai/gpt-4o-mini',
      mcp: [{ server: 'analyst_mcp_example_com', tools: ['search'] }],
      maxIterations: 8,
      maxRpm: 30,
      maxExecutionSeconds: 120,
      maxTokens: 700,
      allowDelegation: true,
      contextOverflow: 'fail',
      injectDate: true,
      reasoning: true,
      memory: true,
    });
    expect(crew.mcpServers).toEqual([{ name: 'analyst_mcp_example_com', transport: 'http', url: 'https://mcp.example.com/mcp' }]);
    expect(crew.tasks[0]).toEqual({
      key: 'analysis_task',
      description: 'Analyse {dataset} and report the trends.',
      expectedOutput: 'A table of the three main trends.',
      name: 'Trend analysis',
      agent: 'analyst',
      context: [],
      asyncExecution: true,
      markdown: true,
      humanInput: true,
      guardrails: ['The table has exactly three rows.', 'Every trend names its source.'],
      guardrailMaxRetries: 4,
    });
    const reported = warnings(project('every-field')).map((w) => /^(\w+)\.yaml line (\d+): \w+\.(\w+):/.exec(w)?.slice(1));
    expect(reported).toEqual([
      ['agents', '6', 'llm'],
      ['agents', '7', 'tools'],
      ['agents', '8', 'mcps'],
      ['agents', '11', 'function_calling_llm'],
      ['agents', '16', 'verbose'],
      ['agents', '18', 'step_callback'],
      ['agents', '19', 'callbacks'],
      ['agents', '20', 'cache'],
      ['agents', '21', 'system_template'],
      ['agents', '22', 'prompt_template'],
      ['agents', '23', 'response_template'],
      ['agents', '24', 'allow_code_execution'],
      ['agents', '25', 'code_execution_mode'],
      ['agents', '26', 'max_retry_limit'],
      ['agents', '28', 'multimodal'],
      ['agents', '30', 'date_format'],
      ['agents', '32', 'max_reasoning_attempts'],
      ['agents', '33', 'embedder'],
      ['agents', '34', 'knowledge_sources'],
      ['agents', '35', 'knowledge_config'],
      ['agents', '36', 'knowledge_storage'],
      ['agents', '37', 'knowledge'],
      ['agents', '39', 'use_system_prompt'],
      ['agents', '40', 'apps'],
      ['agents', '41', 'guardrail'],
      ['agents', '42', 'guardrail_max_retries'],
      ['agents', '43', 'config'],
      ['agents', '44', 'security_config'],
      ['agents', '45', 'favourite_colour'],
      ['tasks', '7', 'tools'],
      ['tasks', '12', 'config'],
      ['tasks', '13', 'output_file'],
      ['tasks', '14', 'create_directory'],
      ['tasks', '15', 'output_json'],
      ['tasks', '16', 'output_pydantic'],
      ['tasks', '17', 'callback'],
      ['tasks', '22', 'converter_cls'],
      ['tasks', '23', 'security_config'],
      ['tasks', '24', 'priority'],
    ]);
  });

  it('context: absent, [] and named stay distinct', () => {
    expect(resolveCrew(project('context')).tasks.map((t) => [t.key, t.context])).toEqual([
      ['facts', undefined],
      ['figures', undefined],
      ['article', undefined],
      ['fresh_take', []],
      ['headline', ['article']],
    ]);
  });

  it('mcp-and-llm: https MCP servers shared by URL, #tool narrows, AMP reported; JSON Schema output mapped, a pydantic name reported', () => {
    const crew = resolveCrew(project('mcp-and-llm', { mcpServers: [{ name: 'docs', transport: 'http', url: 'https://docs.example.org/mcp' }] }));
    expect(crew.mcpServers).toEqual([
      { name: 'docs', transport: 'http', url: 'https://docs.example.org/mcp' },
      { name: 'scout_search_example_com', transport: 'http', url: 'https://search.example.com/mcp' },
    ]);
    expect(crew.agents[0]!.mcp).toEqual([
      { server: 'scout_search_example_com', tools: ['web_search', 'news_search'] },
      { server: 'docs' },
    ]);
    expect(crew.agents.map((a) => a.llm)).toEqual(['anthropic/claude-3-5-sonnet-20241022', 'ollama/llama3.1', 'gpt-4o']);
    expect(crew.tasks[0]!.outputSchema).toEqual({ type: 'object', properties: { sources: { type: 'array', items: { type: 'string' }, maxItems: 3 } }, required: ['sources'] });
    expect(crew.tasks[1]).toMatchObject({ guardrails: ['The summary is at most three sentences long.'], guardrailMaxRetries: 1 });
    expect(crew.tasks[1]).not.toHaveProperty('outputSchema');
    expect(warnings(project('mcp-and-llm'))).toEqual([
      expect.stringMatching(/^agents\.yaml line 5: scout\.llm: "anthropic\/claude-3-5-sonnet-20241022" is used as the model "claude-3-5-sonnet-20241022" when the crew node's AI model credential is an Anthropic one/),
      expect.stringMatching(/^agents\.yaml line 6: scout\.mcps: "crewai-amp:academic-research#pubmed_search" not applied: only http\(s\) MCP URLs/),
      expect.stringMatching(/^agents\.yaml line 15: summariser\.llm: "ollama\/llama3\.1" is used as the model "llama3\.1" when the crew node's AI model credential is an OpenAI-compatible one/),
      expect.stringMatching(/^agents\.yaml line 20: checker\.llm: "gpt-4o" is used as the model "gpt-4o"/),
      expect.stringMatching(/^tasks\.yaml line 15: summary\.output_pydantic: not applied: "SummaryModel" is a pydantic class in crew\.py/),
    ]);
  });

  it('a broken file or a broken output schema is an error at its pointer, and nothing else is reported', () => {
    expect(resolveCrew(project('context', { crewai: { agentsYaml: 'a: [', tasksYaml: '' } })).issues).toEqual([
      { pointer: '/crewai/agentsYaml', message: expect.stringMatching(/^agents\.yaml is not valid YAML: /) },
    ]);
    const badSchema = project('latest-ai-development', { tasks: [{ key: 'research_task', outputSchema: { type: 'nonsense' } }] });
    expect(errors(badSchema)).toEqual([{ pointer: '/tasks/0/outputSchema', message: expect.stringMatching(/^task "research_task": output schema is not a valid JSON Schema: /) }]);
  });
});
