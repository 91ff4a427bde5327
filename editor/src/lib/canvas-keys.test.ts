import { describe, expect, it } from 'vitest';
import type { FlowDocument } from '../api/types';
import { firstNode, nearestInDirection, wireProblem } from './canvas-keys';

const nodes = [
  { id: 'a', position: { x: 0, y: 0 } },
  { id: 'b', position: { x: 200, y: 10 } },
  { id: 'c', position: { x: 60, y: 150 } },
  { id: 'd', position: { x: 400, y: -20 } },
];

describe('keyboard navigation on the canvas', () => {
  it('starts top-left and goes to the nearest node that lies in the direction of the arrow', () => {
    expect(firstNode(nodes)).toBe('d'); // the highest one
    expect(firstNode([nodes[0]!, nodes[2]!])).toBe('a');
    expect(nearestInDirection(nodes, 'a', 'right')).toBe('b');
    expect(nearestInDirection(nodes, 'b', 'right')).toBe('d');
    expect(nearestInDirection(nodes, 'a', 'down')).toBe('c');
    expect(nearestInDirection(nodes, 'c', 'up')).toBe('a');
    expect(nearestInDirection(nodes, 'a', 'left')).toBeUndefined();
  });

  it('refuses wires a mouse could not draw either', () => {
    const doc = { id: 'f', name: 'f', nodes: [{ id: 'a', type: 'x', wires: [['b']] }, { id: 'b', type: 'y' }] } as unknown as FlowDocument;
    // A wire back to the node's own input is a loop, as a mouse drag makes it (Node-RED allows it); once.
    expect(wireProblem(doc, 'a', 0, 'a', true)).toBeNull();
    expect(wireProblem({ ...doc, nodes: [{ id: 'a', type: 'x', wires: [['a']] }] } as unknown as FlowDocument, 'a', 0, 'a', true)).toMatch(/already/);
    expect(wireProblem(doc, 'a', 0, 'b', true)).toMatch(/already/);
    expect(wireProblem(doc, 'b', 0, 'a', false)).toMatch(/no input/);
    expect(wireProblem(doc, 'b', 0, 'a', true)).toBeNull();
  });
});
