/** The node types' own checks (NodeDefinition.validate, through the catalog's checkNode) in flow validation. */
import { describe, expect, it } from 'vitest';
import type { NodeDefinition } from '@flowcrew/sdk';
import { NodeRegistry } from '../registry/registry.ts';
import { validateFlow, type NodeTypeCatalog } from './validate.ts';

/** A node type whose props must have `min` ≤ `max`, and which warns about a large `max`. */
const ranged: NodeDefinition<{ min: number; max: number }> = {
  type: 'ranged',
  category: 'transform',
  label: 'Ranged',
  inputs: 1,
  outputs: 1,
  help: 'x',
  props: { type: 'object', required: ['min', 'max'], properties: { min: { type: 'number' }, max: { type: 'number' } } },
  validate: (props) => [
    ...(props.min > props.max ? [{ pointer: '/min', message: `must not exceed max (${props.max})` }] : []),
    ...(props.max > 100 ? [{ pointer: '/max', message: 'over 100 is slow', severity: 'warning' as const }] : []),
  ],
  create: () => ({ onInput: (msg) => msg }),
};

const flow = (props: Record<string, unknown>) => ({ id: 'f', name: 'f', nodes: [{ id: 'n', type: 'ranged', props, wires: [] }] });

describe('node type checks in validation', () => {
  it('turns errors into issues and warnings into warnings, both with pointers into the node\'s props', () => {
    const registry = new NodeRegistry();
    registry.register([ranged], 'test-pack');
    expect(validateFlow(flow({ min: 600, max: 500 }), registry)).toMatchObject({
      valid: false,
      issues: [{ pointer: '/nodes/0/props/min', message: 'must not exceed max (500)', nodeId: 'n' }],
      warnings: [{ pointer: '/nodes/0/props/max', message: 'over 100 is slow', nodeId: 'n' }],
    });
    expect(validateFlow(flow({ min: 1, max: 500 }), registry)).toMatchObject({ valid: true, issues: [], warnings: [{ pointer: '/nodes/0/props/max' }] });
  });

  it('runs them only on props that match the schema, and reports a check that throws instead of crashing', () => {
    const calls: unknown[] = [];
    const catalog: NodeTypeCatalog = {
      has: () => true,
      checkProps: (_type, props) => (typeof props.min === 'number' ? [] : [{ pointer: '/min', message: 'must be number' }]),
      checkNode: (_type, props) => (calls.push(props), []),
      outputCount: () => 1,
      inputCount: () => 1,
      allowsCycles: () => false,
    };
    expect(validateFlow(flow({ min: 'x' }), catalog).issues).toEqual([{ pointer: '/nodes/0/props/min', message: 'must be number', nodeId: 'n' }]);
    expect(calls).toEqual([]);

    const registry = new NodeRegistry();
    registry.register([{ ...ranged, validate: () => { throw new Error('boom'); } }], 'test-pack'); // prettier-ignore
    expect(validateFlow(flow({ min: 1, max: 2 }), registry).issues).toEqual([{ pointer: '/nodes/0/props', message: 'node type "ranged" could not check these props: boom', nodeId: 'n' }]);
  });
});
