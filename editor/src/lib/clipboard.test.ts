import { describe, expect, it } from 'vitest';
import type { FlowNode } from '../api/types';
import { FRAGMENT_FORMAT, copyNodes, parseFragment, pasteNodes, type NodeFragment } from './clipboard';
import { UndoHistory } from './history';

const nodes: FlowNode[] = [
  { id: 'a', type: 't', position: { x: 100, y: 50 }, wires: [['b', 'c']] },
  { id: 'b', type: 't', position: { x: 300, y: 80 }, wires: [['c']] },
  { id: 'c', type: 't', position: { x: 500, y: 80 } },
];

describe('clipboard', () => {
  it('copies the selection with the wires inside it only', () => {
    const fragment = copyNodes(nodes, new Set(['a', 'b']));
    expect(fragment.nodes.map((n) => [n.id, n.wires])).toEqual([['a', [['b']]], ['b', [[]]]]);
    expect(parseFragment(JSON.stringify(fragment))).toEqual(fragment);
    expect(parseFragment('[{"id": "x", "type": "inject", "z": "tab"}]')).toBeUndefined();
  });

  it('pastes with fresh ids at a position, rewiring between pasted nodes', () => {
    const fragment = copyNodes(nodes, new Set(['a', 'b']));
    const pasted = pasteNodes(fragment, new Set(['a', 'b', 'c']), { x: 0, y: 0 });
    expect(pasted.map((n) => n.position)).toEqual([{ x: 0, y: 0 }, { x: 200, y: 30 }]);
    expect(pasted.every((n) => !['a', 'b', 'c'].includes(n.id))).toBe(true);
    expect(pasted[0]!.wires).toEqual([[pasted[1]!.id]]);
  });
});

describe('undo history', () => {
  it('groups edits with the same key and clears redo on a new edit', () => {
    const history = new UndoHistory<string>();
    history.record(() => 'v0', 'field');
    history.record(() => 'v1', 'field');
    history.seal();
    history.record(() => 'v2', 'field');
    expect(history.undo('v3')).toBe('v2');
    expect(history.undo('v2')).toBe('v0');
    expect(history.canUndo).toBe(false);
    expect(history.redo('v0')).toBe('v2');
    history.record(() => 'v2');
    expect(history.canRedo).toBe(false);
  });

  it('lays out pasted nodes that come without positions instead of stacking them', () => {
    const fragment = { format: FRAGMENT_FORMAT, nodes: [{ id: 'a', type: 'inject', wires: [['b']] }, { id: 'b', type: 'debug' }] } as NodeFragment;
    const [a, b] = pasteNodes(fragment, new Set(), { x: 100, y: 100 });
    expect(a!.position).toEqual({ x: 100, y: 100 });
    expect(b!.position!.x).toBeGreaterThan(a!.position!.x + 150);
  });
});
