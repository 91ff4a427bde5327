import { describe, expect, it } from 'vitest';
import type { FlowNode } from '../api/types';
import { layoutAll, layoutUnplaced, nodeWidth } from './layout';

const overlap = (a: FlowNode, b: FlowNode) => Math.abs(a.position!.x - b.position!.x) < 190 && Math.abs(a.position!.y - b.position!.y) < 70;

describe('auto-layout', () => {
  it('places nodes without positions along their wires, none on top of another, below the placed ones', () => {
    const nodes: FlowNode[] = [
      { id: 'kept', type: 'debug', position: { x: 500, y: 300 } },
      { id: 'a', type: 'inject', wires: [['b', 'c']] },
      { id: 'b', type: 'function', wires: [['d']] },
      { id: 'c', type: 'function', wires: [['d']] },
      { id: 'd', type: 'debug' },
    ];
    expect(layoutUnplaced(nodes)).toBe(4);
    const [kept, a, b, c, d] = nodes as [FlowNode, FlowNode, FlowNode, FlowNode, FlowNode];
    expect(kept.position).toEqual({ x: 500, y: 300 });
    expect(a.position!.x).toBeLessThan(b.position!.x);
    expect(b.position!.x).toBe(c.position!.x);
    expect(d.position!.x).toBeGreaterThan(b.position!.x);
    for (const n of [a, b, c, d]) expect(n.position!.y).toBeGreaterThan(300);
    for (const [i, x] of nodes.entries()) for (const y of nodes.slice(i + 1)) expect(overlap(x, y), `${x.id} / ${y.id}`).toBe(false);
  });

  it('leaves a flow whose nodes all have positions alone, and arranges a whole flow on request', () => {
    const nodes: FlowNode[] = [
      { id: 'a', type: 'inject', position: { x: 100, y: 100 }, wires: [['b']] },
      { id: 'b', type: 'debug', position: { x: 100, y: 100 } },
    ];
    expect(layoutUnplaced(nodes)).toBe(0);
    layoutAll(nodes);
    expect(nodes[0]!.position!.x).toBe(100);
    expect(nodes[1]!.position!.x).toBeGreaterThan(100 + 190);
  });

  it('keeps room for a long-named node so its wider box does not reach the next one', () => {
    const nodes: FlowNode[] = [
      { id: 'a', type: 'inject', name: 'Research, analysis and review of the topic', wires: [['b']] },
      { id: 'b', type: 'debug', name: 'Summary' },
    ];
    layoutUnplaced(nodes);
    const [a, b] = nodes as [FlowNode, FlowNode];
    expect(nodeWidth(a)).toBeGreaterThan(300);
    expect(b.position!.x).toBeGreaterThanOrEqual(a.position!.x + nodeWidth(a) + 40);
  });
});
