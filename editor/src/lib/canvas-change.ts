/** What the canvas reported (moves, wires drawn or removed, nodes deleted), applied to a flow's nodes. */
import type { FlowNode } from '../api/types';
import type { CanvasChange } from './graph/types';

/** The nodes after `change`: deleted ones dropped (and wires to them), moved ones placed, rewired ones rewired. */
export function nodesAfterCanvasChange(nodes: FlowNode[], change: CanvasChange): FlowNode[] {
  const gone = new Set(change.removed);
  const kept = gone.size ? nodes.filter((n) => !gone.has(n.id)) : nodes;
  for (const n of kept) {
    const position = change.positions.get(n.id);
    if (position) n.position = position;
    const wires = change.wires.get(n.id);
    if (wires) n.wires = wires;
    if (gone.size && n.wires) n.wires = n.wires.map((targets) => targets.filter((t) => !gone.has(t)));
  }
  return kept;
}
