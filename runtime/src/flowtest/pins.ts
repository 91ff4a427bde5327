/**
 * Pinned outputs (n8n's "pinned data"): a node whose output is fixed instead of computed, so a manual run or a flow
 * test does not call the external system behind it. One transform for both: `withPinnedOutputs` returns a copy of the
 * flow in which each pinned node is replaced by a `flowtest-pinned` node with the same id, name, position and wires,
 * which emits the pinned messages (or fails with the pinned error). The executor needs no test-only branch.
 */
import { defineNode, type FlowMessage, type NodeOutput } from '@flowcrew/sdk';
import type { FlowDocument, FlowNode } from '../flow/types.ts';

export const PINNED_NODE_TYPE = 'flowtest-pinned';

/** One message a pinned node sends, on `port` (default 0): the same shape as a recorded invocation's outputs. */
export interface PinnedMessage {
  port?: number;
  msg: FlowMessage;
}

/** What a pinned node does with each message it receives. */
export interface PinnedOutput {
  /** Messages sent per input, in order (empty: the node sends nothing). Ignored when `error` is set. */
  outputs?: PinnedMessage[];
  /** Fail the invocation with this message instead (to test catch nodes and error paths). */
  error?: string;
  /** Shallow-merge each pinned message over the input message instead of replacing it (default false). */
  merge?: boolean;
}

/** Pins by node id. */
export type Pins = Record<string, PinnedOutput>;

interface PinnedProps {
  /** The node type this node stands in for (shown in the run view, and what the editor unpins back to). */
  pinnedType: string;
  /** Output port count, kept from the original node so its wires stay valid. */
  ports: number;
  outputs: PinnedMessage[];
  error?: string;
  merge?: boolean;
}

/** The node that stands in for a pinned one. Register it in every registry a pinned flow is deployed with. */
export const pinnedOutputNode = defineNode<PinnedProps>({
  type: PINNED_NODE_TYPE,
  category: 'flow',
  label: 'pinned output',
  icon: 'push_pin',
  color: '#f3e8c8',
  inputs: 1,
  outputs: { prop: 'ports', min: 1 },
  props: {
    type: 'object',
    properties: {
      pinnedType: { type: 'string', minLength: 1 },
      ports: { type: 'integer', minimum: 1 },
      outputs: {
        type: 'array',
        items: { type: 'object', required: ['msg'], properties: { port: { type: 'integer', minimum: 0 }, msg: { type: 'object' } } },
      },
      error: { type: 'string' },
      merge: { type: 'boolean' },
    },
    required: ['pinnedType', 'ports', 'outputs'],
  },
  help: `Stands in for a node whose output is pinned (manual runs with pinned data, flow tests with mocked nodes).

### Properties
- **pinnedType**: the node type it replaces.
- **outputs**: the messages it sends for each input, each \`{ port, msg }\`.
- **error**: when set, the node fails with this message instead.
- **merge**: when true, each pinned message is merged over the input message instead of replacing it.
`,
  validate(props) {
    const bad = props.outputs.findIndex((o) => (o.port ?? 0) >= props.ports);
    return bad < 0 ? [] : [{ pointer: `/outputs/${bad}/port`, message: `port ${props.outputs[bad]!.port} does not exist: the node has ${props.ports} output(s)` }];
  },
  create(init) {
    const { outputs, error, merge, ports } = init.props;
    return {
      onInput(msg): NodeOutput {
        if (error !== undefined) throw new Error(error);
        const byPort: FlowMessage[][] = Array.from({ length: ports }, () => []);
        for (const out of outputs) {
          const pinned = structuredClone(out.msg);
          byPort[out.port ?? 0]!.push(merge ? { ...msg, ...pinned } : pinned);
        }
        return byPort;
      },
    };
  },
});

/** A pin that cannot be applied: names the node and what is wrong. */
export class PinError extends Error {
  constructor(
    readonly nodeId: string,
    message: string,
  ) {
    super(`pin for node "${nodeId}": ${message}`);
    this.name = 'PinError';
  }
}

/**
 * A copy of `flow` with every pinned node replaced by a `flowtest-pinned` node (same id, name, position, wires).
 * Throws PinError for a pin naming a node the flow does not have, or a malformed pin. The input is not changed.
 */
export function withPinnedOutputs(flow: FlowDocument, pins: Pins): FlowDocument {
  const ids = new Set(flow.nodes.map((n) => n.id));
  for (const [nodeId, pin] of Object.entries(pins)) {
    if (!ids.has(nodeId)) throw new PinError(nodeId, `flow "${flow.id}" has no such node`);
    checkPin(nodeId, pin);
  }
  return { ...flow, nodes: flow.nodes.map((node) => (pins[node.id] ? pinnedNode(node, pins[node.id]!) : node)) };
}

function checkPin(nodeId: string, pin: PinnedOutput): void {
  if (!pin || typeof pin !== 'object' || Array.isArray(pin)) throw new PinError(nodeId, 'must be an object with "outputs" or "error"');
  if (pin.error !== undefined && typeof pin.error !== 'string') throw new PinError(nodeId, '"error" must be a string');
  if (pin.outputs === undefined && pin.error === undefined) throw new PinError(nodeId, 'needs "outputs" (messages to send) or "error"');
  if (pin.outputs !== undefined && !Array.isArray(pin.outputs)) throw new PinError(nodeId, '"outputs" must be an array of { port, msg }');
  (pin.outputs ?? []).forEach((out, i) => {
    if (!out || typeof out.msg !== 'object' || out.msg === null || Array.isArray(out.msg)) throw new PinError(nodeId, `outputs[${i}].msg must be a message object`);
    if (out.port !== undefined && !(Number.isInteger(out.port) && out.port >= 0)) throw new PinError(nodeId, `outputs[${i}].port must be an integer >= 0`);
  });
}

function pinnedNode(node: FlowNode, pin: PinnedOutput): FlowNode {
  const outputs = (pin.outputs ?? []).map((o) => ({ port: o.port ?? 0, msg: o.msg }));
  const ports = Math.max(1, node.wires?.length ?? 0, ...outputs.map((o) => o.port + 1));
  const props: PinnedProps = { pinnedType: node.type, ports, outputs };
  if (pin.error !== undefined) props.error = pin.error;
  if (pin.merge) props.merge = true;
  // Credentials, retries and timeouts belonged to the real node; a pinned one calls nothing.
  const { credentials: _c, retry: _r, timeoutMs: _t, props: _p, ...kept } = node;
  return { ...kept, type: PINNED_NODE_TYPE, props: props as unknown as Record<string, unknown> };
}
