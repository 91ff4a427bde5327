/**
 * status: Node-RED's status node. Reports the status changes of other nodes of the flow as messages. Like catch, the
 * node only passes on what the runtime delivers to it (the executor starts a run at it for each status change in its
 * scope); statusNodesFor and statusMessage state Node-RED's rules.
 */
import { defineNode, type FlowMessage, type NodeStatus } from '@flowcrew/sdk';

export interface StatusProps {
  /** null/absent: status changes of every node of the flow; an array: only of these node ids. */
  scope?: string[] | null;
}

interface Candidate {
  id: string;
  props: StatusProps | Record<string, unknown>;
  /** The node's output wires: a node it is wired to is left out of its scope (Node-RED's loop-back guard). */
  wires?: string[][];
}

/** The status nodes that receive a status change of `reportingNodeId`, in Node-RED's rules. */
export function statusNodesFor<T extends Candidate>(candidates: readonly T[], reportingNodeId: string): T[] {
  return candidates.filter((c) => {
    if (c.id === reportingNodeId) return false;
    const scope = (c.props as StatusProps).scope;
    if (!Array.isArray(scope)) return true;
    return scope.includes(reportingNodeId) && !(c.wires ?? []).flat().includes(reportingNodeId);
  });
}

/** The message a status node sends for a status change: `msg.status` with its text as a string and its source. */
export function statusMessage(status: NodeStatus, source: { id: string; type: string; name?: string }): FlowMessage {
  const copy: Record<string, unknown> = { ...status };
  if (status.text !== undefined) copy.text = String(status.text);
  copy.source = { id: source.id, type: source.type, name: source.name };
  return { status: copy };
}

export const statusNode = defineNode<StatusProps>({
  type: 'status',
  category: 'flow',
  label: 'status',
  icon: 'info',
  color: '#94c1d0',
  role: { kind: 'status-handler', scope: { prop: 'scope', whenUnset: 'all', skipWiredTargets: true } },
  inputs: 0,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      scope: {
        anyOf: [{ type: 'null' }, { type: 'array', items: { type: 'string' } }],
        default: null,
        description: 'null for all nodes of the flow, or the ids of the nodes to watch',
      },
    },
  },
  help: `Reports status changes of other nodes in the same flow, so the flow can react to them. Works like Node-RED's status node.

### Properties
- **scope**: \`null\` (default) watches every node of the flow; a list of node ids watches only those (a node this status node is
  wired to is left out, so a status change cannot loop back).

### Output
For each status change, a new message with \`msg.status\`: \`{ fill, shape, text, source: { id, type, name } }\`.
`,
  create(init) {
    // A subflow-status node stands for a Node-RED subflow instance: its statuses are reported as the instance's type.
    const instanceTypes = new Map(init.flow.nodes.filter((n) => n.type === 'subflow-status' && typeof n.props.instanceOf === 'string').map((n) => [n.id, n.props.instanceOf as string]));
    return {
      onInput: (msg) => {
        const source = (msg.status as { source?: { id?: unknown } } | undefined)?.source;
        const type = typeof source?.id === 'string' ? instanceTypes.get(source.id) : undefined;
        return type ? { ...msg, status: { ...(msg.status as object), source: { ...source, type } } } : msg;
      },
    };
  },
});
