/**
 * subflow-status: a Node-RED subflow's status output. The Node-RED import inlines each instance of a subflow whose
 * status output is wired (node-red-inline.ts) and puts this node in its place, with the instance's id and name: a
 * message reaching it sets that status, which the flow's status nodes receive as the instance's, as in Node-RED
 * (@node-red/runtime flows/Subflow.js, its "subflow-status" node).
 */
import { inspect } from 'node:util';
import { defineNode, type FlowMessage, type NodeStatus } from '@flowcrew/sdk';

const isPlainObject = (value: unknown): value is Record<string, unknown> => Object.prototype.toString.call(value) === '[object Object]';

/** The status a message sets, by Node-RED's rules; undefined when it sets none (no payload, no msg.status). */
export function subflowStatusOf(msg: FlowMessage): NodeStatus | undefined {
  const payload = msg.payload;
  if (payload !== undefined) {
    if (typeof payload === 'string') return { text: payload };
    if (isPlainObject(payload) && ('text' in payload || 'fill' in payload || 'shape' in payload || Object.keys(payload).length === 0)) return payload as NodeStatus;
    // Anything else is shown as Node-RED shows it: inspected, cut at 32 characters.
    const text = inspect(payload);
    return { text: text.length > 32 ? `${text.slice(0, 32)}...` : text };
  }
  if (isPlainObject(msg.status)) {
    const status = { ...msg.status } as NodeStatus & Record<string, unknown>;
    // Node-RED's own message catalogue prefix, as its runtime rewrites it.
    if (typeof status.text === 'string' && status.text.startsWith('common.')) status.text = `node-red:${status.text}`;
    return status;
  }
  return undefined;
}

export interface SubflowStatusProps {
  /** The Node-RED type of the instance this node stands for (`subflow:<id>`): status nodes report it as the source's type. */
  instanceOf?: string;
}

export const subflowStatusNode = defineNode<SubflowStatusProps>({
  type: 'subflow-status',
  category: 'flow',
  label: 'sub-flow status',
  icon: 'info',
  color: '#dddddd',
  inputs: 1,
  outputs: 0,
  props: { type: 'object', properties: { instanceOf: { type: 'string', title: 'Instance of', description: 'The Node-RED subflow type of the instance (subflow:<id>), reported as the status source\'s type.' } } },
  help: `A Node-RED subflow's status output, put by the Node-RED import where an instance of such a subflow was (its
nodes are copied into the flow; this node keeps the instance's id and name).

### Input
- **payload** text: the status text; an object with \`text\`, \`fill\` or \`shape\`: the status; anything else: shown as text.
- without a payload, **status**: the status.

The flow's **status** nodes report it as this node's status, as Node-RED reports the subflow instance's (the source's
type is **instanceOf**, the instance's \`subflow:<id>\`).
`,
  create() {
    return {
      onInput(msg, ctx) {
        const status = subflowStatusOf(msg);
        if (status) ctx.status(status);
      },
    };
  },
});
