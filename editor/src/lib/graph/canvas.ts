/** litegraph's canvas with the editor's shortcuts and menus in place of litegraph's own. */
import { LGraphCanvas, LGraphNode, LiteGraph, type IContextMenuValue, type LinkSegment } from '@comfyorg/litegraph';
import type { GraphView } from '../graph';

/** litegraph's canvas with the editor's keyboard shortcuts and menus instead of its own. */
export class FlowCanvas extends LGraphCanvas {
  view?: GraphView;

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
