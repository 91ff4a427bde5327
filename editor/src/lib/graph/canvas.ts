/** litegraph's canvas with the editor's shortcuts and menus in place of litegraph's own. */
import { LGraph, LGraphCanvas, LGraphNode, LiteGraph, type IContextMenuValue, type LinkSegment } from '@comfyorg/litegraph';
import type { GraphView } from '../graph';
import { FlowGraphNode } from './node';
import { OverviewLayer } from './overview-layer';

/**
 * Level of detail: below this zoom (a large flow in view) a node is drawn as a coloured box with its problem, pinned
 * and run-state marks, and wires as straight lines in one path. Titles and ports are unreadable there anyway, and
 * litegraph's full drawing of 1,000 nodes and splines cannot keep 60 frames a second.
 */
export const OVERVIEW_SCALE = 0.45;
/** The grid is drawn from this zoom up (litegraph's background image showed from 0.5), a line every GRID_STEP units. */
const GRID_SCALE = 0.5;
const GRID_STEP = 10;
const GRID_COLOUR = 'rgba(255,255,255,0.045)';

/** litegraph's canvas with the editor's keyboard shortcuts and menus instead of its own. */
export class FlowCanvas extends LGraphCanvas {
  view?: GraphView;

  /**
   * Wires and nodes at the overview zoom, drawn once and copied while the view pans (graph/overview-layer.ts). Made on
   * first use: litegraph's constructor already draws, before this class's fields are set.
   */
  private overviewLayer?: OverviewLayer;
  /** Set while the front canvas is drawn: the back (background, groups, wires) is drawn then, on the same canvas. */
  private drawingFront = false;

  /**
   * One canvas, not litegraph's two. litegraph draws background, groups and wires on a second canvas and copies it under
   * the nodes every frame; while panning both change every frame, so the copy (a full-size image, rasterised first
   * without a GPU) was pure cost: ~3 ms of a 100 % zoom frame (bench/editor-canvas.ts --profile). The back is now
   * drawn first on the one canvas whenever the front is. No drop shadows on nodes (as Node-RED; litegraph's blurred
   * shadow is another ~2 ms a frame without a GPU), and the grid is a few lines instead of litegraph's image pattern.
   */
  constructor(element: HTMLCanvasElement, graph: LGraph) {
    super(element, graph);
    this.bgcanvas = this.canvas;
    this.bgctx = this.ctx;
    this.render_shadows = false;
    this.background_image = '';
    this.onRenderBackground = (_canvas, ctx) => this.paintBackground(ctx);
  }

  override drawNode(node: LGraphNode, ctx: CanvasRenderingContext2D): void {
    if (this.ds.scale >= OVERVIEW_SCALE || !(node instanceof FlowGraphNode)) return super.drawNode(node, ctx);
    node.drawOverview(ctx, this.selectedItems.has(node), this.ds.scale);
  }

  override drawBackCanvas(): void {
    if (this.bgcanvas !== this.canvas) return super.drawBackCanvas();
    // Asked for on its own (litegraph's draw): the front is drawn next, and draws the back first.
    if (!this.drawingFront) {
      this.dirty_bgcanvas = false;
      this.dirty_canvas = true;
      return;
    }
    // With a viewport litegraph keeps the context's transform as it is (the front's) instead of setting the device
    // pixel ratio, which only suits a canvas of its own that is copied at 1/ratio; the viewport is the whole canvas.
    const self = this as { viewport?: LGraphCanvas['viewport'] };
    const viewport = self.viewport;
    self.viewport = [0, 0, this.canvas.width, this.canvas.height];
    try {
      super.drawBackCanvas();
    } finally {
      self.viewport = viewport;
    }
  }

  override drawFrontCanvas(): void {
    this.drawingFront = true;
    const visible = this.visible_nodes;
    try {
      super.drawFrontCanvas();
    } finally {
      this.drawingFront = false;
      // The overview layer (drawn with the wires) held the nodes: visible_nodes was emptied for this frame's node pass
      // (drawConnections) and is put back for hit-testing.
      this.visible_nodes = visible;
    }
  }

  /** The background in screen pixels: its colour and, zoomed in enough, a grid that moves with the flow. */
  private paintBackground(ctx: CanvasRenderingContext2D): boolean {
    const { width, height } = this.canvas;
    ctx.fillStyle = this.clear_background_color;
    ctx.fillRect(0, 0, width, height);
    const scale = this.ds.scale;
    if (scale < GRID_SCALE) return true;
    const step = GRID_STEP * scale;
    const firstX = (((this.ds.offset[0] * scale) % step) + step) % step;
    const firstY = (((this.ds.offset[1] * scale) % step) + step) % step;
    ctx.beginPath();
    for (let x = firstX; x < width; x += step) {
      ctx.moveTo(Math.round(x) + 0.5, 0);
      ctx.lineTo(Math.round(x) + 0.5, height);
    }
    for (let y = firstY; y < height; y += step) {
      ctx.moveTo(0, Math.round(y) + 0.5);
      ctx.lineTo(width, Math.round(y) + 0.5);
    }
    ctx.strokeStyle = GRID_COLOUR;
    ctx.lineWidth = 1;
    ctx.stroke();
    return true;
  }

