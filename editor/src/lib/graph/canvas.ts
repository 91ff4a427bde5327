/** litegraph's canvas with the editor's shortcuts and menus in place of litegraph's own. */
import { LGraphCanvas, LGraphNode, LiteGraph, type IContextMenuValue, type LinkSegment } from '@comfyorg/litegraph';
import type { GraphView } from '../graph';
import { FlowGraphNode } from './node';
import { OverviewLayer } from './overview-layer';

/**
 * Level of detail: below this zoom (a large flow in view) a node is drawn as a coloured box with its problem, pinned
 * and run-state marks, and wires as straight lines in one path. Titles and ports are unreadable there anyway, and
 * litegraph's full drawing of 1,000 nodes and splines cannot keep 60 frames a second.
 */
export const OVERVIEW_SCALE = 0.45;

/** litegraph's canvas with the editor's keyboard shortcuts and menus instead of its own. */
export class FlowCanvas extends LGraphCanvas {
  view?: GraphView;

  /**
   * Wires and nodes at the overview zoom, drawn once and copied while the view pans (graph/overview-layer.ts). Made on
   * first use: litegraph's constructor already draws, before this class's fields are set.
   */
  private overviewLayer?: OverviewLayer;
  /** Whether this frame's wires pass drew the nodes too (from the overview layer). */
  private nodesInLayer = false;

  override drawNode(node: LGraphNode, ctx: CanvasRenderingContext2D): void {
    if (this.ds.scale >= OVERVIEW_SCALE || !(node instanceof FlowGraphNode)) return super.drawNode(node, ctx);
    node.drawOverview(ctx, this.selectedItems.has(node), this.ds.scale);
  }

  override draw(forceCanvas?: boolean, forceBackground?: boolean): void {
    // At the overview zoom the nodes live in the layer on the back canvas: whatever redraws them redraws that too.
    const overview = this.ds.scale < OVERVIEW_SCALE && (this.dirty_canvas || !!forceCanvas);
    super.draw(forceCanvas, forceBackground || overview);
  }

  override drawFrontCanvas(): void {
    if (!this.nodesInLayer) return super.drawFrontCanvas();
    // The nodes are in the layer under this canvas: none to draw here. visible_nodes stays as it is for hit-testing.
    const visible = this.visible_nodes;
    this.visible_nodes = [];
    try {
      super.drawFrontCanvas();
    } finally {
      this.visible_nodes = visible;
    }
  }

  override drawConnections(ctx: CanvasRenderingContext2D): void {
    if (this.ds.scale >= OVERVIEW_SCALE || !this.graph) {
      this.overviewLayer?.clear();
      this.nodesInLayer = false;
      this.drawSelfWires(ctx);
      return super.drawConnections(ctx);
    }
    // Wires cannot be picked at this zoom: none are registered for hit-testing.
    this.renderedPaths.clear();
    // While a wire is being dragged the nodes are drawn live (they highlight where it can go).
    const layered = !this.linkConnector.isConnecting && this.view !== undefined;
    this.nodesInLayer = layered && (this.overviewLayer ??= new OverviewLayer()).blit(ctx, this, this.view!.contentVersion, { drawWires: (c) => this.drawOverviewWires(c), bounds: () => this.view!.bounds() });
    if (!this.nodesInLayer) this.drawOverviewWires(ctx);
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
