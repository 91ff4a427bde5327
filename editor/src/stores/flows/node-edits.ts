/** Node-level edits of the active flow (add, change, delete, canvas gestures, selection, clipboard), each one undo step. */
import type { FlowNode } from '../../api/types';
import { nodesAfterCanvasChange } from '../../lib/canvas-change';
import { copyNodes, parseFragment, pasteNodes, type NodeFragment } from '../../lib/clipboard';
import { createGroup, dropFromGroups, removeGroup } from '../../lib/groups';
import type { FlowGroup } from '../../api/types';
import { newNodeId } from '../../lib/ids';
import { outputCount } from '../../lib/ports';
import { useCredentialsStore } from '../credentials';
import { useNodeTypesStore } from '../nodeTypes';
import type { FlowsContext } from './context';
import { CLIPBOARD_KEY, readStorage, writeStorage } from './storage';
import { remapWires } from './wires';

export function nodeEdits(ctx: FlowsContext) {
  const nodeTypes = useNodeTypesStore();
  const { active, activeId, selection, edit } = ctx;

  function node(id: string): FlowNode | undefined {
    return active.value?.doc.nodes.find((n) => n.id === id);
  }

  function addNode(type: string, position: { x: number; y: number }): string | undefined {
    const flow = active.value;
    const info = nodeTypes.byType.get(type);
    if (!flow || !activeId.value || !info) return undefined;
    const id = newNodeId(new Set(flow.doc.nodes.map((n) => n.id)));
    const created: FlowNode = {
      id,
      type,
      name: '',
      position: { x: Math.round(position.x / 10) * 10, y: Math.round(position.y / 10) * 10 },
      props: nodeTypes.defaults(type),
      wires: [],
    };
    // A node that needs a credential gets the only stored one of its type, if there is exactly one.
    if (info.credentials) {
      const candidates = useCredentialsStore().ofType(info.credentials.type);
      if (candidates.length === 1) created.credentials = candidates[0]!.id;
    }
    edit(activeId.value, (doc) => doc.nodes.push(created), { touched: [id] });
    selection.value = [id];
    return id;
  }

  /** Change one node. Pass a `key` (e.g. 'props:<id>:<field>') when called per keystroke. */
  function updateNode(nodeId: string, change: (node: FlowNode) => void, key?: string): void {
    if (!activeId.value) return;
    edit(
      activeId.value,
      (doc) => {
        const target = doc.nodes.find((n) => n.id === nodeId);
        if (target) change(target);
      },
      { key, touched: [nodeId] },
    );
  }

  /**
   * Replace a node's props. When the props drive the number of output ports (a switch's rules) and one rule was
   * removed or two swapped, the wires move with their rule instead of staying on a port number.
   */
  function setProps(nodeId: string, props: Record<string, unknown>, key?: string): void {
    const current = node(nodeId);
    if (!current) return;
    const info = nodeTypes.byType.get(current.type);
    const portProp = info && typeof info.outputs === 'object' ? info.outputs.prop : undefined;
    const before = portProp ? current.props?.[portProp] : undefined;
    const after = portProp ? props[portProp] : undefined;
    updateNode(
      nodeId,
      (n) => {
        n.props = props;
        if (Array.isArray(before) && Array.isArray(after) && n.wires?.length) n.wires = remapWires(n.wires, before, after);
        const ports = outputCount(info, props);
        if (n.wires && n.wires.length > ports) n.wires = n.wires.slice(0, ports);
      },
      key,
    );
  }

  function deleteNodes(ids: readonly string[]): void {
    if (!activeId.value || ids.length === 0) return;
    const gone = new Set(ids);
    edit(
      activeId.value,
      (doc) => {
        doc.nodes = doc.nodes.filter((n) => !gone.has(n.id));
        for (const n of doc.nodes) if (n.wires) n.wires = n.wires.map((targets) => targets.filter((t) => !gone.has(t)));
        dropFromGroups(doc, gone);
      },
      { touched: ids },
    );
    selection.value = selection.value.filter((s) => !gone.has(s));
  }

  /** What the user did on the canvas (moves, wires drawn or removed), as one undo step. */
  function applyCanvasChange(change: { positions: Map<string, { x: number; y: number }>; wires: Map<string, string[][]>; removed: string[] }): void {
    if (!activeId.value) return;
    const gone = new Set(change.removed);
    edit(
      activeId.value,
      (doc) => {
        doc.nodes = nodesAfterCanvasChange(doc.nodes, change);
        if (gone.size) dropFromGroups(doc, gone);
      },
      { touched: [...change.wires.keys(), ...change.removed] },
    );
  }

  function select(ids: readonly string[]): void {
    selection.value = [...ids];
  }

  function selectAll(): void {
    selection.value = active.value?.doc.nodes.map((n) => n.id) ?? [];
  }

  /** Copy the selection: returns the JSON text to put on the system clipboard; also kept for menu pastes. */
  function copySelection(): string | undefined {
    const flow = active.value;
    if (!flow || selection.value.length === 0) return undefined;
    const fragment = copyNodes(flow.doc.nodes, new Set(selection.value));
    const text = JSON.stringify(fragment, null, 2);
    writeStorage(CLIPBOARD_KEY, fragment);
    return text;
  }

  function cutSelection(): string | undefined {
    const text = copySelection();
    if (text) deleteNodes(selection.value);
    return text;
  }

  /**
   * Paste copied nodes (from clipboard text, else the last copy in this browser). Returns false when the text is
   * not a node fragment (the caller may then offer it to the import dialog).
   */
  function paste(text?: string, at?: { x: number; y: number }): boolean {
    const fragment: NodeFragment | undefined = text !== undefined ? parseFragment(text) : readStorage<NodeFragment>(CLIPBOARD_KEY);
    const flow = active.value;
    if (!fragment || !flow || !activeId.value) return false;
    const added = pasteNodes(fragment, new Set(flow.doc.nodes.map((n) => n.id)), at);
    edit(activeId.value, (doc) => doc.nodes.push(...added), { touched: added.map((n) => n.id) });
    selection.value = added.map((n) => n.id);
    return true;
  }

  /** Group the selected nodes (named; a colour is picked); returns the group id. */
  function groupSelection(name: string): string | undefined {
    if (!activeId.value || selection.value.length === 0) return undefined;
    let id: string | undefined;
    edit(activeId.value, (doc) => void (id = createGroup(doc, selection.value, name)), { touched: [] });
    return id;
  }

  function updateGroup(groupId: string, change: Partial<Pick<FlowGroup, 'name' | 'color'>>, key?: string): void {
    if (!activeId.value) return;
    edit(activeId.value, (doc) => {
      const group = doc.groups?.find((g) => g.id === groupId);
      if (group) Object.assign(group, change);
    }, { key, touched: [] });
  }

  /** Remove a group (its nodes stay where they are). */
  function ungroup(groupId: string): void {
    if (activeId.value) edit(activeId.value, (doc) => removeGroup(doc, groupId), { touched: [] });
  }

  return { groupSelection, updateGroup, ungroup, node, addNode, updateNode, setProps, deleteNodes, applyCanvasChange, select, selectAll, copySelection, cutSelection, paste };
}
