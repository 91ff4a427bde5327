/**
 * Node-RED subflows onto the sub-flow library: a `subflow` definition (one input, at most one output) becomes a library
 * definition — its nodes, a subflow-in where its input port was, a subflow-out where its output port was (a subflow
 * without outputs answers at once and carries on) and a properties schema from its environment variables — and each
 * `subflow:<id>` instance becomes a node of type `subflow:<library id>` with its env values as properties. Inside,
 * Node-RED reads those variables as `env` typed values and `env.get()`; they travel as `msg.subflow.props` here, so
 * those reads are rewritten (and reported). Publishing is the caller's part (subflows/node-red-import.ts).
 */
import type { SubflowDefinition } from '../subflows/definition.ts';
import type { PropertyNote } from './node-red-values.ts';
import type { FlowNode } from './types.ts';

type Note = Omit<PropertyNote, 'nodeId' | 'type' | 'flowId'>;

/** A subflow definition translated for the library (the version is given when it is published). */
export interface ImportedSubflow {
  /** The subflow's id in the Node-RED export. */
  nodeRedId: string;
  definition: Omit<SubflowDefinition, 'version'>;
}

interface EnvEntry {
  name: string;
  type?: string;
  value?: unknown;
}

const LIBRARY_ID = /[^A-Za-z0-9_.-]/g;

/** The library id of Node-RED subflow `id` (letters, digits, - _ .). */
export const subflowLibraryId = (id: string): string => id.replace(LIBRARY_ID, '_').slice(0, 100) || 'subflow';

const portCount = (ports: unknown): number => (Array.isArray(ports) ? ports.length : 0);

/** Why a subflow cannot become a library sub-flow, or undefined when it can. */
export function unsupportedSubflow(sf: Record<string, unknown>): string | undefined {
  if (portCount(sf.in) === 0) return 'a subflow without an input cannot be called: rebuild it as a flow of its own';
  if (portCount(sf.out) > 1) return `a subflow with ${portCount(sf.out)} outputs: library sub-flows answer on one output; split it or merge its outputs`;
  return undefined;
}

export function envEntries(value: unknown): EnvEntry[] {
  return Array.isArray(value) ? value.filter((e): e is EnvEntry => !!e && typeof e === 'object' && typeof (e as EnvEntry).name === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test((e as EnvEntry).name)) : [];
}

/** A Node-RED env value as the JSON value of its type; types that are evaluated (env, jsonata, cred, ...) stay text. */
function envValue(entry: EnvEntry): unknown {
  const text = typeof entry.value === 'string' ? entry.value : entry.value === undefined ? '' : JSON.stringify(entry.value);
  switch (entry.type ?? 'str') {
    case 'num':
      return Number(text);
    case 'bool':
      return text === 'true' || entry.value === true;
    case 'json':
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    default:
      return text;
  }
}

const SCHEMA_TYPES: Record<string, string> = { str: 'string', num: 'number', bool: 'boolean' };

/** The properties schema of a subflow's env: one property per variable, its type and default from the definition. */
export function envSchema(env: EnvEntry[], note: (n: Note) => void): Record<string, unknown> | undefined {
  const properties: Record<string, unknown> = {};
  for (const [i, entry] of env.entries()) {
    const type = entry.type ?? 'str';
    if (type === 'cred') {
      note({ property: `/env/${i}`, action: 'dropped', from: entry.name, reason: 'a credential variable: Node-RED exports no credentials; pass the secret through a Flowcrew credential instead' });
      continue;
    }
    const schemaType = SCHEMA_TYPES[type];
    properties[entry.name] = { ...(schemaType ? { type: schemaType } : {}), default: envValue(entry), title: entry.name };
    if (!schemaType && type !== 'json') note({ property: `/env/${i}/type`, action: 'ignored', from: type, reason: `a "${type}" variable is passed as its text, not evaluated` });
  }
  return Object.keys(properties).length > 0 ? { type: 'object', properties } : undefined;
}

