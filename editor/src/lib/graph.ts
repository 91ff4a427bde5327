/**
 * The litegraph adapter. The flow document (in the flows store) is the single source of truth; this class
 * draws it and turns what the user does on the canvas back into document changes:
 *
 * - `sync(doc)` brings the litegraph graph in line with a document (diffing nodes, ports and links, so undo,
 *   paste and property edits update a 1,000-node graph without rebuilding it);
 * - after each pointer gesture, `reconcile` reads positions and links back and reports one change (one undo step).
 *
 * Flow wiring allows many wires into one input, litegraph allows one link per input slot: every flow node gets
 * one input slot per incoming wire plus a free one, all drawn at the same spot, so they look like one input.
 */
import { LGraph, LGraphNode, LiteGraph } from '@comfyorg/litegraph';
import type { FlowDocument, FlowNode, NodeTypeInfo } from '../api/types';
import { debugToggleState } from './debug-toggle';
import { GROUP_COLOURS } from './groups';
import { outputCount, outputLabel } from './ports';
import { FlowCanvas } from './graph/canvas';
import { FlowGroupBox } from './graph/group';
import { FlowGraphNode, SLOT_TYPE, configureLiteGraph, nodeDetail } from './graph/node';
import { selfWireDrop, withSelfWire, type SelfWire } from './graph/self-wire';
import type { GraphCallbacks } from './graph/types';
import { linkKey, sameWires } from './graph/wires';

export * from './graph/types';
export { FlowGraphNode, INJECT_BUTTON, nodeDetail } from './graph/node';

export class GraphView {
  readonly graph: LGraph;
  readonly canvas: FlowCanvas;
  readonly measureContext: CanvasRenderingContext2D | null;
  private doc: FlowDocument | undefined;
  private readonly cleanup: Array<() => void> = [];
  private syncing = false;
  /** Bumped when what the canvas shows changes other than by moving nodes: the document, decorations, selection. */
  contentVersion = 0;
  /** litegraph's group boxes by flow group id (the document keeps membership; the box is fitted to the members). */
  private readonly groups = new Map<string, FlowGroupBox>();
  /** Wires dragged from a node back onto itself in this gesture: litegraph holds none, reconcile adds them. */
  private droppedSelfWires: SelfWire[] = [];
  private selfWiresOf: { doc: FlowDocument | undefined; version: number; found: Array<{ id: string; ports: number[] }> } = { doc: undefined, version: -1, found: [] };

  constructor(
    readonly element: HTMLCanvasElement,
    readonly callbacks: GraphCallbacks,
  ) {
    configureLiteGraph();
    this.graph = new LGraph();
    this.canvas = new FlowCanvas(element, this.graph);
    this.canvas.view = this;
    this.measureContext = element.getContext('2d');
    const canvas = this.canvas;
    canvas.allow_searchbox = false;
    canvas.render_canvas_border = false;
    canvas.show_info = false;
    canvas.allow_reconnect_links = true;
    canvas.render_connection_arrows = false;
    canvas.links_render_mode = LiteGraph.SPLINE_LINK;
    canvas.onSelectionChange = () => {
      if (!this.syncing) this.callbacks.select(this.selectedIds());
    };

    // Every gesture ends with a pointerup: read the result back once litegraph has handled it. Capture phase,
    // because litegraph stops the event's propagation on the canvas.
    const onPointerUp = () => setTimeout(() => this.reconcile(), 0);
    window.addEventListener('pointerup', onPointerUp, true);
    window.addEventListener('pointercancel', onPointerUp, true);
    this.cleanup.push(() => {
      window.removeEventListener('pointerup', onPointerUp, true);
      window.removeEventListener('pointercancel', onPointerUp, true);
    });

    // A wire released on its own node's input: litegraph drops it silently; Node-RED makes a loop (graph/self-wire.ts).
    const connector = canvas.linkConnector;
    const onDrop = (e: CustomEvent<{ event: { canvasX: number; canvasY: number } }>) => {
      const { canvasX, canvasY } = e.detail.event;
      const wire = selfWireDrop(connector, this.graph.getNodeOnPos(canvasX, canvasY), [canvasX, canvasY]);
      if (wire) this.droppedSelfWires.push(wire);
    };
    connector.events.addEventListener('after-drop-links', onDrop);
    this.cleanup.push(() => connector.events.removeEventListener('after-drop-links', onDrop));
  }

