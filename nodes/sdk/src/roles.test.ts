import { describe, expect, it } from 'vitest';
import { handlersFor, roleProblems, watches, type NodeRole, type RoleHandler } from './roles.ts';

const catchRole: NodeRole = { kind: 'error-handler', scope: { prop: 'scope', whenUnset: 'all', onlyUnhandledProp: 'uncaught' } };
const statusRole: NodeRole = { kind: 'status-handler', scope: { whenUnset: 'all', skipWiredTargets: true } };
const completeRole: NodeRole = { kind: 'completion-handler', scope: { whenUnset: 'none', skipWiredTargets: true } };
const h = (id: string, role: NodeRole, props: Record<string, unknown> = {}, wires: string[][] = []): RoleHandler => ({ id, role, props, wires });

describe('role scope rules (Node-RED catch, status and complete semantics)', () => {
  it('an unset scope means every node or none, as the role says; a handler never watches itself', () => {
    expect(watches(h('c', catchRole, { scope: null }), 'n1')).toBe(true);
    expect(watches(h('c', catchRole), 'c')).toBe(false);
    expect(watches(h('k', completeRole), 'n1')).toBe(false);
    expect(watches(h('k', completeRole, { scope: ['n1'] }), 'n1')).toBe(true);
    expect(watches(h('c', catchRole, { scope: ['n2'] }), 'n1')).toBe(false);
  });

  it('leaves out nodes a handler is wired to when its role says so (no loops), and only with an explicit list', () => {
    expect(watches(h('s', statusRole, { scope: ['n1'] }, [['n1']]), 'n1')).toBe(false);
    expect(watches(h('s', statusRole, {}, [['n1']]), 'n1')).toBe(true);
    expect(watches(h('c', catchRole, { scope: ['n1'] }, [['n1']]), 'n1')).toBe(true);
  });

  it('gives "only unhandled" handlers what no other handler in scope takes', () => {
    const all = h('all', catchRole);
    const uncaught = h('u', catchRole, { uncaught: true });
    const onlyN2 = h('n2', catchRole, { scope: ['n2'] });
    expect(handlersFor('error-handler', [all, uncaught, onlyN2], 'n1').map((x) => x.id)).toEqual(['all']);
    expect(handlersFor('error-handler', [uncaught, onlyN2], 'n1').map((x) => x.id)).toEqual(['u']);
    expect(handlersFor('status-handler', [all, uncaught], 'n1')).toEqual([]); // other roles are not asked
  });

  it('describes a malformed role precisely', () => {
    expect(roleProblems(undefined)).toEqual([]);
    expect(roleProblems(catchRole)).toEqual([]);
    expect(roleProblems({ kind: 'catcher' })[0]).toMatch(/"role.kind" must be one of error-handler/);
    expect(roleProblems({ kind: 'status-handler', scope: { whenUnset: 'some' } })).toEqual(['"role.scope.whenUnset" must be "all" or "none"']);
    expect(roleProblems({ kind: 'http-entry', methodProp: 'method' })).toEqual(['"role.methodProp" and "role.pathProp" must name props']);
  });

  it('checks that a debug output names a boolean prop of its schema for its on/off toggle', () => {
    const schema = { properties: { active: { type: 'boolean' }, complete: { type: 'string' } } };
    expect(roleProblems({ kind: 'debug-output', activeProp: 'active' }, schema)).toEqual([]);
    expect(roleProblems({ kind: 'debug-output', activeProp: 'active' })).toEqual([]);
    expect(roleProblems({ kind: 'debug-output' })).toEqual(['"role.activeProp" must name the boolean prop that switches the output on and off']);
    expect(roleProblems({ kind: 'debug-output', activeProp: 'complete' }, schema)[0]).toMatch(/"complete", which the props schema must declare with type "boolean"/);
    expect(roleProblems({ kind: 'debug-output', activeProp: 'enabled' }, schema)[0]).toMatch(/"enabled"/);
  });
});
