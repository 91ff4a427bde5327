/**
 * CrewAI Flows → a Flowcrew flow, from the Python source read statically (@lezer/python; nothing is run). What a
 * Flow declares maps onto wiring: @start() methods hang off one manual trigger, @listen(m) wires m's node to the
 * listener, or_(a, b) wires both, and_(a, b) goes through a join node, @router(m) becomes the method's node plus a
 * switch on msg.route with one output per label the method returns, and @listen("label") hangs off that output.
 * A method that kicks off a crew (`X().crew().kickoff(...)`) becomes an ai-crew node with the crew's YAML when the
 * project's files are given, with the settings of its Crew(...) call (process, planning, planning_llm, manager_llm)
 * when its Python file is given; a crew built in the method itself (Agent(...), Task(...), Crew(...)) becomes an ai-crew
 * node with those agents and tasks as CrewAI YAML (crewai-inline-crew.ts). Method bodies are Python and are NOT translated: each becomes a function node that
 * fails saying so, with the Python kept as comments, and is listed in `unmapped` (see crewai-flows.md).
 */
import { parser } from '@lezer/python';
import type { SyntaxNode } from '@lezer/common';
import { pythonString, readCrewPy } from './crewai-crew-py.ts';
import { readInlineCrew, type InlineCrew } from './crewai-inline-crew.ts';

export interface FlowNodeDoc {
  id: string;
  type: string;
  name?: string;
  props: Record<string, unknown>;
  wires: string[][];
  position: { x: number; y: number };
}

export interface CrewAIFlowImport {
  flow: { id: string; name: string; version: 0; description: string; nodes: FlowNodeDoc[] };
  /** What could not be mapped, or was mapped only in shape (a body to port), with the reason. */
  unmapped: Array<{ method?: string; line: number; reason: string }>;
}

type Trigger = { kind: 'method'; name: string } | { kind: 'label'; label: string } | { kind: 'or'; items: Trigger[] } | { kind: 'and'; items: Trigger[] };

interface Method {
  name: string;
  line: number;
  start: boolean;
  listen?: Trigger;
  router?: Trigger;
  body: string;
  crew?: string;
  /** A crew built in the method itself (Agent(...), Task(...), Crew(...)). */
  inline?: InlineCrew;
  labels: string[];
}

const LAYOUT = { x: 220, y: 100 };