  /** Bring the graph in line with `doc`. Cheap when little changed. */
  sync(doc: FlowDocument, types: ReadonlyMap<string, NodeTypeInfo>): void {
    this.contentVersion++;
    this.syncing = true;
    try {
      const switched = this.doc?.id !== doc.id;
      this.doc = doc;
      const graph = this.graph;
      if (switched) {
        graph.clear();
        this.groups.clear();
        this.canvas.deselectAll();
      }
      const wanted = new Set(doc.nodes.map((n) => n.id));
      for (const node of [...graph._nodes]) if (!wanted.has(String(node.id))) graph.remove(node);

      for (const node of doc.nodes) this.syncNode(node, types.get(node.type));
      this.syncLinks(doc);
      for (const node of doc.nodes) {
        const gnode = graph.getNodeById(node.id) as FlowGraphNode | null;
        if (!gnode) continue;
        this.ensureFreeInput(gnode);
        const size = gnode.computeSize();
        if (gnode.size[0] !== size[0] || gnode.size[1] !== size[1]) gnode.setSize(size);
      }
      this.syncGroups(doc);
      if (switched) graph.updateExecutionOrder();
      this.canvas.setDirty(true, true);
    } finally {
      this.syncing = false;
    }
  }

  private syncNode(node: FlowNode, type: NodeTypeInfo | undefined): void {
    let gnode = this.graph.getNodeById(node.id) as FlowGraphNode | null;
    const title = node.name || type?.label || node.type;
    if (!gnode) {
      gnode = new FlowGraphNode(title);
      gnode.view = this;
      gnode.id = node.id;
      if ((type?.inputs ?? 1) > 0) this.addInputSlot(gnode);
      this.graph.add(gnode, true);
    }
    gnode.title = title;
    gnode.typeLabel = type?.label ?? node.type;
    const detail = nodeDetail(node, type);
    if (gnode.detail !== detail) {
      gnode.detail = detail;
      gnode.size = gnode.computeSize();
    }
    // By role, so a third-party pack's manual trigger and debug-like output get the button and the toggle too.
    gnode.injectButton = type?.role?.kind === 'manual-entry';
    gnode.debugToggle = debugToggleState(node, type);
    gnode.unknownType = !type;
    gnode.disabledNode = node.disabled === true;
    gnode.color = type?.color ?? '#a6bbcf';
    gnode.bgcolor = '#2f3237';
    gnode.boxcolor = type?.color ?? '#a6bbcf';
    const x = node.position?.x ?? 0;
    const y = node.position?.y ?? 0;
    if (gnode.pos[0] !== x || gnode.pos[1] !== y) gnode.pos = [x, y];

    // Ports can change with props (a switch gets one per rule).
    const ports = type ? outputCount(type, node.props) : (node.wires?.length ?? 0);
    while (gnode.outputs.length > ports) gnode.removeOutput(gnode.outputs.length - 1);
    while (gnode.outputs.length < ports) gnode.addOutput('', SLOT_TYPE);
    gnode.outputs.forEach((slot, port) => {
      const label = type ? outputLabel(type, node.props, port) : '';
      if (slot.label !== label) {
        slot.label = label;
        slot.name = label;
      }
    });
  }

