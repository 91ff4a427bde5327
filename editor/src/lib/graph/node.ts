/** One flow node as litegraph draws it: title, detail line, inject button, debug toggle, run state and problems. */
import { LGraphNode, LiteGraph, type INodeInputSlot, type INodeOutputSlot, type LGraphCanvas, type LLink } from '@comfyorg/litegraph';
import type { FlowNode, NodeTypeInfo } from '../../api/types';
import { httpEntry, webhookPath, webhookRoute } from '../run-entry';
import type { GraphView } from '../graph';
import type { NodeRunState } from './types';

export const SLOT_TYPE = 'msg';
/** The inject button's box in node coordinates (x, y, width, height): left in the body, where inputs would be. */
export const INJECT_BUTTON = [6, 6, 20, 20] as const;
const MIN_WIDTH = 150;
const STATE_COLOURS: Record<NodeRunState, string> = { running: '#3b82f6', succeeded: '#22c55e', failed: '#ef4444', cancelled: '#9ca3af' };
const PINNED_COLOUR = '#f59e0b';
const DIFF_COLOURS = { added: '#22c55e', changed: '#eab308', moved: '#60a5fa' } as const;
const TEST_COLOURS = { passed: '#22c55e', failed: '#ef4444', ran: '#94a3b8', mocked: '#f59e0b' } as const;
const TEST_SYMBOLS = { passed: '✓', failed: '✗', ran: '•', mocked: 'M' } as const;
const STATUS_FILLS: Record<string, string> = { red: '#ef4444', green: '#22c55e', yellow: '#eab308', blue: '#3b82f6', grey: '#9ca3af' };

let configured = false;
export function configureLiteGraph(): void {
  if (configured) return;
  configured = true;
  LiteGraph.release_link_on_empty_shows_menu = false;
  LiteGraph.middle_click_slot_add_default_node = false;
  LiteGraph.alt_drag_do_clone_nodes = false;
  LiteGraph.ctrl_shift_v_paste_connect_unselected_outputs = false;
  LiteGraph.canvasNavigationMode = 'legacy';
  LiteGraph.NODE_TITLE_COLOR = '#1f2328';
  LiteGraph.NODE_SELECTED_TITLE_COLOR = '#000';
}

/** A flow node as litegraph sees it. Its `id` is the flow node id (a string). */
export class FlowGraphNode extends LGraphNode {
  static title_text_color = '#1f2328';
  /** Set by the view: where decorations come from. */
  view?: GraphView;
  typeLabel = '';
  /** A line under the title that says what the node is about, e.g. a webhook's "POST /webhook/orders". */
  detail = '';
  /** Inject nodes carry a button that starts a run with their own message. */
  injectButton = false;
  /** Debug nodes carry a toggle (on/off); null on other nodes. */
  debugToggle: boolean | null = null;
  unknownType = false;
  disabledNode = false;

  constructor(title: string) {
    super(title, 'flowcrew/node');
    this.resizable = false;
    this.serialize_widgets = false;
    // litegraph declares onMouseDown as a class field (undefined on each instance), which would hide a method.
    this.onMouseDown = (_event, pos) => {
      const [bx, by, bw, bh] = INJECT_BUTTON;
      const inBox = (x: number) => pos[0] >= x && pos[0] <= x + bw && pos[1] >= by && pos[1] <= by + bh;
      if (this.injectButton && inBox(bx)) {
        this.view?.callbacks.inject?.(String(this.id));
        return true;
      }
      if (this.debugToggle !== null && inBox(this.size[0]! - bx - bw)) {
        this.view?.callbacks.toggleDebug?.(String(this.id));
        return true;
      }
      return false;
    };
  }

  override computeSize(): [number, number] {
    const ctx = this.view?.measureContext;
    // litegraph draws the title from x = NODE_TITLE_HEIGHT and truncates it to the width less twice that: the node
    // must be that much wider than its title text, in the font litegraph draws it with, or every title is cut.
    const titleText = ctx ? measure(ctx, this.title, this.titleFontStyle) : this.title.length * 8;
    const titleWidth = titleText + LiteGraph.NODE_TITLE_HEIGHT * 2 + 4;
    const detailWidth = this.detail ? (ctx ? measure(ctx, this.detail, '11px Arial') : this.detail.length * 6) + 32 : 0;
    const labelWidth = Math.max(detailWidth, ...this.outputs.map((o) => (o.label || o.name ? (o.label || o.name).length * 7 + 40 : 0)));
    const rows = Math.max(1, this.outputs.length);
    return [Math.max(MIN_WIDTH, Math.ceil(titleWidth), labelWidth), rows * LiteGraph.NODE_SLOT_HEIGHT + 12];
  }

