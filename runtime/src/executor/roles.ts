/**
 * The ONE place the executor decides what a node is for beyond its wires: error handlers (catch), completion and
 * status watchers, the default manual entry and the sub-flow entry. Today these are recognised by Node-RED type
 * names; the SDK's declared roles (definition.role) replace the name checks here and nowhere else.
 */
import type { DeployedFlow, DeployedNode } from './types.ts';

export interface NodeRoles {
  errorHandlers: DeployedNode[];
  completionHandlers: DeployedNode[];
  statusHandlers: DeployedNode[];
}

export function classifyRoles(nodes: readonly DeployedNode[]): NodeRoles {
  return {
    errorHandlers: nodes.filter((d) => d.node.type === 'catch'),
    completionHandlers: nodes.filter((d) => d.node.type === 'complete'),
    statusHandlers: nodes.filter((d) => d.node.type === 'status'),
  };
}

const scopeOf = (d: DeployedNode): unknown => (d.node.props ?? {}).scope;

/** Error handlers that get a failure of `nodeId`. Node-RED's rule: "uncaught" handlers only take what no other handler takes. */
export function errorHandlersFor(flow: DeployedFlow, nodeId: string): DeployedNode[] {
  const inScope = flow.roles.errorHandlers.filter((c) => {
    if (c.node.id === nodeId) return false;
    const scope = scopeOf(c);
    return !Array.isArray(scope) || scope.includes(nodeId);
  });
  const handling = inScope.filter((c) => (c.node.props ?? {}).uncaught !== true);
  return handling.length > 0 ? handling : inScope;
}

/** Completion watchers of `nodeId`: an explicit scope naming it, and not wired back to it (no loop). */
export function completionHandlersFor(flow: DeployedFlow, nodeId: string): DeployedNode[] {
  return flow.roles.completionHandlers.filter((c) => {
    const scope = scopeOf(c);
    return c.node.id !== nodeId && Array.isArray(scope) && scope.includes(nodeId) && !c.wires.flat().includes(nodeId);
  });
}

/** Status watchers of `nodeId`: every node when their scope is unset, else the listed ones not wired back from them. */
export function statusHandlersFor(flow: DeployedFlow, nodeId: string): DeployedNode[] {
  return flow.roles.statusHandlers.filter((s) => {
    const scope = scopeOf(s);
    return s.node.id !== nodeId && !(Array.isArray(scope) && (!scope.includes(nodeId) || s.wires.flat().includes(nodeId)));
  });
}

/** Where a manual run starts when no node is named: the first inject, else the first trigger that takes input. */
export function defaultEntryNode(flow: DeployedFlow): DeployedNode | undefined {
  const nodes = [...flow.nodes.values()];
  return (
    nodes.find((d) => d.node.type === 'inject') ??
    nodes.find((d) => d.definition.inputs === 0 && d.definition.category === 'trigger' && d.instance.onInput && d.node.type !== 'catch')
  );
}

/** Where a call of this flow from another flow enters when no node is named. */
export function subflowEntryNode(flow: DeployedFlow): DeployedNode | undefined {
  for (const d of flow.nodes.values()) if (d.node.type === 'subflow-in') return d;
  return undefined;
}