  /** Group boxes follow the document: fitted around their members, so moving a member moves the box's edge. */
  private syncGroups(doc: FlowDocument): void {
    const wanted = new Map((doc.groups ?? []).map((g) => [g.id, g]));
    for (const [id, box] of this.groups) {
      if (wanted.has(id)) continue;
      this.graph.remove(box);
      this.groups.delete(id);
    }
    for (const group of wanted.values()) {
      let box = this.groups.get(group.id);
      if (!box) {
        box = new FlowGroupBox(group.name);
        this.graph.add(box);
        this.groups.set(group.id, box);
      }
      box.title = group.name;
      box.members = group.nodes;
      box.color = group.color ?? GROUP_COLOURS[0];
      box.inner = [];
    }
    const parents = new Map([...wanted.values()].map((g) => [this.groups.get(g.id)!, g.parent ? this.groups.get(g.parent) : undefined]));
    const parentOf = (box: FlowGroupBox) => parents.get(box);
    for (const box of this.groups.values()) parentOf(box)?.inner.push(box);
    // Deepest first, so a parent's box is fitted around its nested boxes (title bars included).
    const depth = new Map([...this.groups.values()].map((box) => [box, box.depth(parentOf)]));
    for (const box of [...this.groups.values()].sort((a, b) => depth.get(b)! - depth.get(a)!)) {
      const members = box.members.map((id) => this.graph.getNodeById(id)).filter((n): n is LGraphNode => n !== null);
      // A node's bounds are measured when it is drawn: a flow opened with groups is fitted before its first frame.
      for (const node of members) node.updateArea(this.canvas.ctx);
      // Room below the nodes for their run state and status lines.
      if (members.length || box.inner.length) box.resizeTo([...members, ...box.inner], 24);
    }
    // Parents drawn first: a nested box lies on top of its parent's.
    this.graph.groups.sort((a, b) => (depth.get(a as FlowGroupBox) ?? 0) - (depth.get(b as FlowGroupBox) ?? 0));
  }

  /** The group box's title bar centre in graph coordinates (for tests and keyboard users). */
  groupTitlePoint(groupId: string): [number, number] | undefined {
    const box = this.groups.get(groupId);
    return box ? [box.pos[0] + 40, box.pos[1] + box.titleHeight / 2] : undefined;
  }

  private addInputSlot(gnode: FlowGraphNode): void {
    // All input slots sit at the same spot: many wires, one visible input.
    gnode.addInput('', SLOT_TYPE, { pos: [LiteGraph.NODE_SLOT_HEIGHT * 0.5, LiteGraph.NODE_SLOT_HEIGHT * 0.7] });
  }

  /** Keep exactly one free input slot on nodes that take input, so a new wire always has somewhere to land. */
  private ensureFreeInput(gnode: FlowGraphNode): void {
    if (gnode.inputs.length === 0) return;
    const free = gnode.inputs.map((slot, i) => (slot.link == null ? i : -1)).filter((i) => i >= 0);
    if (free.length === 0) this.addInputSlot(gnode);
    // Remove surplus free slots from the end backwards so indices of linked slots stay valid (removeInput renumbers).
    for (let k = free.length - 1; k >= 1; k--) gnode.removeInput(free[k - 1]!);
  }

  private syncLinks(doc: FlowDocument): void {
    const graph = this.graph;
    const wanted = new Map<string, { from: string; port: number; to: string }>();
    for (const node of doc.nodes) {
      (node.wires ?? []).forEach((targets, port) => {
        for (const to of targets) wanted.set(linkKey(node.id, port, to), { from: node.id, port, to });
      });
    }
    const present = new Set<string>();
    for (const link of [...graph._links.values()]) {
      const key = linkKey(String(link.origin_id), link.origin_slot, String(link.target_id));
      if (!wanted.has(key) || present.has(key)) graph.removeLink(link.id);
      else present.add(key);
    }
    for (const [key, { from, port, to }] of wanted) {
      if (present.has(key)) continue;
      const source = graph.getNodeById(from) as FlowGraphNode | null;
      const target = graph.getNodeById(to) as FlowGraphNode | null;
      // Wires to missing nodes or ports are validation problems, shown on the node; they cannot be drawn.
      if (!source || !target || port >= source.outputs.length || target.inputs.length === 0) continue;
      let slot = target.inputs.findIndex((s) => s.link == null);
      if (slot < 0) {
        this.addInputSlot(target);
        slot = target.inputs.length - 1;
      }
      source.connect(port, target, slot);
    }
  }

