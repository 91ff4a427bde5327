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
  const props: Record<string, unknown> = {};
  const notes: CrewPySettings['notes'] = [];
  const calls: SyntaxNode[] = [];
  tree.iterate({
    enter: (n) => {
      if (n.name === 'CallExpression' && text(n.node.firstChild!) === 'Crew') calls.push(n.node);
    },
  });
  if (calls.length === 0) return { props, notes: [{ line: 1, reason: `${file}: no Crew(...) call found: set process and planning on the crew node` }] };
  if (calls.length > 1) notes.push({ line: lineOf(calls[1]!.from), reason: `${file}: more than one Crew(...) call: only the first (line ${lineOf(calls[0]!.from)}) is read` });

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
    const llm = text(literal).replace(/^[rbuf]*(["']{1,3})([\s\S]*)\1$/i, '$2');
    const kind = llmProvider(llm) === 'anthropic' ? 'an Anthropic' : 'an OpenAI-compatible';
    notes.push({
      line: lineOf(value.from),
      reason: `${file}: ${arg} "${llm}": attach ${kind} AI model credential to the crew node and set ${prop} to "${llmModelName(llm)}" (left unset: on the local model the flow starts with, it would name a model file)`,
    });
  };

  for (const [name, value] of keywordArgs(calls[0]!, text)) {
    const line = lineOf(value.from);
    const written = text(value);
    if (SILENT.has(name)) continue;
    if (name === 'process' && /^Process\.(sequential|hierarchical)$/.test(written)) props.process = written.slice('Process.'.length);
    else if (name === 'planning' && value.name === 'Boolean') props.planning = written === 'True';
    else if (name === 'planning_llm') model(value, name, 'planningModel');
    else if (name === 'manager_llm') model(value, name, 'manager.model');
    else notes.push({ line, reason: `${file}: Crew(${name}=${written.length > 40 ? `${written.slice(0, 40)}…` : written}) is not mapped by the Flows importer: set it on the crew node if it has an equivalent` });
  }
  if (keywordArgs(calls[0]!, text).has('planning_llm') && props.planning !== true) notes.push({ line: lineOf(calls[0]!.from), reason: `${file}: planning_llm without planning=True has no effect` });
  return { props, notes };
}

/** The keyword arguments of a call, by name (positional ones are skipped). */
function keywordArgs(call: SyntaxNode, text: (n: SyntaxNode) => string): Map<string, SyntaxNode> {
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
