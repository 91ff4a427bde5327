/**
 * Loops in a flow (a node whose messages come back to it): the editor warns while the flow is edited, because a
 * loop without an exit runs until its run is cancelled. Found with graphlib's cycle search (dagre's graph library).
 */
import { graphlib } from '@dagrejs/dagre';
import type { FlowDocument } from '../api/types';

/** Each loop as the node ids in it, in flow order (a self-wired node is a loop of one). */
export function findLoops(doc: Pick<FlowDocument, 'nodes'>): string[][] {
  const graph = new graphlib.Graph();
  const order = new Map(doc.nodes.map((n, i) => [n.id, i]));
  for (const node of doc.nodes) {
    if (node.disabled) continue;
    graph.setNode(node.id);
    for (const port of node.wires ?? []) for (const target of port) if (order.has(target)) graph.setEdge(node.id, target);
  }
  return graphlib.alg
    .findCycles(graph)
    .map((loop) => loop.sort((a, b) => order.get(a)! - order.get(b)!))
    .sort((a, b) => order.get(a[0]!)! - order.get(b[0]!)!);
}
