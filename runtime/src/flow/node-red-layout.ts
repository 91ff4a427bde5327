/**
 * Positions for imported nodes that have none (nodes pasted from a forum post or written by a script often carry no
 * x/y): a left-to-right layered layout of the wires between them (dagre), placed below the nodes that do have a
 * position, so nothing lands on top of anything else.
 */
import { Graph, layout } from '@dagrejs/dagre';
import type { FlowNode } from './types.ts';

/** Node-RED's node size on its canvas, and the gaps between layers and rows. */
const NODE_WIDTH = 120;
const NODE_HEIGHT = 30;
const LAYER_GAP = 60;
const ROW_GAP = 30;
const MARGIN = 80;

/** Give every node without a position one; nodes with a position keep it. Returns how many were placed. */
export function layoutUnplaced(nodes: FlowNode[]): number {
  const unplaced = nodes.filter((n) => !n.position);
  if (unplaced.length === 0) return 0;
  const ids = new Set(unplaced.map((n) => n.id));
  const graph = new Graph();
  graph.setGraph({ rankdir: 'LR', nodesep: ROW_GAP, ranksep: LAYER_GAP, marginx: 0, marginy: 0 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const n of unplaced) graph.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const n of unplaced) for (const port of n.wires ?? []) for (const target of port) if (ids.has(target) && target !== n.id) graph.setEdge(n.id, target);
  layout(graph);
  // Below everything already placed (Node-RED's x/y is a node's centre).
  const placed = nodes.filter((n) => n.position);
  const top = placed.length === 0 ? MARGIN : Math.max(...placed.map((n) => n.position!.y)) + NODE_HEIGHT + LAYER_GAP;
  for (const n of unplaced) {
    const at = graph.node(n.id);
    n.position = { x: Math.round(MARGIN + at.x), y: Math.round(top + at.y) };
  }
  return unplaced.length;
}
