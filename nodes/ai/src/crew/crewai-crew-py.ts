/**
 * The crew settings a CrewAI project keeps in Python (`crews/<name>/<name>.py`: `@crew def crew(self): return
 * Crew(agents=self.agents, tasks=self.tasks, process=..., planning=True, planning_llm=..., manager_llm=...)`), read
 * statically with @lezer/python for the Flows importer: process and planning become the crew node's props; the
 * models (planning_llm, manager_llm) are reported with the prop to set; every other argument is reported with the
 * reason. Nothing is run.
 */
import { parser } from '@lezer/python';
import type { SyntaxNode } from '@lezer/common';
import { llmModelName, llmProvider } from './crewai-fields.ts';

export interface CrewPySettings {
  /** Crew node props (process, planning). */
  props: Record<string, unknown>;
  /** What was not mapped, or mapped with a condition, by line of the crew's Python file. */
  notes: Array<{ line: number; reason: string }>;
}

/** Arguments with nothing to set: the crew node has its agents and tasks from the YAML, and logs what it does. */
const SILENT = new Set(['agents', 'tasks', 'verbose']);

export function readCrewPy(source: string, file: string): CrewPySettings {
  const tree = parser.parse(source);
  const text = (n: SyntaxNode) => source.slice(n.from, n.to);
  const lineOf = (pos: number) => source.slice(0, pos).split('\n').length;
  const notes: CrewPySettings['notes'] = [];
  const calls: SyntaxNode[] = [];
  tree.iterate({
    enter: (n) => {
      if (n.name === 'CallExpression' && text(n.node.firstChild!) === 'Crew') calls.push(n.node);
    },
  });
  if (calls.length === 0) return { props: {}, notes: [{ line: 1, reason: `${file}: no Crew(...) call found: set process and planning on the crew node` }] };
  if (calls.length > 1) notes.push({ line: lineOf(calls[1]!.from), reason: `${file}: more than one Crew(...) call: only the first (line ${lineOf(calls[0]!.from)}) is read` });
  const settings = crewCallSettings(calls[0]!, source, file);
  return { props: settings.props, notes: [...notes, ...settings.notes] };
}

/** Process, planning and the models of one `Crew(...)` call (a crew.py's, or one built inside a Flow method). */
export function crewCallSettings(call: SyntaxNode, source: string, file: string): CrewPySettings {
  const text = (n: SyntaxNode) => source.slice(n.from, n.to);
  const lineOf = (pos: number) => source.slice(0, pos).split('\n').length;
  const props: Record<string, unknown> = {};
  const notes: CrewPySettings['notes'] = [];

  /**
   * A model given as "provider/model", LLM(model="..."), or ChatOpenAI(model="...") / model_name=: reported with the
   * prop to set, not set: a model name there is read as a GGUF file on the local model the imported flow starts on.
   */
  const model = (value: SyntaxNode, arg: string, prop: string): void => {
    const literal = value.name === 'String' ? value : value.name === 'CallExpression' ? (keywordArgs(value, text).get('model') ?? keywordArgs(value, text).get('model_name')) : undefined;
    if (literal?.name !== 'String') {
      notes.push({ line: lineOf(value.from), reason: `${file}: ${arg}=${text(value)} is not a model name written out: set ${prop} on the crew node` });
      return;
    }
    const llm = pythonString(text(literal));
    const kind = llmProvider(llm) === 'anthropic' ? 'an Anthropic' : 'an OpenAI-compatible';
    notes.push({
      line: lineOf(value.from),
      reason: `${file}: ${arg} "${llm}": attach ${kind} AI model credential to the crew node and set ${prop} to "${llmModelName(llm)}" (left unset: on the local model the flow starts with, it would name a model file)`,
    });
  };

  for (const [name, value] of keywordArgs(call, text)) {
    const line = lineOf(value.from);
    const written = text(value);
    if (SILENT.has(name)) continue;
    if (name === 'process' && /^Process\.(sequential|hierarchical)$/.test(written)) props.process = written.slice('Process.'.length);
    else if (name === 'planning' && value.name === 'Boolean') props.planning = written === 'True';
    else if (name === 'planning_llm') model(value, name, 'planningModel');
    else if (name === 'manager_llm') model(value, name, 'manager.model');
    else notes.push({ line, reason: `${file}: Crew(${name}=${written.length > 40 ? `${written.slice(0, 40)}…` : written}) is not mapped by the Flows importer: set it on the crew node if it has an equivalent` });
  }
  if (keywordArgs(call, text).has('planning_llm') && props.planning !== true) notes.push({ line: lineOf(call.from), reason: `${file}: planning_llm without planning=True has no effect` });
  return { props, notes };
}

/** The keyword arguments of a call, by name (positional ones are skipped). */
export function keywordArgs(call: SyntaxNode, text: (n: SyntaxNode) => string): Map<string, SyntaxNode> {
  const args = new Map<string, SyntaxNode>();
  for (let c = call.getChild('ArgList')?.firstChild; c; c = c.nextSibling) {
    const value = c.nextSibling?.name === 'AssignOp' ? c.nextSibling.nextSibling : null;
    if (c.name === 'VariableName' && value) {
      args.set(text(c), value);
      c = value;
    }
  }
  return args;
}

/** A Python string literal's value: prefix and quotes removed, escapes undone (not in raw strings), outer blank lines trimmed. */
export function pythonString(literal: string): string {
  const match = /^([rbuf]*)("""|'''|"|')([\s\S]*)\2$/i.exec(literal);
  if (!match) return literal;
  const [, prefix, quotes, inner] = match as unknown as [string, string, string, string];
  const value = /r/i.test(prefix) ? inner : inner.replace(/\\(n|t|r|\\|'|"|\n)/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r', '\n': '' })[c] ?? c);
  return quotes.length === 3 ? dedent(value) : value;
}

function dedent(value: string): string {
  const lines = value.replace(/^\s*\n/, '').replace(/\n\s*$/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(Number.isFinite(indent) ? indent : 0)).join('\n');
}
