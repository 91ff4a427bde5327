import { describe, expect, it } from 'vitest';
import type { FlowNode, NodeTypeInfo } from '../api/types';
import { debugToggleState, toggledDebugProps } from './debug-toggle';

const type = (role?: unknown) => ({ type: 'x', label: 'x', category: 'output', inputs: 1, outputs: 0, role }) as unknown as NodeTypeInfo;

describe('debug toggle by role', () => {
  it('gives any pack’s debug-output node a toggle on the prop its role names, and none to other nodes', () => {
    const logger = type({ kind: 'debug-output', activeProp: 'enabled' });
    const node: FlowNode = { id: 'n', type: 'acme-logger', props: { enabled: false, level: 'info' } };
    expect(debugToggleState(node, logger)).toBe(false);
    expect(toggledDebugProps(node, logger)).toEqual({ enabled: true, level: 'info' });
    expect(debugToggleState({ id: 'm', type: 'acme-logger' }, logger)).toBe(true); // absent = on
    expect(toggledDebugProps({ id: 'm', type: 'acme-logger' }, logger)).toEqual({ enabled: false });
    // A node named "debug" without the role is just a node.
    expect(debugToggleState({ id: 'd', type: 'debug', props: { active: true } }, type())).toBeNull();
    expect(debugToggleState({ id: 'd', type: 'debug' }, undefined)).toBeNull();
  });
});
