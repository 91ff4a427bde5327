/**
 * A new wire dragged from a node's output onto its own input (or from its input onto its own output): Node-RED makes
 * that a loop. litegraph refuses any link back to its own node and drops it without a word (LinkConnector.dropOnNode),
 * so the canvas asks this module what such a drop meant and adds the wire to the flow itself (graph.ts).
 */
import type { LGraphNode, LinkConnector } from '@comfyorg/litegraph';

export interface SelfWire {
  id: string;
  port: number;
}

/** What was being dragged when the pointer came up: the link connector's state and links, before it resets. */
export interface DroppedLinks {
  state: Pick<LinkConnector['state'], 'connectingTo' | 'draggingExistingLinks'>;
  renderLinks: readonly Pick<LinkConnector['renderLinks'][number], 'node' | 'fromSlotIndex'>[];
}

/**
 * The self-wire a drop at `at` (graph coordinates) on `node` makes, or undefined when it is not one: only a new wire
 * (not one being moved), from this node, released on its own input (when dragged from an output) or on one of its
 * own outputs (when dragged from its input). Released elsewhere on the node, it stays a cancelled drag.
 */
export function selfWireDrop(dropped: DroppedLinks, node: LGraphNode | null | undefined, at: [number, number]): SelfWire | undefined {
  const { connectingTo, draggingExistingLinks } = dropped.state;
  const link = dropped.renderLinks[0];
  if (!node || !link || dropped.renderLinks.length !== 1 || draggingExistingLinks || link.node !== node) return undefined;
  if (connectingTo === 'input') {
    if (node.inputs.length === 0 || !node.getInputOnPos(at)) return undefined;
    return { id: String(node.id), port: link.fromSlotIndex };
  }
  if (connectingTo === 'output') {
    const output = node.getOutputOnPos(at);
    const port = output ? node.outputs.indexOf(output) : -1;
    return port >= 0 ? { id: String(node.id), port } : undefined;
  }
  return undefined;
}

/** `wires` with the self-wire added (a copy; unchanged when the wire is already there). */
export function withSelfWire(wires: readonly string[][], { id, port }: SelfWire): string[][] {
  const next = wires.map((targets) => [...targets]);
  while (next.length <= port) next.push([]);
  if (!next[port]!.includes(id)) next[port]!.push(id);
  return next;
}
