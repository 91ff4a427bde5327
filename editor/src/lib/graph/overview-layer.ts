/**
 * The overview zoom (a large flow in view) drawn once into an offscreen layer — wires, wires back to their own node,
 * and every node as a box — and then only copied while the view pans: a pan of 1,000 nodes costs one image copy a
 * frame instead of 1,000 boxes and 1,000 wires (bench/editor-canvas.ts, "whole flow in view"). The layer is drawn
 * again when what it shows changes: a node moved or resized, the selection, the document or a decoration (the view's
 * `contentVersion`), the zoom or the screen's pixel ratio.
 */
import type { LGraph, LGraphCanvas } from '@comfyorg/litegraph';
import { FlowGraphNode } from './node';

/** Above this many pixels the layer would cost more memory than it saves time: the canvas draws directly then. */
const MAX_LAYER_PIXELS = 16_000_000;
/** Room around the nodes for a wire looping back over a node's title. */
const MARGIN = 80;

export interface OverviewPainter {
  /** Wires (and wires back to their own node) in graph coordinates, on a context already transformed. */
  drawWires(ctx: CanvasRenderingContext2D, scale: number): void;
  /** The nodes' extent in graph coordinates, titles included: x, y, width, height. */
  bounds(): [number, number, number, number];
}

export class OverviewLayer {
  private canvas: HTMLCanvasElement | null = null;
  private key = '';
  /** The graph area the layer covers: x, y, width, height. */
  private area: [number, number, number, number] = [0, 0, 0, 0];

  /**
   * Copy the layer into `ctx` (transformed to graph coordinates), drawing it first when what it shows changed.
   * False when no layer fits (too large): the caller draws directly.
   */
  blit(ctx: CanvasRenderingContext2D, canvas: LGraphCanvas, contentVersion: number, painter: OverviewPainter): boolean {
    const graph = canvas.graph as LGraph | null;
    if (!graph) return false;
    const key = this.fingerprint(graph, canvas, contentVersion);
    if (key !== this.key || !this.canvas) {
      if (!this.paint(graph, canvas, painter)) return false;
      this.key = key;
    }
    const [x, y, width, height] = this.area;
    ctx.drawImage(this.canvas!, x, y, width, height);
    return true;
  }

  /** Forget the layer (a flow switched, or the view left the overview zoom). */
  clear(): void {
    this.canvas = null;
    this.key = '';
  }

  /** Everything the layer shows, cheaply: positions and sizes summed, the selection, the zoom. */
  private fingerprint(graph: LGraph, canvas: LGraphCanvas, contentVersion: number): string {
    let placed = 0;
    let selected = 0;
    const nodes = graph._nodes;
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i]!;
      placed += node.pos[0] * 3 + node.pos[1] * 7 + node.size[0] * 11 + node.size[1] * 13;
      if (canvas.selectedItems.has(node)) selected += i + 1;
    }
    return `${contentVersion}:${nodes.length}:${graph._links.size}:${placed}:${selected}:${canvas.ds.scale}:${window.devicePixelRatio}`;
  }

  private paint(graph: LGraph, canvas: LGraphCanvas, painter: OverviewPainter): boolean {
    const nodes = graph._nodes;
    if (nodes.length === 0) return false;
    const [x, y, w, h] = painter.bounds();
    this.area = [x - MARGIN, y - MARGIN, w + 2 * MARGIN, h + 2 * MARGIN];
    const scale = canvas.ds.scale;
    const ratio = scale * (window.devicePixelRatio || 1);
    const width = Math.ceil(this.area[2] * ratio);
    const height = Math.ceil(this.area[3] * ratio);
    if (width * height > MAX_LAYER_PIXELS || width < 1 || height < 1) return false;
    const layer = this.canvas ?? document.createElement('canvas');
    layer.width = width;
    layer.height = height;
    const ctx = layer.getContext('2d');
    if (!ctx) return false;
    ctx.setTransform(ratio, 0, 0, ratio, -this.area[0] * ratio, -this.area[1] * ratio);
    painter.drawWires(ctx, scale);
    for (const node of nodes) {
      if (!(node instanceof FlowGraphNode)) continue;
      ctx.save();
      ctx.translate(node.pos[0], node.pos[1]);
      node.drawOverview(ctx, canvas.selectedItems.has(node), scale);
      ctx.restore();
    }
    this.canvas = layer;
    return true;
  }
}
