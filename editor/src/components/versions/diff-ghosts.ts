/**
 * Nodes a compared version diff removed, drawn on the canvas where they stood in the older version: a dashed red
 * outline with the node's name, so a reviewer sees what went missing and where, not only what is there now.
 * Called from the canvas' foreground pass (graph coordinates, after the nodes, so a ghost never hides a live node's
 * ports from the pointer: it is drawn, not a graph node).
 */
import { LiteGraph } from '@comfyorg/litegraph';

export interface RemovedGhost {
  id: string;
  label: string;
  x: number;
  y: number;
}

export const REMOVED_COLOUR = '#ef4444';
/** The ghost's box: a node's usual size (the removed node's real size is unknown without its type's ports). */
const WIDTH = 160;
const HEIGHT = 30;

export function drawRemovedGhosts(ctx: CanvasRenderingContext2D, ghosts: readonly RemovedGhost[], since: string): void {
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
