/**
 * The difference between two flow documents, as the editor and a Git conflict show it: nodes added, removed and
 * changed (each change a JSON pointer into the node with the value before and after), wires added and removed, and
 * the flow's own fields (name, description, settings). Position-only moves are reported apart, so a reviewer can
 * tell a layout change from a behaviour change.
 */
import { isDeepStrictEqual } from 'node:util';
import type { FlowDocument, FlowNode } from '../flow/types.ts';

export interface FieldChange {
  /** JSON pointer inside the node (or the flow for flow fields), e.g. /props/url. */
  path: string;
  before?: unknown;
  after?: unknown;
}

export interface NodeChange {
  id: string;
  type: string;
  name?: string;
  changes: FieldChange[];
}

export interface WireChange {
  from: string;
  port: number;
  to: string;
}

export interface FlowDiff {
  flow: FieldChange[];
  added: FlowNode[];
  removed: FlowNode[];
  changed: NodeChange[];
  /** Nodes whose only change is their position on the canvas. */
  moved: string[];
  wires: { added: WireChange[]; removed: WireChange[] };
  /** True when nothing differs except positions. */
  same: boolean;
}

/** Fields of a node compared one by one; wires are compared as edges instead. */
const IGNORED_FLOW_FIELDS = new Set(['nodes', 'version', 'format', 'id']);

export function diffFlows(before: FlowDocument, after: FlowDocument): FlowDiff {
  const flow: FieldChange[] = [];
  for (const key of unionKeys(before, after)) {
    if (IGNORED_FLOW_FIELDS.has(key)) continue;
    collect((before as unknown as Record<string, unknown>)[key], (after as unknown as Record<string, unknown>)[key], `/${escape(key)}`, flow);
  }
  const old = new Map(before.nodes.map((n) => [n.id, n]));
  const now = new Map(after.nodes.map((n) => [n.id, n]));
  const added = after.nodes.filter((n) => !old.has(n.id));
  const removed = before.nodes.filter((n) => !now.has(n.id));
  const changed: NodeChange[] = [];
  const moved: string[] = [];
  for (const node of after.nodes) {
    const previous = old.get(node.id);
    if (!previous) continue;
    const changes: FieldChange[] = [];
    let positionChanged = false;
    for (const key of unionKeys(previous, node)) {
      if (key === 'wires') continue;
      const a = (previous as unknown as Record<string, unknown>)[key];
      const b = (node as unknown as Record<string, unknown>)[key];
      if (key === 'position') positionChanged = !isDeepStrictEqual(a, b);
      else collect(a, b, `/${escape(key)}`, changes);
    }
    if (changes.length > 0) changed.push({ id: node.id, type: node.type, ...(node.name ? { name: node.name } : {}), changes });
    else if (positionChanged) moved.push(node.id);
  }
  const edgesBefore = edges(before.nodes);
  const edgesAfter = edges(after.nodes);
  const wires = {
    added: [...edgesAfter.keys()].filter((k) => !edgesBefore.has(k)).map((k) => edgesAfter.get(k)!),
    removed: [...edgesBefore.keys()].filter((k) => !edgesAfter.has(k)).map((k) => edgesBefore.get(k)!),
  };
  const same = flow.length + added.length + removed.length + changed.length + wires.added.length + wires.removed.length === 0;
  return { flow, added, removed, changed, moved, wires, same };
}

/** Field-level changes between two JSON values: recurse into objects, compare arrays and scalars whole. */
function collect(a: unknown, b: unknown, path: string, out: FieldChange[]): void {
  if (isDeepStrictEqual(a, b)) return;
  if (isPlainObject(a) && isPlainObject(b)) {
    for (const key of unionKeys(a, b)) collect(a[key], b[key], `${path}/${escape(key)}`, out);
    return;
  }
  out.push({ path, ...(a === undefined ? {} : { before: a }), ...(b === undefined ? {} : { after: b }) });
}

function edges(nodes: FlowNode[]): Map<string, WireChange> {
  const out = new Map<string, WireChange>();
  for (const node of nodes) {
    (node.wires ?? []).forEach((targets, port) => {
      for (const to of targets) out.set(JSON.stringify([node.id, port, to]), { from: node.id, port, to });
    });
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unionKeys(a: object, b: object): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}

/** RFC 6901 escaping of one pointer segment. */
function escape(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
