/** catch: Node-RED's catch node. The executor routes node failures here; the node itself only passes them on. */
import { defineNode } from '@flowcrew/sdk';

export interface CatchProps {
  /** null/absent: errors from every node of the flow; an array: only from these node ids. */
  scope?: string[] | null;
  /** Only errors no other catch node handles. */
  uncaught?: boolean;
}

/** Whether a catch node with these props covers failures of `nodeId` (scope only; see catchNodesFor for `uncaught`). */
export function catchesNode(props: CatchProps | Record<string, unknown> | undefined, nodeId: string): boolean {
  const scope = (props as CatchProps | undefined)?.scope;
  if (scope === null || scope === undefined) return true;
  return Array.isArray(scope) && scope.includes(nodeId);
}

/**
 * The catch nodes that receive a failure of `failedNodeId`, with Node-RED's `uncaught` rule:
 * "uncaught" catch nodes get the error only when no other catch node in scope handles it.
 * A catch node never catches its own failure (that would loop).
 */
export function catchNodesFor<T extends { id: string; props: CatchProps | Record<string, unknown> }>(candidates: readonly T[], failedNodeId: string): T[] {
  const inScope = candidates.filter((c) => c.id !== failedNodeId && catchesNode(c.props, failedNodeId));
  const handling = inScope.filter((c) => !(c.props as CatchProps).uncaught);
  return handling.length > 0 ? handling : inScope;
}

export const catchNode = defineNode<CatchProps>({
  type: 'catch',
  category: 'flow',
  label: 'catch',
  icon: 'error',
  color: '#e49191',
  role: { kind: 'error-handler', scope: { prop: 'scope', whenUnset: 'all', onlyUnhandledProp: 'uncaught' } },
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
      uncaught: { type: 'boolean', default: false, description: 'Only errors not handled by another catch node' },
    },
  },
  help: `Catches errors thrown by nodes in the same flow, so the flow can handle them.

### Properties
- **scope**: \`null\` (default) catches errors from every node of the flow; a list of node ids catches only those nodes' errors.
- **uncaught**: only receive errors that no other catch node handles.

### Output
The message the failing node was handling, with \`msg.error\`:
- \`msg.error.message\`: the error message;
- \`msg.error.source\`: \`{ id, type, name }\` of the node that failed.

If a node fails while handling a message that already came from a catch node, it is not caught again, so error handlers cannot loop.
`,
  create() {
    return {
      onInput: (msg) => msg,
    };
  },
});
