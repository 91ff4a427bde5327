/**
 * Nodes and wires a compared version diff removed, drawn on the canvas where they were in the older version: a dashed
 * red outline with the node's name, and a dashed red wire from the output port to the input it fed (a live node's port
 * where that node is still there, the ghost's edge where it is not), so a reviewer sees what went missing and where.
 * Called from the canvas' foreground pass (graph coordinates, after the nodes, so a ghost never hides a live node's
 * ports from the pointer: it is drawn, not a graph node).
 */
import { LiteGraph, type LGraphNode } from '@comfyorg/litegraph';

export interface RemovedGhost {
  id: string;
  label: string;
  x: number;
  y: number;
}

/** A wire of the older version that the newer one no longer has (FlowDiff.wires.removed). */
export interface RemovedWire {
  from: string;
  port: number;
  to: string;
}

export const REMOVED_COLOUR = '#ef4444';
/** The ghost's box: a node's usual size (the removed node's real size is unknown without its type's ports). */
const WIDTH = 160;
const HEIGHT = 30;

/**
 * Draws the removed wires, then the removed nodes over them. `live` finds a node still on the canvas by id (its ports
 * are where litegraph draws them); a wire whose end is neither live nor a ghost is skipped (nothing to anchor it).
 */
export function drawRemovedGhosts(
  ctx: CanvasRenderingContext2D,
  ghosts: readonly RemovedGhost[],
  since: string,
  wires: readonly RemovedWire[] = [],
  live: (id: string) => LGraphNode | null = () => null,
): void {
  drawRemovedWires(ctx, ghosts, wires, live);
  if (ghosts.length === 0) return;
  const title = LiteGraph.NODE_TITLE_HEIGHT;
  ctx.save();
  ctx.setLineDash([6, 4]);
  ctx.lineWidth = 2;
  ctx.strokeStyle = REMOVED_COLOUR;
  ctx.fillStyle = 'rgba(239, 68, 68, 0.12)';
  ctx.font = '12px sans-serif';
  for (const ghost of ghosts) {
    ctx.fillRect(ghost.x, ghost.y - title, WIDTH, HEIGHT + title);
    ctx.strokeRect(ghost.x, ghost.y - title, WIDTH, HEIGHT + title);
  }
  ctx.fillStyle = REMOVED_COLOUR;
  for (const ghost of ghosts) {
    ctx.fillText(ghost.label.length > 22 ? `${ghost.label.slice(0, 21)}…` : ghost.label, ghost.x + 8, ghost.y - title / 2 + 4);
    ctx.fillText(`removed since ${since}`, ghost.x + 8, ghost.y + HEIGHT + 14);
  }
  ctx.restore();
}

/** Where a removed wire starts and ends: the live node's port, else the ghost's edge (ports a slot height apart). */
function wireEnd(id: string, port: number, output: boolean, ghosts: readonly RemovedGhost[], live: (id: string) => LGraphNode | null): [number, number] | undefined {
  const node = live(id);
  if (node) {
    const slots = output ? node.outputs : node.inputs;
    if (slots.length > 0) {
      const at = output ? node.getOutputPos(Math.min(port, slots.length - 1)) : node.getInputPos(0);
      return [at[0] ?? 0, at[1] ?? 0];
    }
  }
  const ghost = ghosts.find((g) => g.id === id);
  if (!ghost) return undefined;
  const slot = LiteGraph.NODE_SLOT_HEIGHT;
  return output ? [ghost.x + WIDTH, ghost.y + slot / 2 + port * slot] : [ghost.x, ghost.y + slot / 2];
}

function drawRemovedWires(ctx: CanvasRenderingContext2D, ghosts: readonly RemovedGhost[], wires: readonly RemovedWire[], live: (id: string) => LGraphNode | null): void {
  if (wires.length === 0) return;
  ctx.save();
  ctx.setLineDash([8, 5]);
  ctx.lineWidth = 3;
  ctx.strokeStyle = REMOVED_COLOUR;
  ctx.globalAlpha = 0.85;
  for (const wire of wires) {
    const start = wireEnd(wire.from, wire.port, true, ghosts, live);
    const end = wireEnd(wire.to, 0, false, ghosts, live);
    if (!start || !end) continue;
    // The same S-curve litegraph draws links with: control points pulled out horizontally by a quarter of the span.
    const pull = Math.hypot(end[0] - start[0], end[1] - start[1]) * 0.25;
    ctx.beginPath();
    ctx.moveTo(start[0], start[1]);
    ctx.bezierCurveTo(start[0] + pull, start[1], end[0] - pull, end[1], end[0], end[1]);
    ctx.stroke();
  }
  ctx.restore();
}
