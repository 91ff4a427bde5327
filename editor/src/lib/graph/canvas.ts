/** litegraph's canvas with the editor's shortcuts and menus in place of litegraph's own. */
import { LGraphCanvas, LGraphNode, LiteGraph, type IContextMenuValue, type LinkSegment } from '@comfyorg/litegraph';
import type { GraphView } from '../graph';
import { FlowGraphNode } from './node';

/**
 * Level of detail: below this zoom (a large flow in view) a node is drawn as a coloured box with its problem, pinned
 * and run-state marks, and wires as straight lines in one path. Titles and ports are unreadable there anyway, and
 * litegraph's full drawing of 1,000 nodes and splines cannot keep 60 frames a second.
 */
export const OVERVIEW_SCALE = 0.45;

/** litegraph's canvas with the editor's keyboard shortcuts and menus instead of its own. */
export class FlowCanvas extends LGraphCanvas {
  view?: GraphView;

  override drawNode(node: LGraphNode, ctx: CanvasRenderingContext2D): void {
    if (this.ds.scale >= OVERVIEW_SCALE || !(node instanceof FlowGraphNode)) return super.drawNode(node, ctx);
    node.drawOverview(ctx, this.selectedItems.has(node), this.ds.scale);
  }

  override drawConnections(ctx: CanvasRenderingContext2D): void {
    if (this.ds.scale >= OVERVIEW_SCALE || !this.graph) return super.drawConnections(ctx);
    // Wires cannot be picked at this zoom: none are registered for hit-testing.
    this.renderedPaths.clear();
    const graph = this.graph;
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