/** `files`: the project's other files by relative path (crews/<name>/config/agents.yaml ...), for the crews' YAML. */
export function importCrewAIFlow(source: string, files: Record<string, string> = {}): CrewAIFlowImport {
  const tree = parser.parse(source);
  const text = (n: SyntaxNode) => source.slice(n.from, n.to);
  const lineOf = (pos: number) => source.slice(0, pos).split('\n').length;
  const unmapped: CrewAIFlowImport['unmapped'] = [];

  const flowClass = tree.topNode.getChildren('ClassDefinition').find((c) => {
    const bases = c.getChild('ArgList');
    return bases && /\bFlow\b/.test(text(bases));
  });
  if (!flowClass) throw new Error('no class deriving from crewai Flow found in the file');
  const className = text(flowClass.getChild('VariableName')!);

  const methods: Method[] = [];
  for (const statement of flowClass.getChild('Body')?.getChildren('DecoratedStatement') ?? []) {
    const def = statement.getChild('FunctionDefinition');
    if (!def) continue;
    const name = text(def.getChild('VariableName')!);
    const method: Method = { name, line: lineOf(def.from), start: false, body: text(def.getChild('Body')!).replace(/^:\s*\n?/, ''), labels: [] };
    for (const decorator of statement.getChildren('Decorator')) {
      const callee = decorator.getChild('VariableName') ?? decorator.getChild('MemberExpression');
      const kind = callee ? text(callee).split('.').pop() : '';
      const args = decorator.getChild('ArgList');
      const first = args?.firstChild?.nextSibling;
      const argument = first && first.name !== ')' ? trigger(first) : undefined;
      if (kind === 'start') method.start = true;
      else if ((kind === 'listen' || kind === 'router') && argument) method[kind] = argument;
      else unmapped.push({ method: name, line: lineOf(decorator.from), reason: `decorator @${text(decorator).slice(1).trim().split('\n')[0]} has no Flowcrew equivalent (persistence is built in: every run is durable)` });
    }
    const kickoff = /\b([A-Z]\w*)\(\)\s*\.crew\(\)\s*\.kickoff(?:_async)?\s*\(/.exec(method.body);
    if (kickoff) method.crew = kickoff[1];
    else {
      const inline = readInlineCrew(def.getChild('Body')!, source, `method ${name}`);
      if (inline) method.inline = inline;
    }
    if (method.router) method.labels = [...new Set([...method.body.matchAll(/return\s+(["'])([^"'\n]+)\1/g)].map((m) => m[2]!))];
    methods.push(method);
  }
  if (!methods.some((m) => m.start)) unmapped.push({ line: lineOf(flowClass.from), reason: 'no @start() method: the flow has no entry point' });

  function trigger(node: SyntaxNode): Trigger | undefined {
    if (node.name === 'VariableName') return { kind: 'method', name: text(node) };
    if (node.name === 'String') return { kind: 'label', label: pythonString(text(node)) };
    if (node.name === 'CallExpression') {
      const fn = text(node.firstChild!);
      if (fn === 'or_' || fn === 'and_') {
        const items: Trigger[] = [];
        for (let arg = node.getChild('ArgList')?.firstChild; arg; arg = arg.nextSibling) {
          if (arg.name === '(' || arg.name === ')' || arg.name === ',') continue;
          const item = trigger(arg);
          if (item) items.push(item);
        }
        return { kind: fn === 'or_' ? 'or' : 'and', items };
      }
    }
    unmapped.push({ line: lineOf(node.from), reason: `listener condition ${text(node)} is not declarative (a method, a label, or_ / and_ of them)` });
    return undefined;
  }

  // Nodes: one per method (plus a switch per router, a join per and_), then the wiring.
  const nodes = new Map<string, FlowNodeDoc>();
  const add = (node: Omit<FlowNodeDoc, 'position' | 'wires'>) => {
    const full = { ...node, wires: [] as string[][], position: { x: 0, y: 0 } };
    nodes.set(node.id, full);
    return full;
  };
  const byName = new Map(methods.map((m) => [m.name, m]));
  const routerOf = new Map<string, { switchId: string; port: number }>();
  const entry = add({ id: 'kickoff', type: 'inject', name: `${className} kickoff`, props: { props: [] } });
  for (const m of methods) {
    if (m.crew) {
      const dir = `crews/${snake(m.crew)}/config`;
      const agentsYaml = files[`${dir}/agents.yaml`];
      const tasksYaml = files[`${dir}/tasks.yaml`];
      // The Crew(...) call of crews/<name>/<name>.py: process, planning, planning_llm, manager_llm (crewai-crew-py.ts).
      const pyFile = [`crews/${snake(m.crew)}/${snake(m.crew)}.py`, `crews/${snake(m.crew)}/crew.py`].find((f) => files[f] !== undefined);
      const settings = pyFile ? readCrewPy(files[pyFile]!, pyFile) : undefined;
      add({ id: m.name, type: 'ai-crew', name: m.name, props: { source: 'crewai', crewai: { agentsYaml: agentsYaml ?? '', tasksYaml: tasksYaml ?? '' }, ...settings?.props } });
      for (const note of settings?.notes ?? []) unmapped.push({ method: m.name, line: note.line, reason: note.reason });
      if (!settings) unmapped.push({ method: m.name, line: m.line, reason: `crew ${m.crew}: crews/${snake(m.crew)}/${snake(m.crew)}.py not given: its Crew(...) settings (process, planning, planning_llm, manager_llm) are not read; set them on the ai-crew node` });
      if (agentsYaml === undefined || tasksYaml === undefined) unmapped.push({ method: m.name, line: m.line, reason: `crew ${m.crew}: paste ${dir}/agents.yaml and tasks.yaml into the ai-crew node (give the project directory to import them)` });
      unmapped.push({ method: m.name, line: m.line, reason: `the Python around the kickoff (inputs, state updates) is not translated: the crew gets the incoming msg.payload as its inputs` });
    } else if (m.inline) {
      // Agents and tasks built in the method: as YAML, so the crew node's CrewAI import maps (and reports) every field.
      const { agentsYaml, tasksYaml, props, notes } = m.inline;
      add({ id: m.name, type: 'ai-crew', name: m.name, props: { source: 'crewai', crewai: { agentsYaml, tasksYaml }, ...props } });
      for (const note of notes) unmapped.push({ method: m.name, line: note.line, reason: note.reason });
      unmapped.push({ method: m.name, line: m.line, reason: `the Python around the crew (inputs, state updates) is not translated: the crew gets the incoming msg.payload as its inputs` });
    } else {
      add({ id: m.name, type: 'function', name: m.name, props: { func: portMe(m) } });
      unmapped.push({ method: m.name, line: m.line, reason: 'Python method body: port it to JavaScript in the function node (its Python is kept there as comments)' });
    }
    if (m.router) {
      const switchId = `${m.name}_route`;
      add({ id: switchId, type: 'switch', name: `${m.name} route`, props: { property: 'route', propertyType: 'msg', checkall: 'false', rules: m.labels.map((label) => ({ t: 'eq', v: label, vt: 'str' })) } });
      m.labels.forEach((label, port) => routerOf.set(label, { switchId, port }));
      wire(m.name, 0, switchId);
      if (m.labels.length === 0) unmapped.push({ method: m.name, line: m.line, reason: 'router returns no literal label: its routes cannot be wired' });
    }
  }

  function wire(from: string, port: number, to: string): void {
    const node = nodes.get(from)!;
    while (node.wires.length <= port) node.wires.push([]);
    if (!node.wires[port]!.includes(to)) node.wires[port]!.push(to);
  }

  /** Wire the output(s) a trigger stands for into `to`; false when it names nothing in the flow. */
  function connect(t: Trigger, to: string, method: Method): void {
    if (t.kind === 'or') return t.items.forEach((item) => connect(item, to, method));
    if (t.kind === 'and') {
      const joinId = `${method.name}_and`;
      add({ id: joinId, type: 'join', name: `${method.name}: all of ${t.items.length}`, props: { mode: 'custom', build: 'array', property: 'payload', propertyType: 'msg', count: t.items.length, useparts: false } });
      wire(joinId, 0, to);
      unmapped.push({ method: method.name, line: method.line, reason: `and_(...) maps to a join of ${t.items.length} messages: it waits for that many arrivals, not for one from each listed method` });
      return t.items.forEach((item) => connect(item, joinId, method));
    }
    const name = t.kind === 'method' ? t.name : t.label;
    const route = t.kind === 'label' ? routerOf.get(name) : undefined;
    if (route) return wire(route.switchId, route.port, to);
    if (byName.has(name)) return wire(name, 0, to);
    unmapped.push({ method: method.name, line: method.line, reason: `listens to "${name}", which is neither a method nor a label a router returns` });
  }

  for (const m of methods) {
    if (m.start) wire(entry.id, 0, m.name);
    if (m.listen) connect(m.listen, m.name, m);
    if (m.router) connect(m.router, m.name, m);
  }
  layout([...nodes.values()], entry.id);
  return {
    flow: { id: snake(className).replace(/_/g, '-'), name: className, version: 0, description: `Imported from the CrewAI Flow ${className}`, nodes: [...nodes.values()] },
    unmapped,
  };
}

function portMe(m: Method): string {
  const python = m.body.split('\n').map((line) => `// ${line}`).join('\n');
  const route = m.router ? `\n// A router: set msg.route to one of ${m.labels.map((l) => JSON.stringify(l)).join(', ') || 'its labels'} and return msg.` : '';
  return `// CrewAI Flow method "${m.name}" (Python, not run by Flowcrew):\n${python}${route}\nthrow new Error(${JSON.stringify(`step "${m.name}" was imported from a CrewAI Flow and still holds Python: port it to JavaScript`)});`;
}

function snake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** Columns by distance from the trigger, rows in order of appearance. */
function layout(nodes: FlowNodeDoc[], entry: string): void {
  const depth = new Map<string, number>([[entry, 0]]);
  const queue = [entry];
  const byId = new Map(nodes.map((n) => [n.id, n]));
  while (queue.length) {
    const id = queue.shift()!;
    for (const to of byId.get(id)?.wires.flat() ?? []) {
      if (!depth.has(to)) {
        depth.set(to, depth.get(id)! + 1);
        queue.push(to);
      }
    }
  }
  const rows = new Map<number, number>();
  for (const node of nodes) {
    const column = depth.get(node.id) ?? 0;
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    node.position = { x: 40 + column * LAYOUT.x, y: 40 + row * LAYOUT.y };
  }
}
