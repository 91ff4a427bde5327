/**
 * The crew a crew node describes, from its props: the inline agents and tasks, plus a CrewAI project's YAML when
 * the source is `crewai`. What crew.py does in CrewAI is done here without Python: an inline agent or task with
 * the key of an imported one adds to it (agent assignment, context, tools, output schema...), others join.
 *
 * One function for validate (issues with JSON pointers into the props, before anything is saved) and deploy (the
 * same issues refuse the deploy), so validation catches everything deploy would.
 */
import type { NodeIssue } from '@flowcrew/sdk';
import { OutputSchema } from '../agents/structured-output.ts';
import { applyTemplate } from '../agents/templates.ts';
import type { McpServerConfig } from '../tools/mcp.ts';
import { CrewAIImportError, formatNote, importCrewAI, type CrewAIImport } from './crewai-import.ts';
import type { AgentSpec, TaskSpec } from './spec.ts';
import { asyncTaskProblems } from './async-tasks.ts';

export interface CrewProps {
  process?: 'sequential' | 'hierarchical';
  source?: 'inline' | 'crewai';
  agents?: AgentSpec[];
  tasks?: TaskSpec[];
  crewai?: { agentsYaml?: string; tasksYaml?: string };
  mcpServers?: McpServerConfig[];
}

export type ResolvedTask = TaskSpec & { description: string };

export interface ResolvedCrew {
  agents: AgentSpec[];
  tasks: ResolvedTask[];
  mcpServers: McpServerConfig[];
  /** Errors make the crew unusable; warnings are CrewAI fields not applied, shared-field entries skipped... */
  issues: NodeIssue[];
}

const AGENTS_YAML = '/crewai/agentsYaml';
const TASKS_YAML = '/crewai/tasksYaml';

