/**
 * Keyboard operation of the canvas (Canvas.vue): arrow keys select the nearest node in that direction, Shift+arrows
 * move the selection (one undo step), Enter opens the selected node, W wires it to a node chosen with the arrows (W
 * again: to itself, a loop, as dragging a wire onto its own input does).
 * Each action is announced in a status line (read by screen readers). Geometry and checks: canvas-keys.ts.
 */
import { ref } from 'vue';
import { useFlowsStore } from '../stores/flows';
import { useNodeTypesStore } from '../stores/nodeTypes';
import { ARROWS, MOVE_STEP, firstNode, nearestInDirection, wireProblem } from './canvas-keys';
import { outputCount } from './ports';

export function useCanvasKeyboard(openNode: (id: string) => void) {
  const flows = useFlowsStore();
  const nodeTypes = useNodeTypesStore();
  const announcement = ref('');
  /** Wiring by keyboard: from this node's output port to the node chosen next. */
  const wiring = ref<{ from: string; port: number; target?: string } | null>(null);

  function nodeLabel(id: string | undefined): string {
    const node = id ? flows.node(id) : undefined;
    if (!node) return '';
    const type = nodeTypes.byType.get(node.type)?.label ?? node.type;
    return node.name ? `${node.name} (${type})` : type;
  }

  function describe(id: string): string {
    const node = flows.node(id)!;
    const wires = (node.wires ?? []).reduce((sum, targets) => sum + targets.length, 0);
    const issues = flows.activeIssues.byNode.get(id)?.length ?? 0;
    return `${nodeLabel(id)} selected${wires ? `, ${wires} wire${wires === 1 ? '' : 's'} out` : ''}${issues ? `, ${issues} problem${issues === 1 ? '' : 's'}` : ''}. Enter: properties; Shift+arrows: move; W: wire.`;
  }

  function onCanvasKey(event: KeyboardEvent): void {
    const flow = flows.active;
    if (!flow || event.ctrlKey || event.metaKey || event.altKey) return;
    const nodes = flow.doc.nodes;
    const selected = flows.selection.length === 1 ? flows.selection[0] : undefined;
    const direction = ARROWS[event.key];
    const handled = () => {
      event.preventDefault();
      event.stopImmediatePropagation();
    };

    if (wiring.value) {
      const w = wiring.value;
      const choose = (next: string) => {
        w.target = next;
        flows.select([next]);
        announcement.value = next === w.from ? `Wire ${nodeLabel(next)} back to itself (a loop)? Enter connects, Escape cancels.` : `Wire to ${nodeLabel(next)}? Enter connects, Escape cancels.`;
      };
      if (direction) {
        const next = nearestInDirection(nodes, w.target ?? w.from, direction);
        if (next) choose(next);
        return handled();
      }
      if (event.key === 'w' || event.key === 'W') {
        choose(w.from);
        return handled();
      }
      if (/^[1-9]$/.test(event.key)) {
        const ports = outputCount(nodeTypes.byType.get(flows.node(w.from)?.type ?? ''), flows.node(w.from)?.props);
        if (Number(event.key) <= ports) w.port = Number(event.key) - 1;
        announcement.value = `Wiring from output ${w.port + 1} of ${nodeLabel(w.from)}.`;
        return handled();
      }
      if (event.key === 'Enter' && w.target) {
        const target = flows.node(w.target);
        const problem = wireProblem(flow.doc, w.from, w.port, w.target, (nodeTypes.byType.get(target?.type ?? '')?.inputs ?? 0) > 0);
        if (problem) announcement.value = `Not wired: ${problem}.`;
        else {
          const { from, port, target: to } = w;
          flows.edit(flow.doc.id, (doc) => {
            const node = doc.nodes.find((n) => n.id === from)!;
            const wires = (node.wires ??= []);
            while (wires.length <= port) wires.push([]);
            wires[port]!.push(to!);
          }, { touched: [from] });
          announcement.value = to === from ? `Wired ${nodeLabel(from)} output ${port + 1} back to itself: a loop.` : `Wired ${nodeLabel(from)} output ${port + 1} to ${nodeLabel(to)}.`;
        }
        wiring.value = null;
        return handled();
      }
      if (event.key === 'Escape') {
        announcement.value = 'Wiring cancelled.';
        flows.select([w.from]);
        wiring.value = null;
        return handled();
      }
      return;
    }

    if (direction && !event.shiftKey) {
      const next = selected ? nearestInDirection(nodes, selected, direction) : firstNode(nodes);
      if (next) {
        flows.select([next]);
        announcement.value = describe(next);
      } else if (selected) announcement.value = `No node further ${direction}.`;
      return handled();
    }
    if (direction && event.shiftKey && flows.selection.length) {
      const [dx, dy] = direction === 'left' ? [-MOVE_STEP, 0] : direction === 'right' ? [MOVE_STEP, 0] : direction === 'up' ? [0, -MOVE_STEP] : [0, MOVE_STEP];
      const moving = new Set(flows.selection);
      // Successive steps merge into one undo step.
      flows.edit(flow.doc.id, (doc) => {
        for (const n of doc.nodes) if (moving.has(n.id)) n.position = { x: (n.position?.x ?? 0) + dx, y: (n.position?.y ?? 0) + dy };
      }, { key: `keyboard-move:${[...moving].join(',')}` });
      announcement.value = `Moved ${moving.size === 1 ? nodeLabel(selected) : `${moving.size} nodes`} ${direction}.`;
      return handled();
    }
    if (event.key === 'Enter' && selected) {
      openNode(selected);
      announcement.value = `Properties of ${nodeLabel(selected)}.`;
      return handled();
    }
    if ((event.key === 'w' || event.key === 'W') && selected) {
      const ports = outputCount(nodeTypes.byType.get(flows.node(selected)?.type ?? ''), flows.node(selected)?.props);
      if (!ports) announcement.value = `${nodeLabel(selected)} has no output to wire.`;
      else {
        wiring.value = { from: selected, port: 0 };
        announcement.value = `Wiring from ${nodeLabel(selected)}${ports > 1 ? ` (output 1 of ${ports}; press 1–${Math.min(ports, 9)} for another)` : ''}: choose the target with the arrow keys (W again: this node itself, a loop), Enter connects, Escape cancels.`;
      }
      return handled();
    }
  }

  function onCanvasFocus(): void {
    if (!announcement.value) announcement.value = flows.selection.length === 1 ? describe(flows.selection[0]!) : 'Flow canvas: arrow keys select nodes, Enter opens one, Shift+arrows move it, W wires it.';
  }

  return { announcement, wiring, onCanvasKey, onCanvasFocus };
}
