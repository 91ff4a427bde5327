import { describe, expect, it } from 'vitest';
import type { FlowNode } from '../api/types';
import { nodesAfterCanvasChange } from './canvas-change';

const node = (id: string, wires: string[][] = []): FlowNode => ({ id, type: 'change', props: {}, wires, position: { x: 0, y: 0 } }) as FlowNode;

describe('a canvas gesture applied to a flow', () => {
  it('moves, rewires, and drops deleted nodes with the wires that led to them', () => {
    const nodes = [node('a', [['b', 'c']]), node('b'), node('c')];
    const after = nodesAfterCanvasChange(nodes, {
      positions: new Map([['b', { x: 40, y: 80 }]]),
      wires: new Map([['b', [['a']]]]),
      removed: ['c'],
    });
    expect(after.map((n) => n.id)).toEqual(['a', 'b']);
    expect(after[0]!.wires).toEqual([['b']]);
    expect(after[1]).toMatchObject({ position: { x: 40, y: 80 }, wires: [['a']] });
  });

  it('keeps the same array when nothing was deleted', () => {
    const nodes = [node('a')];
    expect(nodesAfterCanvasChange(nodes, { positions: new Map(), wires: new Map(), removed: [] })).toBe(nodes);
  });
});
