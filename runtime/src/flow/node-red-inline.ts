/**
 * Node-RED subflows a library sub-flow cannot stand for — no input (a source: an http in, an inject, an mqtt in
 * inside), several outputs, a status output (it sets each instance's status: a subflow-status node with the instance's
 * id and name takes the instance's place), or a property written exactly `${NAME}` of a subflow variable (Node-RED writes each
 * instance's value into it; a library sub-flow's nodes are shared by its instances) — are inlined: each instance is replaced by a copy of the subflow's nodes, in the instance's
 * flow, which is what Node-RED itself does when it starts an instance. The instance's variables (its env, over the
 * definition's defaults) are written into the copies — `env` typed values, properties that are exactly `${NAME}`,
 * JSONata's `$env("NAME")`, `env.get("NAME")` in functions — with the types Node-RED gives them, so each copy answers
 * as that instance does. Runs on the export's JSON before the import proper, so the copies are normalised like any
 * node. Copies are named `<instance id>-<node id>`.
 */
import type { PropertyNote } from './node-red-values.ts';
import { envEntries, unsupportedSubflow } from './node-red-subflows.ts';

export type NrNode = { id: string; type: string; z?: string; [key: string]: unknown };

/** Typed-input pairs Node-RED nodes store (value key, type key). */
const TYPED_PAIRS: Array<[string, string]> = [['v', 'vt'], ['to', 'tot'], ['from', 'fromt'], ['payload', 'payloadType'], ['property', 'propertyType'], ['op1', 'op1type'], ['op2', 'op2type'], ['v2', 'v2t']];
const WHOLE = /^\$(?:{(\S+)}|\((\S+)\))$/;
/** Passes of inlining: a subflow inlined into another is inlined again; more means a subflow using itself. */
const MAX_DEPTH = 10;

