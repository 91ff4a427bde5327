/**
 * The ONE place the executor decides what a node is for beyond its wires: error handlers, completion and status
 * watchers, the default manual entry and the sub-flow entry, each by the role its definition declares
 * (definition.role, see the SDK's roles.ts), never by type name: a third-party pack's handler works as core's does.
 */
import { EVENT_ROLE_KINDS, handlersFor, type NodeRole, type RoleHandler } from '@flowcrew/sdk';
import type { DeployedFlow, DeployedNode } from './types.ts';

export interface NodeRoles {
  errorHandlers: DeployedNode[];
  completionHandlers: DeployedNode[];
  statusHandlers: DeployedNode[];
}

const roleKind = (d: DeployedNode): NodeRole['kind'] | undefined => d.definition.role?.kind;

export function classifyRoles(nodes: readonly DeployedNode[]): NodeRoles {
  return {
    errorHandlers: nodes.filter((d) => roleKind(d) === 'error-handler'),
    completionHandlers: nodes.filter((d) => roleKind(d) === 'completion-handler'),
    statusHandlers: nodes.filter((d) => roleKind(d) === 'status-handler'),
  };
}

/** The SDK's scope rules, applied to deployed nodes. */
function inScope(kind: 'error-handler' | 'completion-handler' | 'status-handler', candidates: readonly DeployedNode[], nodeId: string): DeployedNode[] {
  const handlers = candidates.map((d): RoleHandler & { deployed: DeployedNode } => ({ id: d.node.id, role: d.definition.role, props: d.node.props, wires: d.wires, deployed: d }));
  return handlersFor(kind, handlers, nodeId).map((h) => h.deployed);
}

/** Error handlers that get a failure of `nodeId` (Node-RED's rule: "uncaught" handlers only take what no other takes). */
export function errorHandlersFor(flow: DeployedFlow, nodeId: string): DeployedNode[] {
  return inScope('error-handler', flow.roles.errorHandlers, nodeId);
}

/** Completion watchers of `nodeId`. */
export function completionHandlersFor(flow: DeployedFlow, nodeId: string): DeployedNode[] {
  return inScope('completion-handler', flow.roles.completionHandlers, nodeId);
}

/** Status watchers of `nodeId`. */
export function statusHandlersFor(flow: DeployedFlow, nodeId: string): DeployedNode[] {
  return inScope('status-handler', flow.roles.statusHandlers, nodeId);
}

/**
 * Where a manual run starts when no node is named: the first manual entry, else the first trigger that takes input
 * and is not started by the runtime's own events (error, status, completion, sub-flow call).
 */
export function defaultEntryNode(flow: DeployedFlow): DeployedNode | undefined {
  const nodes = [...flow.nodes.values()];
  return (
    nodes.find((d) => roleKind(d) === 'manual-entry') ??
    nodes.find((d) => d.definition.inputs === 0 && d.definition.category === 'trigger' && d.instance.onInput && !EVENT_ROLE_KINDS.includes(roleKind(d)!))
  );
}

/** Where a call of this flow from another flow enters when no node is named. */
export function subflowEntryNode(flow: DeployedFlow): DeployedNode | undefined {
  for (const d of flow.nodes.values()) if (roleKind(d) === 'subflow-entry') return d;
  return undefined;
}
