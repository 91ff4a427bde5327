/**
 * Automatic layout (dagre, a maintained layered-graph layout library): nodes that come without a position (written
 * by a script, pasted from a forum post) are laid out left to right along their wires instead of stacking on one
 * spot, below the nodes that have one; "Arrange" lays out a whole flow the same way.
 */
import { Graph, layout } from '@dagrejs/dagre';
import type { FlowNode } from '../api/types';

/** Room for a node on the canvas (title, ports, status line below) and the gaps between layers and rows. */
const NODE_WIDTH = 190;
const NODE_HEIGHT = 70;
const LAYER_GAP = 70;
const ROW_GAP = 40;
const MARGIN = 80;
/** About how wide a 14px Arial character is, and what a node adds to its title (graph/node.ts computeSize). */
const CHAR_WIDTH = 8;
const TITLE_PADDING = 64;

/** A node's width on the canvas, estimated from its name (its title; the canvas widens a node to fit it whole). */
export function nodeWidth(node: FlowNode): number {
  return Math.max(NODE_WIDTH, Math.ceil((node.name?.length ?? 0) * CHAR_WIDTH + TITLE_PADDING));
}

/** Positions (top-left) for `nodes` from their wires among themselves, starting at `origin`. */
function layered(nodes: readonly FlowNode[], origin: { x: number; y: number }): Map<string, { x: number; y: number }> {
  const ids = new Set(nodes.map((n) => n.id));
  const graph = new Graph();
  graph.setGraph({ rankdir: 'LR', nodesep: ROW_GAP, ranksep: LAYER_GAP, marginx: 0, marginy: 0 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) graph.setNode(n.id, { width: nodeWidth(n), height: NODE_HEIGHT });
  for (const n of nodes) for (const port of n.wires ?? []) for (const target of port) if (ids.has(target) && target !== n.id) graph.setEdge(n.id, target);
  layout(graph);
  const result = new Map<string, { x: number; y: number }>();
  // dagre gives centres.
  for (const n of nodes) {
    const at = graph.node(n.id);
    result.set(n.id, { x: Math.round(origin.x + at.x - at.width / 2), y: Math.round(origin.y + at.y - NODE_HEIGHT / 2) });
  }
  return result;
}

/** Gives every node without a position one (in place); nodes with a position keep it. Returns how many were placed. */
export function layoutUnplaced(nodes: FlowNode[]): number {
  const unplaced = nodes.filter((n) => !n.position);
  if (unplaced.length === 0) return 0;
  const placed = nodes.filter((n) => n.position);
  const top = placed.length === 0 ? MARGIN : Math.max(...placed.map((n) => n.position!.y)) + NODE_HEIGHT + LAYER_GAP;
  const positions = layered(unplaced, { x: MARGIN, y: top });
  for (const n of unplaced) n.position = positions.get(n.id)!;
  return unplaced.length;
}

/** Lays out every node (in place), keeping the flow's top-left corner where it was. */
export function layoutAll(nodes: FlowNode[]): void {
  if (nodes.length === 0) return;
  const xs = nodes.map((n) => n.position?.x ?? MARGIN);
  const ys = nodes.map((n) => n.position?.y ?? MARGIN);
  const positions = layered(nodes, { x: Math.min(...xs), y: Math.min(...ys) });
  for (const n of nodes) n.position = positions.get(n.id)!;
}
