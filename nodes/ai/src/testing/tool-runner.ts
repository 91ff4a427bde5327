/**
 * Test support: an implementation of ctx.callTool that does what the runtime does for a tool call (create the
 * node type with the call's props, feed it the input message, collect its output), minus the recording.
 */
import type { FlowMessage, NodeDefinition, ToolCall } from '@flowcrew/sdk';
import { createTestNode } from '@flowcrew/sdk/testing';

export function toolRunner(definitions: NodeDefinition[]): (call: ToolCall) => Promise<FlowMessage[]> {
  return async (call) => {
    const definition = definitions.find((d) => d.type === call.type);
    if (!definition?.usableAsTool) throw new Error(`node type "${call.type}" is not usable as a tool`);
    const node = await createTestNode(definition, call.props);
    try {
      return (await node.input(call.input ?? {})).map((s) => s.msg);
    } finally {
      await node.stop();
    }
  };
}
