/** Flow validation reports format and semantic problems in one answer, so a user fixes everything at once. */
import { describe, expect, it } from 'vitest';
import coreNodes from '@flowcrew/nodes-core';
import { NodeRegistry } from '../registry/registry.ts';
import { validateFlow } from './validate.ts';

const registry = new NodeRegistry();
registry.register(coreNodes, '@flowcrew/nodes-core');

describe('flow validation in one pass', () => {
  it('reports format problems together with unknown types, bad props, missing wire targets and cycles', () => {
    const result = validateFlow(
      {
        id: 'f',
        name: '',
        colour: 'red',
        nodes: [
          { id: 'a', type: 'change', props: { rules: 'not a list' }, position: { x: 'left' }, wires: [['b', 'gone']] },
          { id: 'b', type: 'no-such-type', wires: [] },
          { id: 'c', type: 'change', props: {}, wires: [['d']] },
          { id: 'd', type: 'change', props: {}, wires: [['c']] },
          { type: 'debug' },
          { id: 'e', type: 'debug', wires: 'all' },
        ],
      },
      registry,
    );
    expect(result.valid).toBe(false);
    const pointers = result.issues.map((i) => i.pointer);
    // Format
    expect(pointers).toEqual(expect.arrayContaining(['/name', '/colour', '/nodes/0/position/x', '/nodes/0/position/y', '/nodes/4/id', '/nodes/5/wires']));
    // Semantic, in the same answer
    expect(pointers).toEqual(expect.arrayContaining(['/nodes/0/props/rules', '/nodes/0/wires/0/1', '/nodes/1/type', '/nodes/2/wires']));
    expect(result.issues.find((i) => i.pointer === '/nodes/1/type')?.message).toMatch(/unknown node type "no-such-type"/);
    expect(result.issues.find((i) => i.pointer === '/nodes/2/wires')?.message).toMatch(/wiring cycle through "c" → "d"/);
    expect(result.issues.find((i) => i.pointer === '/nodes/0/wires/0/1')).toMatchObject({ message: 'wire to missing node "gone"', nodeId: 'a' });
    // Each problem once.
    expect(new Set(pointers.map((p, i) => `${p} ${result.issues[i]!.message}`)).size).toBe(pointers.length);
  });

  it('stops at the format only when there is no node list to check', () => {
    const result = validateFlow({ id: 'f', name: 'f', nodes: 'none' }, registry);
    expect(result.issues).toEqual([{ pointer: '/nodes', message: 'must be array' }]);
  });

  it('still accepts a valid flow', () => {
    const result = validateFlow({ id: 'f', name: 'f', nodes: [{ id: 'a', type: 'change', props: { rules: [] }, wires: [['b']] }, { id: 'b', type: 'debug' }] }, registry);
    expect(result).toMatchObject({ valid: true, issues: [] });
  });
});
