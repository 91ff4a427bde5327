/**
 * Copy and paste of nodes. A copied fragment is plain JSON (also put on the system clipboard, so it can be pasted
 * into another browser tab or shared as text). Pasted nodes get new ids; wires between pasted nodes are kept,
 * wires to nodes outside the selection are dropped.
 */
import type { FlowNode } from '../api/types';
import { newNodeId } from './ids';
import { layoutUnplaced } from './layout';

export const FRAGMENT_FORMAT = 'flowcrew/nodes@1';

export interface NodeFragment {
  format: typeof FRAGMENT_FORMAT;
  nodes: FlowNode[];
}

export function copyNodes(nodes: readonly FlowNode[], ids: ReadonlySet<string>): NodeFragment {
  const picked = nodes.filter((n) => ids.has(n.id)).map((n) => structuredClone(toRaw(n)));
  for (const node of picked) {
    if (node.wires) node.wires = node.wires.map((targets) => targets.filter((t) => ids.has(t)));
  }
  return { format: FRAGMENT_FORMAT, nodes: picked };
}

/** Read a fragment from clipboard text; undefined when the text is something else. */
export function parseFragment(text: string): NodeFragment | undefined {
  try {
    const value = JSON.parse(text) as Partial<NodeFragment>;
    if (value && value.format === FRAGMENT_FORMAT && Array.isArray(value.nodes) && value.nodes.every((n) => n && typeof n.id === 'string' && typeof n.type === 'string')) {
      return value as NodeFragment;
    }
  } catch {
    /* not JSON */
  }
  return undefined;
}

/**
 * Nodes to add for a paste: new ids, positions moved so the fragment's top-left lands at `at`
 * (or offset by 30 px when no position is given, so a paste in place is visible).
 */
export function pasteNodes(fragment: NodeFragment, taken: ReadonlySet<string>, at?: { x: number; y: number }): FlowNode[] {
  const used = new Set(taken);
  const idMap = new Map<string, string>();
  for (const node of fragment.nodes) {
    const id = newNodeId(used);
    used.add(id);
    idMap.set(node.id, id);
  }
  // Nodes without a position (hand-written JSON) are laid out along their wires rather than stacked.
  const nodes = fragment.nodes.some((n) => !n.position) ? structuredClone(fragment.nodes) : fragment.nodes;
  layoutUnplaced(nodes);
  fragment = { ...fragment, nodes };
  const xs = fragment.nodes.map((n) => n.position?.x ?? 0);
  const ys = fragment.nodes.map((n) => n.position?.y ?? 0);
  const dx = at ? at.x - Math.min(...xs) : 30;
  const dy = at ? at.y - Math.min(...ys) : 30;
  return fragment.nodes.map((node) => {
    const copy = structuredClone(node);
    copy.id = idMap.get(node.id)!;
    copy.position = { x: Math.round((node.position?.x ?? 0) + dx), y: Math.round((node.position?.y ?? 0) + dy) };
    if (copy.wires) copy.wires = copy.wires.map((targets) => targets.map((t) => idMap.get(t)).filter((t): t is string => t !== undefined));
    return copy;
  });
}

/** structuredClone refuses Vue's reactive proxies; JSON round-trips are enough for flow JSON. */
function toRaw<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