  /** Read positions and links back; report a change when they differ from the document. */
  reconcile(): void {
    const doc = this.doc;
    if (!doc || this.syncing) return;
    const dropped = this.droppedSelfWires;
    this.droppedSelfWires = [];
    const graph = this.graph;
    const positions = new Map<string, { x: number; y: number }>();
    const removed: string[] = [];
    const linksFrom = new Map<string, Array<Array<string>>>();
    for (const link of graph._links.values()) {
      const from = String(link.origin_id);
      const ports = linksFrom.get(from) ?? [];
      (ports[link.origin_slot] ??= []).push(String(link.target_id));
      linksFrom.set(from, ports);
    }
    const wires = new Map<string, string[][]>();
    for (const node of doc.nodes) {
      const gnode = graph.getNodeById(node.id);
      if (!gnode) {
        removed.push(node.id);
        continue;
      }
      const x = Math.round(gnode.pos[0]);
      const y = Math.round(gnode.pos[1]);
      if (x !== (node.position?.x ?? 0) || y !== (node.position?.y ?? 0)) positions.set(node.id, { x, y });
      const drawn = linksFrom.get(node.id) ?? [];
      const current = node.wires ?? [];
      // Keep the document's order of targets; append new ones. Ports litegraph cannot draw are left alone.
      let next: string[][] = [];
      const portCount = Math.max(current.length, gnode.outputs.length);
      for (let port = 0; port < portCount; port++) {
        const existing = current[port] ?? [];
        if (port >= gnode.outputs.length) {
          next.push([...existing]);
          continue;
        }
        const targets = drawn[port] ?? [];
        // Wires litegraph does not hold are kept: to missing nodes or inputs, and back to the node itself (litegraph
        // refuses those; the canvas draws them, lib/graph/canvas.ts).
        const missingTargets = existing.filter((t) => t === node.id || !graph.getNodeById(t) || (graph.getNodeById(t)!.inputs.length ?? 0) === 0);
        next.push([...existing.filter((t) => targets.includes(t) || missingTargets.includes(t)), ...targets.filter((t) => !existing.includes(t))]);
      }
      for (const wire of dropped) if (wire.id === node.id) next = withSelfWire(next, wire);
      while (next.length > 0 && next[next.length - 1]!.length === 0 && next.length > current.length) next.pop();
      if (!sameWires(next, current)) wires.set(node.id, next);
    }
    if (positions.size || wires.size || removed.length) this.callbacks.change({ positions, wires, removed });
  }

  /**
   * Nodes wired back to themselves (Node-RED allows it), with the output ports that are: litegraph draws no such link.
   * Read by every frame's wire drawing: worked out once per document change (a pass over the whole document, through
   * the store's reactive proxies, cost ~1.5 ms a frame on 1,000 nodes), not per frame.
   */
  selfWires(): ReadonlyArray<{ id: string; ports: number[] }> {
    if (this.selfWiresOf.doc !== this.doc || this.selfWiresOf.version !== this.contentVersion) {
      const found: Array<{ id: string; ports: number[] }> = [];
      for (const node of this.doc?.nodes ?? []) {
        const ports = (node.wires ?? []).flatMap((targets, port) => (targets.includes(node.id) ? [port] : []));
        if (ports.length) found.push({ id: node.id, ports });
      }
      this.selfWiresOf = { doc: this.doc, version: this.contentVersion, found };
    }
    return this.selfWiresOf.found;
  }

  selectedIds(): string[] {
    return [...this.canvas.selectedItems].filter((item): item is FlowGraphNode => item instanceof FlowGraphNode).map((n) => String(n.id));
  }

