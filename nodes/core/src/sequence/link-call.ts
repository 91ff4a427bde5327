/**
 * link-call and link-return: Node-RED's "link call" and "link out" in return mode. The call sends the message to a
 * link-in node (an entry node: on import, Node-RED's link in becomes a subflow-in), in this flow or another, as a
 * sub-flow call, and waits for a link-return on that path to send it back; the returned message is the call's output.
 * As in Node-RED, msg._linkSource carries the way back: a link-return without one drops the message.
 */
import { randomBytes } from 'node:crypto';
import { defineNode, type FlowMessage } from '@flowcrew/sdk';

export interface LinkTarget {
  /** The link-in's id in Node-RED (what msg.target may name). */
  id: string;
  name?: string;
  /** The Flowcrew flow and node the call enters at. */
  flowId: string;
  nodeId: string;
}

export interface LinkCallProps {
  /** static: call the first of `targets`; dynamic: the one msg.target names (by id or name). */
  linkType: 'static' | 'dynamic';
  targets: LinkTarget[];
  /** Seconds to wait for the answer (Node-RED's default 30). */
  timeout: number;
  /** The Node-RED link-in ids (kept for reference; `targets` is what is called). */
  links?: string[] | string;
}

/** The link-in a message goes to, with Node-RED's rules: an id, else a name unique in this flow, else unique anywhere. */
export function findLinkTarget(targets: readonly LinkTarget[], wanted: unknown, flowId: string): LinkTarget {
  const name = typeof wanted === 'string' ? wanted : '';
  const byId = targets.find((t) => t.id === name || t.nodeId === name);
  if (byId) return byId;
  const named = targets.filter((t) => (t.name ?? t.id) === name);
  const here = named.filter((t) => t.flowId === flowId);
  if (here.length === 1) return here[0]!;
  if (named.length === 1) return named[0]!;
  if (named.length > 1) throw new Error(`Multiple link-in nodes named '${name}' found`);
  throw new Error(`target link-in node '${name}' not found`);
}

const targetSchema = {
  type: 'object',
  required: ['id', 'flowId', 'nodeId'],
  properties: { id: { type: 'string', title: 'Node-RED id' }, name: { type: 'string', title: 'Name' }, flowId: { type: 'string', minLength: 1, title: 'Flow' }, nodeId: { type: 'string', minLength: 1, title: 'Link-in node' } },
};

export const linkCallNode = defineNode<Partial<LinkCallProps>>({
  type: 'link-call',
  category: 'flow',
  label: 'link call',
  icon: 'call_made',
  color: '#dddddd',
  inputs: 1,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      linkType: { type: 'string', enum: ['static', 'dynamic'], default: 'static', title: 'Target', description: 'static: the first target; dynamic: the one msg.target names' },
      targets: { type: 'array', items: targetSchema, default: [], title: 'Link-in targets' },
      timeout: { type: 'number', exclusiveMinimum: 0, default: 30, title: 'Timeout (seconds)' },
      links: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], title: 'Node-RED link-in ids (reference)' },
    },
  },
  validate(props) {
    return (props.linkType ?? 'static') === 'static' && (props.targets ?? []).length === 0 ? [{ pointer: '/targets', message: 'a static link call needs a target (its link-in node)' }] : [];
  },
  help: `Calls a path of nodes that starts at a link-in node and ends at a **link-return** ("link out" in return mode), and
outputs the message that comes back. Works like Node-RED's link call node.

### Properties
- **Target**: \`static\` calls the first of **Link-in targets**; \`dynamic\` calls the target named by \`msg.target\` (its Node-RED id or name:
  a name unique in this flow wins, then a name unique across flows).
- **Link-in targets**: the entry nodes that can be called: \`{ id, name, flowId, nodeId }\` (the importer fills them from Node-RED's link-in nodes,
  which become sub-flow entry nodes; the "link out" nodes in return mode become **link-return** nodes).
- **Timeout (seconds)**: seconds to wait for the answer (default 30); then the node fails with the message (a catch node can handle it).

### Output
The message returned by the called path. The path runs as a sub-flow call (a child run); its flow must be deployed.
`,
  create(init) {
    const { linkType = 'static', targets = [] } = init.props;
    const timeoutMs = Math.round(Number(init.props.timeout ?? 30) * 1000) || 30_000;
    return {
      async onInput(msg, ctx) {
        const target = linkType === 'dynamic' ? findLinkTarget(targets, msg.target, init.flowId) : targets[0];
        if (!target) throw new Error('link call: no target link-in node');
        const path = Array.isArray(msg._linkSource) ? msg._linkSource : [];
        const call = { ...msg, _linkSource: [...path, { id: randomBytes(14).toString('hex'), node: init.id }] };
        try {
          return (await init.services.callFlow(target.flowId, call, { signal: ctx.signal, parentRunId: ctx.runId, timeoutMs, entryNodeId: target.nodeId })) as FlowMessage;
        } catch (error) {
          // Node-RED's link call fails a late answer with the error text "timeout" (what catch nodes read).
          if (error instanceof Error && /^no response within \d+ ms$/.test(error.message)) throw new Error('timeout');
          throw error;
        }
      },
    };
  },
});

export const linkReturnNode = defineNode<Record<string, never>>({
  type: 'link-return',
  category: 'flow',
  label: 'link return',
  icon: 'keyboard_return',
  color: '#dddddd',
  inputs: 1,
  outputs: 0,
  props: { type: 'object', properties: {} },
  help: `Sends the message back to the link call whose path it is on. Works like Node-RED's "link out" node in return mode.

### Input
A message that came through a **link-call** (it carries \`msg._linkSource\`, the way back). A message that did not is dropped,
with a warning, as in Node-RED.
`,
  create() {
    return {
      onInput(msg, ctx) {
        const path = msg._linkSource;
        if (!Array.isArray(path) || path.length === 0) {
          ctx.log.warn('link return: the message did not come from a link call (no msg._linkSource); it was dropped');
          return null;
        }
        const back = [...path];
        back.pop();
        const answer: FlowMessage = { ...msg, _linkSource: back };
        if (back.length === 0) delete answer._linkSource;
        ctx.reply({ body: answer });
        return null;
      },
    };
  },
});
