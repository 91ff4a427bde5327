/**
 * complete: Node-RED's complete node. Receives a copy of the message another node finished handling. Like catch,
 * the node only passes on what the runtime delivers to it (the executor adds it to the run when a node in its scope
 * succeeds); completeNodesFor and completeMessage state Node-RED's rules.
 */
import { defineNode, type FlowMessage } from '@flowcrew/sdk';

export interface CompleteProps {
  /** The ids of the nodes whose completions this node receives (Node-RED has no "all nodes" here). */
  scope: string[];
  /** Node-RED's editor writes it; complete nodes have no "uncaught" rule. */
  uncaught?: boolean;
}

interface Candidate {
  id: string;
  props: CompleteProps | Record<string, unknown>;
  wires?: string[][];
}

/** The complete nodes told when `nodeId` finishes handling a message, in Node-RED's rules. */
export function completeNodesFor<T extends Candidate>(candidates: readonly T[], nodeId: string): T[] {
  return candidates.filter((c) => {
    const scope = (c.props as CompleteProps).scope;
    return c.id !== nodeId && Array.isArray(scope) && scope.includes(nodeId) && !(c.wires ?? []).flat().includes(nodeId);
  });
}

/** What a complete node receives: a copy of the handled message with `msg.complete.source`. */
export function completeMessage(msg: FlowMessage, source: { id: string; type: string; name?: string }): FlowMessage {
  return { ...structuredClone(msg), complete: { source: { id: source.id, type: source.type, name: source.name } } };
}

export const completeNode = defineNode<CompleteProps>({
  type: 'complete',
  category: 'flow',
  label: 'complete',
  icon: 'task_alt',
  color: '#c0edc0',
  role: { kind: 'completion-handler', scope: { prop: 'scope', whenUnset: 'none', skipWiredTargets: true } },
  inputs: 0,
  outputs: 1,
  props: {
    type: 'object',
    required: ['scope'],
    properties: {
      scope: { type: 'array', items: { type: 'string' }, default: [], description: 'The ids of the nodes to watch' },
      uncaught: { type: 'boolean', default: false, description: 'Unused (Node-RED writes it)' },
    },
  },
  help: `Receives a message when one of the watched nodes has finished handling it. Works like Node-RED's complete node.

### Properties
- **scope**: the ids of the nodes to watch (a node this complete node is wired to is left out, so completions cannot loop).

### Output
A copy of the message the watched node handled, with \`msg.complete.source\`: \`{ id, type, name }\` of that node.
A node finishes handling a message when its invocation succeeds (whether or not it sends anything); a failure goes to
catch nodes instead.
`,
  create() {
    return { onInput: (msg) => msg };
  },
});
