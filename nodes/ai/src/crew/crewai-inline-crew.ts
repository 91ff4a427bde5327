/**
 * A crew built inside a CrewAI Flow method, as CrewAI's Flows docs show it (`a = Agent(role=..., ...)`,
 * `t = Task(description=..., agent=a)`, `Crew(agents=[a], tasks=[t], process=...).kickoff(...)`), read statically
 * with @lezer/python: each Agent(...) and Task(...) becomes an entry of agents.yaml / tasks.yaml (keyed by its
 * variable name), so the ai-crew node's CrewAI import maps every field as it maps YAML (and reports what it does not
 * map); the Crew(...) call's settings as in a crew.py. What is Python (a variable, a call, an f-string's
 * expressions) is not evaluated: it is listed with the line and what to do. Nothing is run.
 */
import type { SyntaxNode } from '@lezer/common';
import { stringify } from 'yaml';
import { crewCallSettings, keywordArgs, pythonString, type CrewPySettings } from './crewai-crew-py.ts';

export interface InlineCrew extends CrewPySettings {
  /** The Agent/Task variables as CrewAI YAML. */
  agentsYaml: string;
  tasksYaml: string;
}

interface Built {
  name: string;
  call: SyntaxNode;
}

/**
 * The crew `body` (a Flow method's body) builds, or undefined when it calls no `Crew(...)`. `where` names the method
 * in the notes.
 */
export function readInlineCrew(body: SyntaxNode, source: string, where: string): InlineCrew | undefined {
  const text = (n: SyntaxNode) => source.slice(n.from, n.to);
  const lineOf = (pos: number) => source.slice(0, pos).split('\n').length;
  const agents: Built[] = [];
  const tasks: Built[] = [];
  const crews: SyntaxNode[] = [];
  walk(body, (n) => {
    if (n.name !== 'CallExpression') return;
    const callee = text(n.firstChild!);
    if (callee === 'Crew') crews.push(n);
    if (callee !== 'Agent' && callee !== 'Task') return;
    // `name = Agent(...)`: the variable is the entry's key; an unnamed one gets its line.
    const assign = n.parent?.name === 'AssignStatement' ? n.parent.firstChild : null;
    const name = assign?.name === 'VariableName' ? text(assign) : `${callee.toLowerCase()}_line_${lineOf(n.from)}`;
    (callee === 'Agent' ? agents : tasks).push({ name, call: n });
  });
  if (crews.length === 0) return undefined;
  const notes: CrewPySettings['notes'] = [];
  const crew = crews[0]!;
  if (crews.length > 1) notes.push({ line: lineOf(crews[1]!.from), reason: `${where}: more than one Crew(...) call: only the first (line ${lineOf(crew.from)}) is mapped` });
  const crewArgs = keywordArgs(crew, text);
  /** The crew's agents= / tasks= lists (in that order), else every one the method builds. */
  const chosen = (arg: string, built: Built[]): Built[] => {
    const list = crewArgs.get(arg);
    if (list?.name !== 'ArrayExpression') return built;
    const names = children(list).map(text);
    for (const name of names) {
      if (!built.some((b) => b.name === name)) notes.push({ line: lineOf(list.from), reason: `${where}: Crew(${arg}=...) names ${name}, which is not built in this method: add it to the crew node` });
    }
    return names.flatMap((name) => built.filter((b) => b.name === name));
  };
  const agentNames = new Set(agents.map((a) => a.name));
  const taskNames = new Set(tasks.map((t) => t.name));

  /** One entry's fields, CrewAI names kept; what is not a literal is listed (tools as their Python text: the import reports them). */
  const entry = (built: Built, kind: 'agent' | 'task'): Record<string, unknown> => {
    const fields: Record<string, unknown> = {};
    for (const [field, value] of keywordArgs(built.call, text)) {
      const line = lineOf(value.from);
      if (kind === 'task' && field === 'agent' && value.name === 'VariableName' && agentNames.has(text(value))) fields.agent = text(value);
      else if (kind === 'task' && field === 'context' && value.name === 'ArrayExpression' && children(value).every((c) => taskNames.has(text(c)))) fields.context = children(value).map(text);
      else if (field === 'tools' && value.name === 'ArrayExpression') fields.tools = children(value).map(text);
      else if (field === 'llm' && value.name === 'CallExpression') {
        const model = keywordArgs(value, text).get('model');
        const literal = model && pyLiteral(model, text);
        if (typeof literal === 'string') fields.llm = literal;
        else notes.push({ line, reason: `${where}: ${kind} ${built.name}: llm=${text(value)} names no model: give the agent a credential (and model) in the crew node` });
      } else {
        const literal = pyLiteral(value, text);
        if (literal !== undefined) fields[field] = literal;
        else notes.push({ line, reason: `${where}: ${kind} ${built.name}: ${field}=${short(text(value))} is Python, not a value: set it in the crew node (${kind}s → key "${built.name}")` });
        if (value.name === 'FormatString') {
          notes.push({ line, reason: `${where}: ${kind} ${built.name}: ${field} is an f-string: its {…} are Python expressions, kept as placeholders filled from msg.payload; make each a plain {name} the message carries (CrewAI's kickoff inputs)` });
        }
      }
    }
    return fields;
  };
  const settings = crewCallSettings(crew, source, where);
  const yaml = (built: Built[], kind: 'agent' | 'task') => (built.length ? stringify(Object.fromEntries(built.map((b) => [b.name, entry(b, kind)])), { lineWidth: 0 }) : '');
  const agentsYaml = yaml(chosen('agents', agents), 'agent');
  const tasksYaml = yaml(chosen('tasks', tasks), 'task');
  return { agentsYaml, tasksYaml, props: settings.props, notes: [...notes, ...settings.notes] };
}

/** A Python literal as JSON (strings with their quotes and escapes undone), or undefined when it is an expression. */
function pyLiteral(node: SyntaxNode, text: (n: SyntaxNode) => string): unknown {
  switch (node.name) {
    case 'String':
    case 'FormatString':
      return pythonString(text(node));
    case 'ContinuedString':
      return node.getChildren('String').map((s) => pythonString(text(s))).join('');
    case 'ParenthesizedExpression': {
      const inner = children(node);
      return inner.length === 1 ? pyLiteral(inner[0]!, text) : undefined;
    }
    case 'Boolean':
      return text(node) === 'True';
    case 'None':
      return null;
    case 'Number': {
      const n = Number(text(node).replace(/_/g, ''));
      return Number.isFinite(n) ? n : undefined;
    }
    case 'ArrayExpression': {
      const items = children(node).map((c) => pyLiteral(c, text));
      return items.every((i) => i !== undefined) ? items : undefined;
    }
    default:
      return undefined;
  }
}

/** The expressions inside brackets or parentheses (punctuation skipped). */
function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) if (!['[', ']', '(', ')', ','].includes(c.name)) out.push(c);
  return out;
}

function short(python: string): string {
  return python.length > 40 ? `${python.slice(0, 40)}…` : python;
}

/** Every node under `node`, depth first in source order. */
function walk(node: SyntaxNode, visit: (n: SyntaxNode) => void): void {
  for (let c = node.firstChild; c; c = c.nextSibling) {
    visit(c);
    walk(c, visit);
  }
}