  select(ids: readonly string[]): void {
    const current = this.selectedIds();
    if (current.length === ids.length && current.every((id) => ids.includes(id))) return;
    this.syncing = true;
    try {
      const nodes = ids.map((id) => this.graph.getNodeById(id)).filter((n): n is LGraphNode => n !== null);
      if (nodes.length) this.canvas.selectItems(nodes);
      else this.canvas.deselectAll();
      this.canvas.setDirty(true, true);
    } finally {
      this.syncing = false;
    }
  }

  /** Fit the view around the selection, or everything when nothing is selected; never zooms in past 100%. */
  fit(): void {
    const selected = this.selectedIds();
    const nodes = selected.length ? selected.map((id) => this.graph.getNodeById(id)!) : this.graph._nodes;
    const ds = this.canvas.ds;
    if (nodes.length === 0) {
      ds.reset();
      this.canvas.setDirty(true, true);
      return;
    }
    const [x, y, w, h] = this.bounds(nodes);
    ds.fitToBounds([x, y, w, h], { zoom: 0.9 });
    if (ds.scale > 1) {
      ds.scale = 1;
      this.centerOn(x + w / 2, y + h / 2);
    }
    this.canvas.setDirty(true, true);
  }

  /** Bounding box of nodes (including titles and status lines), in graph coordinates: [x, y, w, h]. */
  bounds(nodes: readonly LGraphNode[] = this.graph._nodes): [number, number, number, number] {
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (const n of nodes) {
      minX = Math.min(minX, n.pos[0]);
      minY = Math.min(minY, n.pos[1] - LiteGraph.NODE_TITLE_HEIGHT);
      maxX = Math.max(maxX, n.pos[0] + n.size[0]);
      maxY = Math.max(maxY, n.pos[1] + n.size[1] + 20);
    }
    if (!Number.isFinite(minX)) return [0, 0, 0, 0];
    return [minX, minY, maxX - minX, maxY - minY];
  }

  zoom(factor: number): void {
    const { width, height } = this.element;
    this.canvas.ds.changeScale(this.canvas.ds.scale * factor, [width / 2, height / 2]);
    this.canvas.setDirty(true, true);
  }

  /** Centre the view on a graph point (the minimap uses it). */
  centerOn(x: number, y: number): void {
    const ds = this.canvas.ds;
    ds.offset[0] = this.element.width / 2 / ds.scale - x;
    ds.offset[1] = this.element.height / 2 / ds.scale - y;
    this.canvas.setDirty(true, true);
  }

  centerOnNode(id: string): void {
    const node = this.graph.getNodeById(id);
    if (node) this.canvas.centerOnNode(node);
    this.canvas.setDirty(true, true);
  }

  /** Client (mouse) coordinates → graph coordinates, e.g. for a palette drop. */
  toGraph(clientX: number, clientY: number): { x: number; y: number } {
    const rect = this.element.getBoundingClientRect();
    const point = this.canvas.ds.convertCanvasToOffset([clientX - rect.left, clientY - rect.top]);
    return { x: Math.round(point[0]!), y: Math.round(point[1]!) };
  }

  /** The graph rectangle currently visible: [x, y, w, h]. */
  visibleArea(): [number, number, number, number] {
    const ds = this.canvas.ds;
    return [-ds.offset[0], -ds.offset[1], this.element.width / ds.scale, this.element.height / ds.scale];
  }

  resize(width: number, height: number): void {
    if (this.element.width === width && this.element.height === height) return;
    this.element.width = width;
    this.element.height = height;
    this.canvas.setDirty(true, true);
    this.canvas.draw(true, true);
  }

  /** Redraw (live states and validation marks changed; the document did not). */
  redraw(): void {
    this.contentVersion++;
    this.canvas.setDirty(true, true);
  }

  destroy(): void {
    for (const dispose of this.cleanup) dispose();
    this.canvas.stopRendering();
    this.canvas.unbindEvents();
    this.graph.clear();
  }
}