  override drawConnections(ctx: CanvasRenderingContext2D): void {
    if (this.ds.scale >= OVERVIEW_SCALE || !this.graph) {
      this.overviewLayer?.clear();
      this.drawSelfWires(ctx);
      return super.drawConnections(ctx);
    }
    // Wires cannot be picked at this zoom: none are registered for hit-testing.
    this.renderedPaths.clear();
    // While a wire is being dragged the nodes are drawn live (they highlight where it can go).
    const layered = !this.linkConnector.isConnecting && this.view !== undefined;
    const nodesInLayer = layered && (this.overviewLayer ??= new OverviewLayer()).blit(ctx, this, this.view!.contentVersion, { drawWires: (c) => this.drawOverviewWires(c), bounds: () => this.view!.bounds() });
    if (!nodesInLayer) this.drawOverviewWires(ctx);
    // The nodes are in the layer just drawn: none to draw over it in this frame (drawFrontCanvas puts the list back).
    else if (this.drawingFront) this.visible_nodes = [];
  }

  /** At the overview zoom: wires as straight lines in one path, and wires back to their own node. */
  private drawOverviewWires(ctx: CanvasRenderingContext2D): void {
    this.drawSelfWires(ctx);
    const graph = this.graph;
    if (!graph) return;
    const slot = LiteGraph.NODE_SLOT_HEIGHT * 0.5;
    ctx.beginPath();
    for (const link of graph._links.values()) {
      const from = graph.getNodeById(link.origin_id);
      const to = graph.getNodeById(link.target_id);
      if (!from || !to) continue;
      ctx.moveTo(from.pos[0] + from.size[0], from.pos[1] + slot + link.origin_slot * LiteGraph.NODE_SLOT_HEIGHT);
      ctx.lineTo(to.pos[0], to.pos[1] + slot);
    }
    ctx.strokeStyle = '#8a8f98';
    ctx.lineWidth = 1.5 / this.ds.scale;
    ctx.stroke();
  }

  /** A wire from a node back to its own input (litegraph keeps no such link): a loop over the node's title. */
  private drawSelfWires(ctx: CanvasRenderingContext2D): void {
    const loops = this.view?.selfWires();
    if (!loops?.length || !this.graph) return;
    const slot = LiteGraph.NODE_SLOT_HEIGHT * 0.5;
    const lift = LiteGraph.NODE_TITLE_HEIGHT + 24;
    ctx.beginPath();
    for (const { id, ports } of loops) {
      const node = this.graph.getNodeById(id);
      if (!node) continue;
      const [x, y] = node.pos as [number, number];
      const width = node.size[0]!;
      for (const port of ports) {
        const fromY = y + slot + port * LiteGraph.NODE_SLOT_HEIGHT;
        ctx.moveTo(x + width, fromY);
        ctx.bezierCurveTo(x + width + 60, fromY, x + width + 40, y - lift, x + width / 2, y - lift);
        ctx.bezierCurveTo(x - 40, y - lift, x - 60, y + slot, x, y + slot);
      }
    }
    ctx.strokeStyle = '#8a8f98';
    ctx.lineWidth = Math.max(2, 1.5 / this.ds.scale);
    ctx.stroke();
  }

  override processKey(e: KeyboardEvent): void {
    const view = this.view;
    const target = e.target as HTMLElement | null;
    if (view && e.type === 'keydown' && target?.localName !== 'input' && target?.localName !== 'textarea') {
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      const action =
        mod && key === 'c' ? 'copy'
        : mod && key === 'x' ? 'cut'
        : mod && key === 'v' ? 'paste'
        : mod && key === 'z' && !e.shiftKey ? 'undo'
        : mod && (key === 'y' || (key === 'z' && e.shiftKey)) ? 'redo'
        : mod && key === 'a' ? 'selectAll'
        : mod && key === 'g' ? 'group'
        : !mod && (e.key === 'Delete' || e.key === 'Backspace') ? 'delete'
        : !mod && key === 'f' && !e.altKey ? 'fit'
        : undefined;
      if (action) {
        // Copy, cut and paste keep their default action, so the browser also fires its clipboard events
        // (the only way to reach the system clipboard without a permission prompt).
        if (action !== 'copy' && action !== 'cut' && action !== 'paste') e.preventDefault();
        e.stopImmediatePropagation();
        view.callbacks.shortcut(action, e);
        return;
      }
    }
    // Space-drag panning and Escape stay litegraph's.
    super.processKey(e);
  }

  override processContextMenu(node: LGraphNode | undefined, event: MouseEvent & { canvasX?: number; canvasY?: number }): void {
    const view = this.view;
    if (!view) return;
    const items = node ? view.callbacks.nodeMenu(String(node.id)) : view.callbacks.canvasMenu({ x: event.canvasX ?? 0, y: event.canvasY ?? 0 });
    if (items.length === 0) return;
    new LiteGraph.ContextMenu(
      items.map((item) => ({ content: item.label, disabled: item.disabled, callback: () => item.action() })) as IContextMenuValue<string>[],
      { event, title: node ? node.title : undefined },
    );
  }

  override showLinkMenu(segment: LinkSegment, e: MouseEvent): boolean {
    const view = this.view;
    const graph = this.graph;
    if (!view || !graph || segment.id === undefined) return false;
    new LiteGraph.ContextMenu([{ content: 'Delete wire', callback: () => { graph.removeLink(segment.id as number); view.reconcile(); } }] as IContextMenuValue<string>[], { event: e });
    return false;
  }

  override processNodeDblClicked(node: LGraphNode): void {
    this.view?.callbacks.open(String(node.id));
  }
}