  /** Dropping a wire on an input that already has one adds a wire (flows allow many), into the free slot. */
  override connectSlots(output: INodeOutputSlot, inputNode: LGraphNode, input: INodeInputSlot, afterRerouteId?: number): LLink | null | undefined {
    const graph = this.graph;
    const outputIndex = this.outputs.indexOf(output);
    if (graph) {
      for (const slot of inputNode.inputs) {
        const existing = slot.link != null ? graph._links.get(slot.link) : undefined;
        if (existing && existing.origin_id === this.id && existing.origin_slot === outputIndex) return existing; // already wired
      }
    }
    let target = input;
    if (input.link != null) target = inputNode.inputs.find((slot) => slot.link == null) ?? input;
    return super.connectSlots(output, inputNode, target, afterRerouteId as never);
  }

  /** The node zoomed far out (canvas.ts OVERVIEW_SCALE): its box in its colours, and the marks that still matter. */
  drawOverview(ctx: CanvasRenderingContext2D, selected: boolean, scale: number): void {
    const width = this.size[0]!;
    const height = this.size[1]!;
    const title = LiteGraph.NODE_TITLE_HEIGHT;
    ctx.fillStyle = this.bgcolor ?? '#2f3237';
    ctx.fillRect(0, -title, width, height + title);
    ctx.fillStyle = this.color ?? '#a6bbcf';
    ctx.fillRect(0, -title, width, title);
    const deco = this.view?.callbacks.decoration(String(this.id));
    const frame = this.unknownType || (deco?.issues ?? 0) > 0 ? '#ef4444' : deco?.pinned ? PINNED_COLOUR : selected ? '#ffffff' : undefined;
    if (frame) {
      ctx.strokeStyle = frame;
      ctx.lineWidth = 3 / scale;
      ctx.strokeRect(0, -title, width, height + title);
    }
    if (deco?.state) {
      ctx.fillStyle = STATE_COLOURS[deco.state];
      ctx.fillRect(0, height, width, 6 / scale);
    }
  }