export function resolveCrew(props: CrewProps): ResolvedCrew {
  const issues: NodeIssue[] = [];
  const error = (pointer: string, message: string) => issues.push({ pointer, message });
  const inlineAgents = props.agents ?? [];
  const inlineTasks = props.tasks ?? [];
  let mcpServers = [...(props.mcpServers ?? [])];

  let imported: CrewAIImport = { agents: [], tasks: [], mcpServers: [], notes: [], lines: { agents: {}, tasks: {} } };
  const fromYaml = (props.source ?? 'inline') === 'crewai';
  if (fromYaml) {
    try {
      imported = importCrewAI(props.crewai?.agentsYaml ?? '', props.crewai?.tasksYaml ?? '');
    } catch (problem) {
      if (!(problem instanceof CrewAIImportError)) throw problem;
      error(problem.file === 'tasks.yaml' ? TASKS_YAML : AGENTS_YAML, problem.message);
      return { agents: [], tasks: [], mcpServers, issues };
    }
    for (const note of imported.notes) issues.push({ pointer: note.file === 'agents.yaml' ? AGENTS_YAML : TASKS_YAML, message: formatNote(note), severity: 'warning' });
    mcpServers = mergeServers(mcpServers, imported);
  }

  // Where each agent and task is written, for pointers: the inline entry when there is one, else its YAML line.
  const inlineAgentIndex = firstIndexByKey(inlineAgents, (i, key) => error(`/agents/${i}/key`, `two agents have the key "${key}"`));
  const inlineTaskIndex = firstIndexByKey(inlineTasks, (i, key) => error(`/tasks/${i}/key`, `two tasks have the key "${key}"`));
  const agentAt = (key: string, field = '') => (inlineAgentIndex.has(key) ? `/agents/${inlineAgentIndex.get(key)}${field}` : AGENTS_YAML);
  const taskAt = (key: string, field: string) => {
    if (inlineTaskIndex.has(key)) return { pointer: `/tasks/${inlineTaskIndex.get(key)}${field}`, where: '' };
    return { pointer: TASKS_YAML, where: `tasks.yaml line ${imported.lines.tasks[key]}: ` };
  };

  const importedAgentKeys = new Set(imported.agents.map((a) => a.key));
  const agents: AgentSpec[] = [
    ...imported.agents.map((a) => ({ ...a, ...definedFields(inlineAgents[inlineAgentIndex.get(a.key) ?? -1]) })),
    ...inlineAgents.filter((a, i) => !importedAgentKeys.has(a.key) && inlineAgentIndex.get(a.key) === i),
  ];
  for (const agent of agents) {
    try {
      const filled = applyTemplate(agent);
      if (!filled.role || !filled.goal) error(agentAt(agent.key), `agent "${agent.key}" needs a role and a goal (or a template)`);
    } catch (problem) {
      error(agentAt(agent.key, '/template'), (problem as Error).message);
    }
  }

  const importedTaskKeys = new Set(imported.tasks.map((t) => t.key));
  const merged: TaskSpec[] = [
    ...imported.tasks.map((t) => ({ ...t, ...definedFields(inlineTasks[inlineTaskIndex.get(t.key) ?? -1]) })),
    ...inlineTasks.filter((t, i) => !importedTaskKeys.has(t.key) && inlineTaskIndex.get(t.key) === i),
  ];
  const tasks: ResolvedTask[] = [];
  for (const task of merged) {
    if (!task.description) {
      const known = fromYaml ? ` (tasks.yaml has no task "${task.key}"${imported.tasks.length ? `; it has ${imported.tasks.map((t) => `"${t.key}"`).join(', ')}` : ''})` : '';
      error(taskAt(task.key, '/description').pointer, `task "${task.key}" needs a description${known}`);
      continue;
    }
    tasks.push(task as ResolvedTask);
  }

  if (agents.length === 0) error(fromYaml && !inlineAgents.length ? AGENTS_YAML : '/agents', 'the crew has no agents');
  if (merged.length === 0) error(fromYaml && !inlineTasks.length ? TASKS_YAML : '/tasks', 'the crew has no tasks');

  const agentKeys = agents.map((a) => a.key);
  const sequential = (props.process ?? 'sequential') === 'sequential';
  const earlier = new Set<string>();
  for (const task of merged) {
    if (task.agent && !agentKeys.includes(task.agent)) {
      const at = taskAt(task.key, '/agent');
      error(at.pointer, `${at.where}task "${task.key}" names agent "${task.agent}", which is not in the crew (agents: ${agentKeys.join(', ') || 'none'})`);
    }
    if (!task.agent && sequential) {
      const at = inlineTaskIndex.has(task.key) ? taskAt(task.key, '/agent') : { pointer: '/tasks', where: `tasks.yaml line ${imported.lines.tasks[task.key]}: ` };
      error(
        at.pointer,
        `${at.where}task "${task.key}" has no agent, and a sequential crew needs one per task: assign one in the crew node ` +
          `(tasks: add {key: "${task.key}", agent: one of ${agentKeys.map((k) => `"${k}"`).join(', ') || 'your agents'}}), or set process to hierarchical to let the manager assign it`,
      );
    }
    for (const [i, name] of (task.context ?? []).entries()) {
      if (!earlier.has(name)) {
        const at = taskAt(task.key, `/context/${i}`);
        error(at.pointer, `${at.where}task "${task.key}" takes context from "${name}", which is not a task before it`);
      }
    }
    if (task.outputSchema !== undefined) {
      try {
        new OutputSchema(task.outputSchema);
      } catch (problem) {
        const at = taskAt(task.key, '/outputSchema');
        error(at.pointer, `${at.where}task "${task.key}": ${(problem as Error).message}`);
      }
    }
    earlier.add(task.key);
  }
  for (const [key, message] of asyncTaskProblems(merged)) {
    const at = taskAt(key, '/asyncExecution');
    error(at.pointer, `${at.where}${message}`);
  }
  return { agents, tasks, mcpServers, issues };
}

/** Fields that are set (so an empty string or missing field in an override does not erase an imported value). */
export function definedFields<T extends object>(value: T | undefined): Partial<T> {
  if (!value) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== '')) as Partial<T>;
}

function firstIndexByKey(items: Array<{ key: string }>, duplicate: (index: number, key: string) => void): Map<string, number> {
  const index = new Map<string, number>();
  items.forEach((item, i) => {
    if (index.has(item.key)) duplicate(i, item.key);
    else index.set(item.key, i);
  });
  return index;
}

/** The node's MCP servers plus the imported ones; an imported URL the node already has keeps the node's name. */
function mergeServers(servers: McpServerConfig[], imported: CrewAIImport): McpServerConfig[] {
  const result = [...servers];
  for (const server of imported.mcpServers) {
    if (server.transport !== 'http') continue;
    const same = result.find((s) => s.transport === 'http' && s.url === server.url);
    let name = same?.name ?? server.name;
    if (!same) {
      for (let i = 2; result.some((s) => s.name === name); i++) name = `${server.name}_${i}`;
      result.push({ ...server, name });
    }
    for (const agent of imported.agents) for (const ref of agent.mcp ?? []) if (ref.server === server.name) ref.server = name;
  }
  return result;
}
