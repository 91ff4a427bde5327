/**
 * Keyboard operation of the canvas (the canvas is a bitmap, so its nodes are not DOM elements to tab between):
 * arrow keys go to the nearest node in that direction, Shift+arrows move the selection, Enter opens a node's
 * properties, W wires the selected node's output to a node chosen with the arrows. This module holds the
 * geometry; Canvas.vue the key handling and what is announced to screen readers.
 */
import type { FlowDocument } from '../api/types';

export type Direction = 'left' | 'right' | 'up' | 'down';

export const ARROWS: Record<string, Direction> = { ArrowLeft: 'left', ArrowRight: 'right', ArrowUp: 'up', ArrowDown: 'down' };

/** Pixels a node moves per Shift+arrow (the canvas' grid feel: small enough to align, big enough to be seen). */
export const MOVE_STEP = 20;

type Positioned = Pick<FlowDocument['nodes'][number], 'id' | 'position'>;

function at(node: Positioned): { x: number; y: number } {
  return { x: node.position?.x ?? 0, y: node.position?.y ?? 0 };
}

/** The node to start from when none is selected: the top-left one (reading order). */
export function firstNode(nodes: readonly Positioned[]): string | undefined {
  return [...nodes].sort((a, b) => at(a).y - at(b).y || at(a).x - at(b).x)[0]?.id;
}

/**
 * The nearest node in a direction: among the nodes whose offset points that way (within 45° either side... or
 * wider when none is), the closest, with distance across the direction counting double so a node straight ahead
 * wins over a nearer one off to the side.
 */
export function nearestInDirection(nodes: readonly Positioned[], fromId: string, direction: Direction): string | undefined {
  const from = nodes.find((n) => n.id === fromId);
  if (!from) return firstNode(nodes);
  const origin = at(from);
  let best: { id: string; score: number } | undefined;
  for (const node of nodes) {
    if (node.id === fromId) continue;
    const p = at(node);
    const dx = p.x - origin.x;
    const dy = p.y - origin.y;
    const along = direction === 'right' ? dx : direction === 'left' ? -dx : direction === 'down' ? dy : -dy;
    const across = direction === 'left' || direction === 'right' ? Math.abs(dy) : Math.abs(dx);
    if (along <= 0) continue;
    const score = along + 2 * across;
    if (!best || score < best.score) best = { id: node.id, score };
  }
  return best?.id;
}

/**
 * Why a wire cannot be drawn, or null when it can (the checks a mouse drag gets from litegraph and the store). A wire
 * from a node back to its own input is a loop, allowed as a mouse drag makes it (and Node-RED does).
 */
export function wireProblem(doc: FlowDocument, from: string, port: number, to: string, targetHasInput: boolean): string | null {
  if (!targetHasInput) return 'that node has no input';
  const node = doc.nodes.find((n) => n.id === from);
  if (node?.wires?.[port]?.includes(to)) return 'that wire is already there';
  return null;
}