  override onDrawForeground(ctx: CanvasRenderingContext2D, canvas: LGraphCanvas): void {
    const deco = this.view?.callbacks.decoration(String(this.id));
    const width = this.size[0]!;
    const height = this.size[1]!;
    const titleHeight = LiteGraph.NODE_TITLE_HEIGHT;
    // Zoomed far out (a whole large flow in view) text is unreadable anyway: skip it and keep panning smooth.
    const detailed = !canvas.low_quality;
    // Buttons are drawn (and clickable in practice) only when the node is big enough to read.
    if (detailed && this.injectButton) {
      const [bx, by, bw, bh] = INJECT_BUTTON;
      ctx.fillStyle = '#4b5563';
      ctx.fillRect(bx, by, bw, bh);
      ctx.fillStyle = '#e5e7eb';
      ctx.beginPath();
      ctx.moveTo(bx + 7, by + 5);
      ctx.lineTo(bx + 15, by + bh / 2);
      ctx.lineTo(bx + 7, by + bh - 5);
      ctx.closePath();
      ctx.fill();
    }
    if (detailed && this.debugToggle !== null) {
      const [bx, by, bw, bh] = INJECT_BUTTON;
      const x = width - bx - bw;
      ctx.fillStyle = this.debugToggle ? '#16a34a' : '#4b5563';
      ctx.fillRect(x, by, bw, bh);
      ctx.fillStyle = '#e5e7eb';
      ctx.fillRect(this.debugToggle ? x + bw - 9 : x + 3, by + 3, 6, bh - 6);
    }
    const subtitle = this.detail || (this.typeLabel !== this.title ? this.typeLabel : '');
    if (detailed && subtitle) {
      ctx.fillStyle = this.detail ? '#d1d5db' : '#9aa0a6';
      ctx.font = '11px Arial';
      ctx.textAlign = 'left';
      ctx.fillText(subtitle, this.injectButton ? INJECT_BUTTON[0] + INJECT_BUTTON[2] + 6 : this.inputs.length ? 22 : 10, height - 8);
    }
    if (this.disabledNode) {
      ctx.fillStyle = 'rgba(20,20,20,0.55)';
      ctx.fillRect(0, -titleHeight, width, height + titleHeight);
      ctx.fillStyle = '#ddd';
      ctx.font = '11px Arial';
      ctx.fillText('disabled', width - 56, height - 8);
    }
    if (this.unknownType || (deco?.issues ?? 0) > 0) {
      ctx.strokeStyle = '#ef4444';
      ctx.lineWidth = 3;
      ctx.strokeRect(-3, -titleHeight - 3, width + 6, height + titleHeight + 6);
      ctx.fillStyle = '#ef4444';
      ctx.font = 'bold 12px Arial';
      ctx.textAlign = 'right';
      const text = this.unknownType ? 'unknown type' : `⚠ ${deco!.issues} problem${deco!.issues === 1 ? '' : 's'}`;
      ctx.fillText(text, width, -titleHeight - 8);
      ctx.textAlign = 'left';
    }
    if (!deco) return;
    if (deco.diff) {
      // A compared version diff (versions panel): what this node became since the older version.
      ctx.strokeStyle = DIFF_COLOURS[deco.diff];
      ctx.lineWidth = 2;
      ctx.strokeRect(-4, -titleHeight - 4, width + 8, height + titleHeight + 8);
      if (detailed) {
        ctx.fillStyle = DIFF_COLOURS[deco.diff];
        ctx.font = 'bold 11px Arial';
        ctx.textAlign = 'right';
        ctx.fillText(`${deco.diff} since ${deco.diffSince ?? 'then'}`, width, height + 14);
        ctx.textAlign = 'left';
      }
    }
    if (deco.test) {
      // The picked flow test case (tests panel): a badge on the title, drawn zoomed out too.
      ctx.fillStyle = TEST_COLOURS[deco.test];
      ctx.beginPath();
      ctx.arc(width - 10, -titleHeight / 2, 8, 0, Math.PI * 2);
      ctx.fill();
      ctx.fillStyle = '#111';
      ctx.font = 'bold 11px Arial';
      ctx.textAlign = 'center';
      ctx.fillText(TEST_SYMBOLS[deco.test], width - 10, -titleHeight / 2 + 4);
      ctx.textAlign = 'left';
    }
    if (deco.pinned) {
      // Drawn as pinned (amber frame, a pin on the title) even zoomed out: it changes what a manual run does.
      ctx.strokeStyle = PINNED_COLOUR;
      ctx.lineWidth = 2;
      ctx.setLineDash([6, 4]);
      ctx.strokeRect(-2, -titleHeight - 2, width + 4, height + titleHeight + 4);
      ctx.setLineDash([]);
      if (detailed) {
        ctx.fillStyle = PINNED_COLOUR;
        ctx.font = 'bold 11px Arial';
        ctx.textAlign = 'left';
        ctx.fillText('pinned output', 0, -titleHeight - 8);
      }
    }
    let y = height + 16;
    if (deco.state || deco.count) {
      const colour = deco.state ? STATE_COLOURS[deco.state] : '#9ca3af';
      ctx.fillStyle = colour;
      ctx.beginPath();
      ctx.arc(6, y - 4, 5, 0, Math.PI * 2);
      ctx.fill();
      ctx.fillStyle = '#d1d5db';
      ctx.font = '12px Arial';
      ctx.textAlign = 'left';
      const label = `${deco.state ?? ''}${deco.count ? ` · ${deco.count} msg${deco.count === 1 ? '' : 's'}` : ''}`;
      ctx.fillText(label, 16, y);
      y += 16;
    }
    if (deco.statusText) {
      ctx.fillStyle = STATUS_FILLS[deco.statusFill ?? 'grey'] ?? '#9ca3af';
      ctx.fillRect(1, y - 9, 9, 9);
      ctx.fillStyle = '#d1d5db';
      ctx.font = '12px Arial';
      ctx.fillText(deco.statusText.slice(0, 40), 16, y);
    }
  }
}

/** What a node shows under its title besides its type: a webhook's method and address. */
export function nodeDetail(node: FlowNode, type: NodeTypeInfo | undefined): string {
  if (!httpEntry(type)) return '';
  const { method, path } = webhookRoute(node, type);
  return path ? `${method} ${webhookPath(path)}` : '';
}

function measure(ctx: CanvasRenderingContext2D, text: string, font: string): number {
  ctx.font = font;
  return ctx.measureText(text).width;
}
