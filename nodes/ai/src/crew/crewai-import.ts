/**
 * Import a CrewAI project's config/agents.yaml and config/tasks.yaml into crew specs: read as CrewAI's loader
 * reads them (crewai-yaml.ts), then each field through the compatibility table (crewai-fields.ts), so every
 * field is either mapped or reported with its reason and line. {placeholders} are kept and filled from the input
 * message at run time. Whether tasks name existing agents and earlier tasks is checked on the whole crew
 * (resolve.ts), because the crew node can assign agents and add tasks the YAML does not have.
 */
import type { McpServerConfig } from '../tools/mcp.ts';
import { AGENT_FIELDS, TASK_FIELDS, type AgentTarget, type FieldContext, type FieldRule } from './crewai-fields.ts';
import { CrewAIImportError, loadCrewAIConfig, type ConfigFile, type YamlEntry } from './crewai-yaml.ts';
import type { AgentSpec, TaskSpec } from './spec.ts';

export { CrewAIImportError };

/** Something about the import the user should know: a field not applied and why, a template entry skipped. */
export interface ImportNote {
  file: ConfigFile;
  line: number;
  message: string;
}

export interface CrewAIImport {
  agents: AgentSpec[];
  tasks: TaskSpec[];
  /** HTTP MCP servers the agents' `mcps` name. */
  mcpServers: McpServerConfig[];
  notes: ImportNote[];
  /** Line of each agent and task, for messages about them. */
  lines: { agents: Record<string, number>; tasks: Record<string, number> };
}

export function importCrewAI(agentsYaml: string, tasksYaml: string): CrewAIImport {
  const notes: ImportNote[] = [];
  const mcpServers: McpServerConfig[] = [];
  const lines: CrewAIImport['lines'] = { agents: {}, tasks: {} };

  const agentsFile = loadCrewAIConfig(agentsYaml, 'agents.yaml', (f) => Boolean(f.role && f.goal));
  const agents = agentsFile.entries.map((entry) => {
    const spec: AgentSpec = { key: entry.key, role: '', goal: '', backstory: '' };
    applyFields('agents.yaml', entry, AGENT_FIELDS, { spec, mcpServers }, notes, 'agent');
    // CrewAI's own default: respect_context_window=True keeps a prompt within the window (here: by cutting it, noted).
    spec.contextOverflow ??= 'truncate';
    if (!spec.role || !spec.goal) {
      throw new CrewAIImportError(`agents.yaml line ${entry.line}: agent "${entry.key}" needs a role and a goal`, 'agents.yaml');
    }
    lines.agents[entry.key] = entry.line;
    return spec;
  });

  const tasksFile = loadCrewAIConfig(tasksYaml, 'tasks.yaml', (f) => Boolean(f.description));
  const tasks = tasksFile.entries.map((entry) => {
    const spec: TaskSpec = { key: entry.key };
    applyFields('tasks.yaml', entry, TASK_FIELDS, spec, notes, 'task');
    if (!spec.description) throw new CrewAIImportError(`tasks.yaml line ${entry.line}: task "${entry.key}" needs a description`, 'tasks.yaml');
    lines.tasks[entry.key] = entry.line;
    return spec;
  });

  for (const [file, loaded, kind] of [
    ['agents.yaml', agentsFile, 'an agent'],
    ['tasks.yaml', tasksFile, 'a task'],
  ] as const) {
    for (const note of loaded.notes) notes.push({ file, ...note });
    for (const holder of loaded.holders) {
      notes.push({ file, line: holder.line, message: `"${holder.key}" is taken for shared fields, not ${kind}: ${holder.reason}` });
    }
  }
  notes.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file === 'agents.yaml' ? -1 : 1));
  return { agents, tasks, mcpServers, notes, lines };
}

function applyFields<T>(file: ConfigFile, entry: YamlEntry, rules: Record<string, FieldRule<T>>, target: T, notes: ImportNote[], kind: 'agent' | 'task'): void {
  for (const [field, value] of Object.entries(entry.fields)) {
    const line = entry.fieldLines[field] ?? entry.line;
    const ctx: FieldContext = {
      file,
      entry: entry.key,
      field,
      line,
      note: (message) => notes.push({ file, line, message: `${entry.key}.${field}: ${message}` }),
      fail: (message) => {
        throw new CrewAIImportError(`${file} line ${line}: ${entry.key}.${field} ${message}`, file);
      },
    };
    const rule = rules[field];
    if (rule) rule.apply(value, ctx, target);
    else ctx.note(`ignored: not a field of a CrewAI ${kind} (CrewAI ignores it too)`);
  }
}

/** One line per note, as the node's log and the import response show them. */
export function formatNote(note: ImportNote): string {
  return `${note.file} line ${note.line}: ${note.message}`;
}