/** An instance's properties: the definition's defaults overridden by the instance's own env entries. */
export function instanceProps(instance: Record<string, unknown>, definitionEnv: EnvEntry[], note: (n: Note) => void): Record<string, unknown> {
  const props: Record<string, unknown> = {};
  const known = new Map(definitionEnv.map((e) => [e.name, e]));
  for (const [i, entry] of envEntries(instance.env).entries()) {
    const declared = known.get(entry.name);
    if (!declared) {
      note({ property: `/env/${i}`, action: 'dropped', from: entry.name, reason: 'not a variable of the subflow definition' });
      continue;
    }
    if ((declared.type ?? 'str') === 'cred' || entry.type === 'cred') continue;
    props[entry.name] = envValue({ ...entry, type: entry.type ?? declared.type });
    note({ property: `/env/${i}`, action: 'translated', from: entry, to: props[entry.name], reason: `the subflow variable ${entry.name} as a property of the node` });
  }
  return props;
}

/** Typed-input pairs Node-RED nodes store (value key, type key). */
const TYPED_PAIRS: Array<[string, string]> = [['v', 'vt'], ['to', 'tot'], ['from', 'fromt'], ['payload', 'payloadType'], ['property', 'propertyType'], ['op1', 'op1type'], ['op2', 'op2type'], ['v2', 'v2t']];

/**
 * Inside a subflow: an `env` typed value naming a subflow variable becomes the message property that carries it
 * (`msg.subflow.props.NAME`); `env.get("NAME")` in a function becomes a read of the same property.
 */
