import { describe, expect, it } from 'vitest';
import { findLoops } from './cycles';

describe('loops in a flow', () => {
  it('finds set → delay → set and a self-wired node, not a diamond', () => {
    const loops = findLoops({
      nodes: [
        { id: 'in', type: 'inject', wires: [['set']] },
        { id: 'set', type: 'change', wires: [['delay']] },
        { id: 'delay', type: 'delay', wires: [['set']] },
        { id: 'self', type: 'function', wires: [['self']] },
        { id: 'a', type: 'switch', wires: [['b'], ['c']] },
        { id: 'b', type: 'function', wires: [['d']] },
        { id: 'c', type: 'function', wires: [['d']] },
        { id: 'd', type: 'debug' },
      ],
    });
    expect(loops).toEqual([['set', 'delay'], ['self']]);
  });

  it('ignores disabled nodes and wires to missing nodes', () => {
    expect(findLoops({ nodes: [{ id: 'x', type: 'function', disabled: true, wires: [['x']] }, { id: 'y', type: 'function', wires: [['gone']] }] })).toEqual([]);
  });
});
