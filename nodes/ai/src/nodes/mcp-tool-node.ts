/**
 * ai-mcp-tool: call one tool on an MCP server. Agents reach MCP tools through this node type (via ctx.callTool),
 * which is what makes each MCP call a recorded invocation in the run; it also works on its own in a flow.
 */
import { defineNode } from '@flowcrew/sdk';
import { callMcpTool, mcpServerSchema, type McpServerConfig } from '../tools/mcp.ts';

export interface McpToolProps {
  server: McpServerConfig;
  tool: string;
  arguments?: Record<string, unknown>;
}

export const mcpToolNode = defineNode<McpToolProps>({
  type: 'ai-mcp-tool',
  category: 'ai',
  label: 'MCP tool',
  icon: 'extension',
  color: '#d6cbf7',
  inputs: 1,
  outputs: 1,
  usableAsTool: true,
  props: {
    type: 'object',
    required: ['server', 'tool'],
    properties: {
      server: mcpServerSchema,
      tool: { type: 'string', minLength: 1, description: 'Name of the tool on the server.' },
      arguments: { type: 'object', default: {}, description: 'Arguments, as the tool\'s input schema describes them. Empty: msg.payload when it is an object.' },
    },
  },
  help: `Calls a tool on an MCP server (stdio: a command the runtime starts; http: a streamable HTTP endpoint).

**Output**: \`msg.payload\` = the tool's structured result when it returns one, else its text content.
A tool that reports an error fails the invocation with its message.

Agents list an MCP server's tools directly (ai-agent / ai-crew: \`mcpServers\` and \`mcp\`); each call they make runs
through this node type and shows up in the run.`,
  create(init) {
    const { server, tool } = init.props;
    return {
      async onInput(msg, ctx) {
        const args = init.props.arguments && Object.keys(init.props.arguments).length ? init.props.arguments : msg.payload && typeof msg.payload === 'object' && !Array.isArray(msg.payload) ? (msg.payload as Record<string, unknown>) : {};
        const result = await callMcpTool(server, tool, args, ctx.signal);
        if (result.isError) throw new Error(`MCP tool "${server.name}/${tool}" failed: ${result.text || 'no message'}`);
        return { ...msg, payload: result.structured ?? result.text, mcp: { server: server.name, tool } };
      },
    };
  },
});