export function useSubflowProps(props: Record<string, unknown>, names: ReadonlySet<string>, note: (n: Note) => void, type: string): void {
  const visit = (value: unknown, pointer: string) => {
    if (Array.isArray(value)) value.forEach((item, i) => visit(item, `${pointer}/${i}`));
    else if (value && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      for (const [valueKey, typeKey] of TYPED_PAIRS) {
        if (obj[typeKey] === 'jsonata' && typeof obj[valueKey] === 'string') {
          // JSONata's $env("NAME") reads the subflow variable in Node-RED: the message carries it here.
          const expr = obj[valueKey] as string;
          const to = expr.replace(/\$env\(\s*(["'])([A-Za-z_][A-Za-z0-9_]*)\1\s*\)/g, (whole, _q, name: string) => (names.has(name) ? `$$.subflow.props.${name}` : whole));
          if (to !== expr) {
            note({ property: `${pointer}/${valueKey}`, action: 'translated', from: expr, to, reason: '$env() of a subflow variable: read from the message property that carries it' });
            obj[valueKey] = to;
          }
        }
        // A subflow variable inside an env text (a${NAME}b) stays: the call's variables hold the instance's (subflows/caller-env.ts).
        if (obj[typeKey] === 'env' && typeof obj[valueKey] === 'string' && names.has(obj[valueKey] as string)) {
          const to = `subflow.props.${obj[valueKey] as string}`;
          note({ property: `${pointer}/${valueKey}`, action: 'translated', from: obj[valueKey], to, reason: 'a subflow variable: read from the message property that carries it' });
          note({ property: `${pointer}/${typeKey}`, action: 'translated', from: 'env', to: 'msg', reason: 'a subflow variable: read from the message property that carries it' });
          obj[valueKey] = to;
          obj[typeKey] = 'msg';
        }
      }
      for (const [key, child] of Object.entries(obj)) if (child && typeof child === 'object') visit(child, `${pointer}/${key}`);
    }
  };
  visit(props, '');
  if (type === 'function' && typeof props.func === 'string') {
    const func = props.func;
    const rewritten = func.replace(/env\.get\(\s*(["'])([A-Za-z_][A-Za-z0-9_]*)\1\s*\)/g, (whole, _q, name: string) =>
      names.has(name) ? `(msg.subflow && msg.subflow.props ? msg.subflow.props[${JSON.stringify(name)}] : undefined)` : whole,
    );
    if (rewritten !== func) {
      props.func = rewritten;
      note({ property: '/func', action: 'translated', from: func, to: rewritten, reason: 'env.get() of a subflow variable: read from msg.subflow.props (a message that was replaced by a new object no longer has it)' });
    }
  }
  // A property that is exactly ${NAME} never gets here: such subflows are inlined per instance (node-red-inline.ts).
}

/**
 * The library definition: the subflow's nodes plus a subflow-in wired to where its input port led, and a subflow-out
 * fed by what led to its output port (with no output port: wired from the subflow-in, so the call answers at once).
 */
export function assembleDefinition(
  sf: Record<string, unknown> & { id: string },
  nodes: FlowNode[],
  /** Where a wire to this Node-RED node ends up (links and junctions passed through), as Flowcrew ids. */
  resolve: (nodeRedId: string) => string[],
  /** The Flowcrew id of an imported Node-RED node. */
  mappedId: (nodeRedId: string) => string | undefined,
  properties: Record<string, unknown> | undefined,
  warn: (message: string) => void,
): ImportedSubflow {
  const id = subflowLibraryId(sf.id);
  const taken = new Set(nodes.map((n) => n.id));
  const fresh = (base: string) => {
    let candidate = base;
    for (let i = 2; taken.has(candidate); i++) candidate = `${base}-${i}`;
    taken.add(candidate);
    return candidate;
  };
  const inId = fresh(`${id}-in`.slice(0, 120));
  const outId = fresh(`${id}-out`.slice(0, 120));
  const portWires = (port: unknown): Array<{ id: string; port: number }> => {
    const wires = (port as { wires?: unknown })?.wires;
    return Array.isArray(wires) ? wires.filter((w): w is { id: string; port?: number } => !!w && typeof w.id === 'string').map((w) => ({ id: w.id, port: typeof w.port === 'number' ? w.port : 0 })) : [];
  };
  const inTargets = [...new Set(portWires((sf.in as unknown[])[0]).flatMap((w) => resolve(w.id)))];
  const out = portCount(sf.out) === 1 ? portWires((sf.out as unknown[])[0]) : [];
  for (const w of out) {
    if (w.id === sf.id) {
      inTargets.push(outId); // the input port wired straight to the output port
      continue;
    }
    const source = nodes.find((n) => n.id === mappedId(w.id));
    if (!source) {
      warn(`subflow "${String(sf.name ?? sf.id)}": its output port is fed by ${w.id}, which was not imported; that wire was removed`);
      continue;
    }
    const wires = source.wires ?? [];
    while (wires.length <= w.port) wires.push([]);
    if (!wires[w.port]!.includes(outId)) wires[w.port]!.push(outId);
    source.wires = wires;
  }
  if (portCount(sf.out) === 0) inTargets.push(outId);
  const positions = nodes.map((n) => n.position).filter((p): p is { x: number; y: number } => !!p);
  const left = positions.length > 0 ? Math.min(...positions.map((p) => p.x)) - 120 : 80;
  const right = positions.length > 0 ? Math.max(...positions.map((p) => p.x)) + 120 : 400;
  const middle = positions.length > 0 ? Math.round(positions.reduce((s, p) => s + p.y, 0) / positions.length) : 80;
  const entry: FlowNode = { id: inId, type: 'subflow-in', name: 'input', position: { x: left, y: middle }, props: {}, wires: [inTargets] };
  const exit: FlowNode = { id: outId, type: 'subflow-out', name: 'output', position: { x: right, y: middle }, props: {} };
  const name = typeof sf.name === 'string' && sf.name.trim() ? sf.name.slice(0, 200) : `Subflow ${sf.id}`;
  const definition: ImportedSubflow['definition'] = { id, name, nodes: [entry, ...nodes, exit] };
  if (typeof sf.info === 'string' && sf.info.trim()) definition.description = sf.info.slice(0, 10_000);
  if (typeof sf.color === 'string' && /^#[0-9a-fA-F]{6}$/.test(sf.color)) definition.color = sf.color;
  if (properties) definition.properties = properties;
  return { nodeRedId: sf.id, definition };
}