export interface Variable {
  type: 'str' | 'num' | 'bool' | 'json';
  /** The value as Node-RED evaluates it (a number, a boolean, parsed JSON, text). */
  value: unknown;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** The instance's variables: the definition's defaults, then the instance's own entries; evaluated types are left out. */
function variablesOf(sf: NrNode, instance: NrNode): { vars: Map<string, Variable>; skipped: string[] } {
  return typedVariables([...envEntries(sf.env), ...envEntries(instance.env)]);
}

/** Node-RED env entries (later ones win) as the values Node-RED evaluates them to; evaluated types are left out. */
export function typedVariables(entries: ReturnType<typeof envEntries>, into = new Map<string, Variable>()): { vars: Map<string, Variable>; skipped: string[] } {
  const vars = into;
  const skipped: string[] = [];
  for (const entry of entries) {
    const type = entry.type ?? 'str';
    const text = typeof entry.value === 'string' ? entry.value : entry.value === undefined ? '' : JSON.stringify(entry.value);
    if (type === 'str') vars.set(entry.name, { type, value: text });
    else if (type === 'num') vars.set(entry.name, { type, value: Number(text) });
    else if (type === 'bool') vars.set(entry.name, { type, value: text === 'true' || entry.value === true });
    else if (type === 'json') {
      try {
        vars.set(entry.name, { type, value: JSON.parse(text) as unknown });
      } catch {
        vars.set(entry.name, { type: 'str', value: text });
      }
    } else {
      vars.delete(entry.name);
      skipped.push(`${entry.name} (${type})`);
    }
  }
  return { vars, skipped };
}

const asTyped = (v: Variable): [string, string] => [v.type === 'str' ? (v.value as string) : JSON.stringify(v.value), v.type];

/** Write variables into one node's config (a new object; the export is not changed). */
export function substitute(node: NrNode, vars: Map<string, Variable>): NrNode {
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      // Node-RED's mapEnvVarProperties: a property that is exactly ${NAME} takes the variable's (typed) value.
      const match = value[0] === '$' ? WHOLE.exec(value) : null;
      const found = match ? vars.get((match[1] ?? match[2])!) : undefined;
      return found !== undefined && found.value !== '' ? found.value : value;
    }
    if (Array.isArray(value)) return value.map(walk);
    if (!isObject(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = walk(inner);
    for (const [valueKey, typeKey] of TYPED_PAIRS) {
      const text = value[valueKey];
      if (typeof text !== 'string') continue;
      if (value[typeKey] === 'env') {
        const name = /^\${([^}]+)}$/.exec(text)?.[1] ?? text;
        const whole = vars.get(name);
        if (whole) [out[valueKey], out[typeKey]] = asTyped(whole);
        else if (/\${[^}]+}/.test(text)) {
          // `a${NAME}b`: a text once every name in it is a subflow variable; otherwise left to the flow's variables.
          const names = [...text.matchAll(/\${([^}]+)}/g)].map((m) => m[1]!);
          if (names.every((n) => vars.has(n))) [out[valueKey], out[typeKey]] = [text.replace(/\${([^}]+)}/g, (_m, n: string) => String(vars.get(n)!.value)), 'str'];
        }
      } else if (value[typeKey] === 'jsonata') {
        out[valueKey] = text.replace(/\$env\(\s*(["'])([A-Za-z_][A-Za-z0-9_]*)\1\s*\)/g, (whole, _q, n: string) => (vars.has(n) ? JSON.stringify(vars.get(n)!.value) : whole));
      }
    }
    return out;
  };
  const copy = walk(node) as NrNode;
  for (const key of ['func', 'initialize', 'finalize']) {
    if (node.type === 'function' && typeof copy[key] === 'string') {
      copy[key] = (copy[key] as string).replace(/\benv\.get\(\s*(["'])([A-Za-z_][A-Za-z0-9_]*)\1\s*\)/g, (whole, _q, n: string) => (vars.has(n) ? `(${JSON.stringify(vars.get(n)!.value)})` : whole));
    }
  }
  return copy;
}

/** Every string equal to a key of `ids` (wires, links, scopes, group members, config node references) renamed. */
function renameIds(value: unknown, ids: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') return ids.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => renameIds(v, ids));
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'type' ? v : renameIds(v, ids)]));
}

const portWires = (port: unknown): Array<{ id: string; port: number }> => {
  const wires = (port as { wires?: unknown } | undefined)?.wires;
  return Array.isArray(wires) ? wires.filter((w): w is { id: string; port?: number } => isObject(w) && typeof w.id === 'string').map((w) => ({ id: w.id, port: typeof w.port === 'number' ? w.port : 0 })) : [];
};
const wiresOf = (n: NrNode): string[][] => (Array.isArray(n.wires) ? n.wires.map((p) => (Array.isArray(p) ? p.filter((t): t is string => typeof t === 'string') : [])) : []);

/** A property exactly `${NAME}` of a subflow variable somewhere in the subflow's nodes (Node-RED substitutes it per instance). */
function usesWholeVariable(sf: NrNode, items: NrNode[]): string | undefined {
  const names = new Set(envEntries(sf.env).map((e) => e.name));
  let found: string | undefined;
  const visit = (value: unknown): void => {
    if (found) return;
    if (typeof value === 'string') {
      const match = value[0] === '$' ? WHOLE.exec(value) : null;
      if (match && names.has((match[1] ?? match[2])!)) found = value;
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (isObject(value)) Object.values(value).forEach(visit);
  };
  if (names.size > 0) items.filter((n) => n.z === sf.id).forEach(visit);
  return found;
}

/** Node-RED core types that never set a status of their own. */
const SILENT_TYPES = new Set(['change', 'switch', 'template', 'json', 'yaml', 'xml', 'html', 'csv', 'range', 'split', 'join', 'sort', 'batch', 'comment', 'link in', 'link out', 'junction', 'catch', 'status', 'complete', 'inject', 'http response']);

/**
 * A status node of an instance's flow that watches it (every node, its group, or the instance by id), when a node
 * inside may set a status (a function only by calling node.status).
 */
function watchedInstance(sf: NrNode, items: NrNode[]): NrNode | undefined {
  const mayReport = (n: NrNode) => !SILENT_TYPES.has(n.type) && (n.type !== 'function' || /\bnode\.status\s*\(/.test(String(n.func ?? '')));
  if (!items.some((n) => n.z === sf.id && mayReport(n))) return undefined;
  const watches = (status: NrNode, instance: NrNode) => status.z === instance.z && (!Array.isArray(status.scope) || status.scope.includes(instance.id));
  const statusNodes = items.filter((n) => n.type === 'status');
  return items.find((n) => n.type === `subflow:${sf.id}` && statusNodes.some((s) => watches(s, n)));
}

/** Why instances of `sf` are inlined, or undefined when it becomes a library sub-flow. */
function inlineReason(sf: NrNode, items: NrNode[]): string | undefined {
  if (unsupportedSubflow(sf) !== undefined) return (sf.in as unknown[] | undefined)?.length ? `${(sf.out as unknown[]).length} outputs` : 'no input';
  if (portWires(sf.status).length > 0) return 'a status output, which sets each instance\'s status';
  const whole = usesWholeVariable(sf, items);
  if (whole) return `a property written ${whole}, which Node-RED replaces per instance`;
  const watched = watchedInstance(sf, items);
  return watched ? `a status node watches instance ${String(watched.name || watched.id)}: Node-RED passes the statuses of the nodes inside up to it, a library sub-flow runs apart` : undefined;
}

/** One instance replaced by copies of its subflow's nodes; returns the nodes that replace it and what feeds its input. */
function inlineInstance(items: NrNode[], sf: NrNode, why: string, instance: NrNode, note: (n: PropertyNote) => void): { copies: NrNode[]; entry: string[]; toReporter: Array<[string, number]> } {
  const inner = items.filter((n) => n.z === sf.id);
  const ids = new Map(inner.map((n) => [n.id, `${instance.id}-${n.id}`]));
  const { vars, skipped } = variablesOf(sf, instance);
  const xs = inner.map((n) => n.x).filter((x): x is number => typeof x === 'number');
  const ys = inner.map((n) => n.y).filter((y): y is number => typeof y === 'number');
  const dx = (typeof instance.x === 'number' ? instance.x : 0) - (xs.length > 0 ? Math.min(...xs) : 0);
  const dy = (typeof instance.y === 'number' ? instance.y : 0) - (ys.length > 0 ? Math.min(...ys) : 0);
  const copies = inner.map((n) => {
    const copy = renameIds(substitute(n, vars), ids) as NrNode;
    copy.id = ids.get(n.id)!;
    copy.z = instance.z;
    if (typeof n.x === 'number' && typeof n.y === 'number') [copy.x, copy.y] = [n.x + dx, n.y + dy];
    if (typeof instance.g === 'string' && typeof n.g !== 'string') copy.g = instance.g;
    return copy;
  });
  // A catch or status node inside watching "all" watches the subflow's nodes only (Node-RED: the instance's).
  for (const copy of copies) {
    if ((copy.type === 'catch' || copy.type === 'status') && !Array.isArray(copy.scope)) copy.scope = copies.filter((c) => c !== copy).map((c) => c.id);
  }
  const byId = new Map(copies.map((c) => [c.id, c]));
  const outputs = wiresOf(instance);
  const entry = portWires((sf.in as unknown[] | undefined)?.[0]).map((w) => ids.get(w.id) ?? w.id);
  (Array.isArray(sf.out) ? sf.out : []).forEach((port, k) => {
    for (const w of portWires(port)) {
      if (w.id === sf.id) {
        entry.push(...(outputs[k] ?? [])); // the input port wired straight to this output
        continue;
      }
      const source = byId.get(ids.get(w.id) ?? '');
      if (!source) continue;
      const wires = wiresOf(source);
      while (wires.length <= w.port) wires.push([]);
      wires[w.port]!.push(...(outputs[k] ?? []));
      source.wires = wires;
    }
  });
  const statusPort = portWires(sf.status);
  /** Outputs (copy id, port) wired to the status output: wired to the reporter once wires into the instance are rewired. */
  const toReporter: Array<[string, number]> = [];
  if (statusPort.length > 0) {
    // The status output: a subflow-status node with the instance's id and name reports as the instance does.
    const reporter: NrNode = { id: instance.id, type: 'subflow-status', z: instance.z, name: typeof instance.name === 'string' ? instance.name : '', instanceOf: instance.type, wires: [] };
    if (typeof instance.x === 'number' && typeof instance.y === 'number') [reporter.x, reporter.y] = [instance.x, instance.y + 40];
    if (typeof instance.g === 'string') reporter.g = instance.g;
    for (const w of statusPort) {
      if (w.id === sf.id) entry.push(reporter.id); // the input port wired straight to the status output
      else if (ids.has(w.id)) toReporter.push([ids.get(w.id)!, w.port]);
    }
    copies.push(reporter);
  }
  note({
    nodeId: instance.id, type: instance.type, property: '', action: 'translated', to: copies.map((c) => c.id),
    reason: `an instance of subflow "${String(sf.name ?? sf.id)}" (${why}: a library sub-flow cannot hold it): its nodes were copied into the flow in its place, with this instance's variables written in, as Node-RED runs an instance`,
  });
  if (skipped.length > 0) note({ nodeId: instance.id, type: instance.type, property: '/env', action: 'ignored', from: skipped, reason: 'variables Node-RED evaluates (env, jsonata, cred, ...) are not written into the copies: their reads go to the flow\'s variables' });
  return { copies, entry, toReporter };
}

/**
 * The export with every instance of a subflow that cannot be a library sub-flow replaced by copies of its nodes, and
 * those subflows' definitions removed once they were inlined (a definition without instances stays: the import lists
 * it as not imported).
 */
export function inlineSubflows(items: NrNode[], note: (n: PropertyNote) => void, warn: (message: string) => void): NrNode[] {
  const reasons = new Map(items.filter((n) => n.type === 'subflow').map((n) => [n.id, inlineReason(n, items)] as const).filter((e): e is [string, string] => e[1] !== undefined));
  const inlined = new Map(items.filter((n) => reasons.has(n.id)).map((n) => [n.id, n]));
  if (inlined.size === 0) return items;
  let current = items;
  const used = new Set<string>();
  /** Instances replaced by a subflow-status node of their own id (their subflow has a status output), and what feeds it. */
  const reporters = new Map<string, Array<[string, number]>>();
  /** The copies standing for each inlined instance (its reporter, which keeps the instance's id, not included). */
  const copiesOf = new Map<string, string[]>();
  for (let pass = 0; pass < MAX_DEPTH; pass++) {
    // Instances inside definitions being inlined are inlined with their copies, not here.
    const instances = current.filter((n) => n.type.startsWith('subflow:') && inlined.has(n.type.substring(8)) && !(typeof n.z === 'string' && inlined.has(n.z)));
    if (instances.length === 0) break;
    const entries = new Map<string, string[]>();
    const next: NrNode[] = [];
    for (const n of current) {
      if (!instances.includes(n)) {
        next.push(n);
        continue;
      }
      const sf = inlined.get(n.type.substring(8))!;
      used.add(sf.id);
      const { copies, entry, toReporter } = inlineInstance(current, sf, reasons.get(sf.id)!, n, note);
      if (portWires(sf.status).length > 0) reporters.set(n.id, toReporter);
      copiesOf.set(n.id, copies.filter((c) => c.id !== n.id).map((c) => c.id));
      entries.set(n.id, entry);
      next.push(...copies);
    }
    // Wires into an instance now go to what its input port led to; scopes naming it name its copies.
    current = next.map((n) => {
      const wires = wiresOf(n);
      const rewired = wires.some((p) => p.some((t) => entries.has(t)));
      const scoped = Array.isArray(n.scope) && n.scope.some((s) => entries.has(s as string));
      if (!rewired && !scoped) return n;
      const copy = { ...n };
      if (rewired) copy.wires = wires.map((p) => [...new Set(p.flatMap((t) => entries.get(t) ?? [t]))]);
      // With a status output, Node-RED reports only its statuses as the instance's: the reporter keeps the instance's id.
      if (scoped) copy.scope = (n.scope as unknown[]).flatMap((s) => (entries.has(s as string) && !reporters.has(s as string) ? copiesOf.get(s as string)! : [s]));
      return copy;
    });
    // Only now: a wire to a reporter (it has its instance's id) must not be taken for a wire into the instance.
    for (const [reporter, feeds] of reporters) {
      for (const [id, port] of feeds.splice(0)) {
        const source = current.find((c) => c.id === id);
        if (!source) continue;
        const wires = wiresOf(source);
        while (wires.length <= port) wires.push([]);
        wires[port]!.push(reporter);
        current = current.map((c) => (c === source ? { ...source, wires } : c));
      }
    }
    if (pass === MAX_DEPTH - 1) warn(`subflows nested more than ${MAX_DEPTH} deep (a subflow using itself?) were not all inlined`);
  }
  const hidden = new Set([...reporters.keys()].flatMap((r) => copiesOf.get(r) ?? []));
  return hideReportedCopies(current.filter((n) => !used.has(n.id) && !(typeof n.z === 'string' && used.has(n.z))), hidden, note);
}

/**
 * With a status output, Node-RED passes none of the inner nodes' statuses up: a status node of the flow watching
 * "all" watches every node of its flow but the copies of such instances (listed; a node added later is not in it).
 */
function hideReportedCopies(items: NrNode[], hidden: ReadonlySet<string>, note: (n: PropertyNote) => void): NrNode[] {
  if (hidden.size === 0) return items;
  const flowsWithHidden = new Set(items.filter((n) => hidden.has(n.id)).map((n) => n.z));
  return items.map((n) => {
    if (n.type !== 'status' || Array.isArray(n.scope) || hidden.has(n.id) || !flowsWithHidden.has(n.z)) return n;
    const scope = items.filter((i) => i.z === n.z && i.id !== n.id && !hidden.has(i.id) && i.type !== 'tab').map((i) => i.id);
    note({ nodeId: n.id, type: n.type, property: '/scope', action: 'translated', from: n.scope ?? null, to: scope, reason: 'watches every node of the flow except the copies of subflow instances with a status output (Node-RED passes none of their statuses up); a node added later must be added to its scope' });
    return { ...n, scope };
  });
}
