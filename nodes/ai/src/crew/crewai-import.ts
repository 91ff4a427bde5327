/**
 * Import a CrewAI project's config/agents.yaml and config/tasks.yaml into crew specs. Fields map one to one
 * (role/goal/backstory, description/expected_output/agent/context, max_iter, allow_delegation, memory);
 * {placeholders} are kept and filled from the input message at run time. What lives in Python in CrewAI
 * (tool classes, pydantic outputs, llm objects) cannot be read from YAML: each is reported as a warning.
 */
import yaml from 'js-yaml';
import type { AgentSpec, TaskSpec } from './spec.ts';

export interface CrewAIImport {
  agents: AgentSpec[];
  tasks: TaskSpec[];
  warnings: string[];
}

const IGNORED_AGENT_FIELDS: Record<string, string> = {
  tools: 'CrewAI tool classes cannot be imported: give the agent Flowcrew tools (node types or MCP servers) instead',
  llm: 'the model comes from the crew node\'s credential or local model; set "model" on the agent to use another one',
  function_calling_llm: 'not supported; the agent\'s model makes its tool calls',
};
const KNOWN_AGENT_FIELDS = new Set(['role', 'goal', 'backstory', 'max_iter', 'allow_delegation', 'memory', 'verbose', 'cache', 'max_rpm', 'max_execution_time', ...Object.keys(IGNORED_AGENT_FIELDS)]);
const IGNORED_TASK_FIELDS: Record<string, string> = {
  output_json: 'pydantic classes cannot be imported: set an output schema (JSON Schema) on the task instead',
  output_pydantic: 'pydantic classes cannot be imported: set an output schema (JSON Schema) on the task instead',
  output_file: 'write the crew\'s output with a file node instead',
  tools: 'task-level tools cannot be imported: give the agent Flowcrew tools instead',
  async_execution: 'tasks run one after another',
  human_input: 'human review is not available yet',
  callback: 'Python callbacks cannot be imported',
};
const KNOWN_TASK_FIELDS = new Set(['description', 'expected_output', 'agent', 'context', 'name', ...Object.keys(IGNORED_TASK_FIELDS)]);

export class CrewAIImportError extends Error {}

function loadMapping(text: string, file: string): Record<string, Record<string, unknown>> {
  let doc: unknown;
  try {
    doc = yaml.load(text, { schema: yaml.CORE_SCHEMA });
  } catch (error) {
    throw new CrewAIImportError(`${file} is not valid YAML: ${(error as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new CrewAIImportError(`${file} must be a mapping of names to definitions`);
  for (const [key, value] of Object.entries(doc)) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new CrewAIImportError(`${file}: "${key}" must be a mapping (role/goal/... fields)`);
  }
  return doc as Record<string, Record<string, unknown>>;
}

function text(value: unknown, where: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string' && typeof value !== 'number') throw new CrewAIImportError(`${where} must be text`);
  // YAML folded blocks (>) end with a newline and may carry indentation from the file.
  return String(value).trim();
}

export function importCrewAI(agentsYaml: string, tasksYaml: string): CrewAIImport {
  const warnings: string[] = [];
  const agents: AgentSpec[] = Object.entries(loadMapping(agentsYaml, 'agents.yaml')).map(([key, a]) => {
    const spec: AgentSpec = {
      key,
      role: text(a.role, `agents.yaml: ${key}.role`),
      goal: text(a.goal, `agents.yaml: ${key}.goal`),
      backstory: text(a.backstory, `agents.yaml: ${key}.backstory`),
    };
    if (!spec.role || !spec.goal) throw new CrewAIImportError(`agents.yaml: agent "${key}" needs a role and a goal`);
    if (typeof a.max_iter === 'number') spec.maxIterations = Math.max(1, Math.min(50, Math.floor(a.max_iter)));
    if (typeof a.allow_delegation === 'boolean') spec.allowDelegation = a.allow_delegation;
    if (typeof a.memory === 'boolean') spec.memory = a.memory;
    for (const field of Object.keys(a)) {
      if (IGNORED_AGENT_FIELDS[field]) warnings.push(`agents.yaml: ${key}.${field} ignored: ${IGNORED_AGENT_FIELDS[field]}`);
      else if (!KNOWN_AGENT_FIELDS.has(field)) warnings.push(`agents.yaml: ${key}.${field} is not a CrewAI agent field Flowcrew knows; ignored`);
    }
    return spec;
  });
  const agentKeys = new Set(agents.map((a) => a.key));
  const taskKeys = new Set<string>();
  const tasks: TaskSpec[] = Object.entries(loadMapping(tasksYaml, 'tasks.yaml')).map(([key, t]) => {
    const description = text(t.description, `tasks.yaml: ${key}.description`);
    if (!description) throw new CrewAIImportError(`tasks.yaml: task "${key}" needs a description`);
    const spec: TaskSpec = { key, description };
    const expected = text(t.expected_output, `tasks.yaml: ${key}.expected_output`);
    if (expected) spec.expectedOutput = expected;
    if (t.agent !== undefined) {
      const agent = text(t.agent, `tasks.yaml: ${key}.agent`);
      if (!agentKeys.has(agent)) throw new CrewAIImportError(`tasks.yaml: task "${key}" names agent "${agent}", which agents.yaml does not define (it has: ${[...agentKeys].join(', ')})`);
      spec.agent = agent;
    }
    if (t.context !== undefined) {
      if (!Array.isArray(t.context)) throw new CrewAIImportError(`tasks.yaml: ${key}.context must be a list of task names`);
      spec.context = t.context.map((c) => text(c, `tasks.yaml: ${key}.context`));
      for (const c of spec.context) {
        if (!taskKeys.has(c)) throw new CrewAIImportError(`tasks.yaml: task "${key}" takes context from "${c}", which is not a task defined before it`);
      }
    }
    for (const field of Object.keys(t)) {
      if (IGNORED_TASK_FIELDS[field]) warnings.push(`tasks.yaml: ${key}.${field} ignored: ${IGNORED_TASK_FIELDS[field]}`);
      else if (!KNOWN_TASK_FIELDS.has(field)) warnings.push(`tasks.yaml: ${key}.${field} is not a CrewAI task field Flowcrew knows; ignored`);
    }
    taskKeys.add(key);
    return spec;
  });
  return { agents, tasks, warnings };
}
