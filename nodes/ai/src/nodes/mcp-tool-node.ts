/**
 * ai-mcp-tool: call one tool on an MCP server. Agents reach MCP tools through this node type (via ctx.callTool),
 * which is what makes each MCP call a recorded invocation in the run; it also works on its own in a flow.
 */
import { defineNode } from '@flowcrew/sdk';
import { callMcpTool, checkDeclared, mcpServerSchema, type McpEnvironment, type McpServerConfig } from '../tools/mcp.ts';

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
  help: `Calls a tool on an MCP server.

### Server
- \`{"name": "files", "transport": "stdio"}\`: a server that runs as a process on this host. Only servers an
  administrator declared (the file \`FLOWCREW_MCP_SERVERS\` names: command, arguments, environment, with secrets
  from the vault) can be used, by name; a flow cannot give a command, and an undeclared name fails the deploy.
- \`{"name": "remote", "transport": "http", "url": "https://mcp.example.com/mcp"}\`: a streamable HTTP endpoint,
  reached through the runtime's outbound guard (loopback and private addresses only when allow-listed).

**Output**: \`msg.payload\` = the tool's structured result when it returns one, else its text content.
A tool that reports an error fails the invocation with its message (at most 2 KB of what the server said, its
secrets replaced by \`[redacted]\`).

Agents list an MCP server's tools directly (ai-agent / ai-crew: \`mcpServers\` and \`mcp\`); each call they make runs
through this node type and shows up in the run.`,
  create(init) {
    const { server, tool } = init.props;
    const environment: McpEnvironment = { servers: init.services.mcpServers, outbound: init.services.outbound, resources: init.services.resources };
    checkDeclared([server], environment.servers);
    return {
      async onInput(msg, ctx) {
        const args = init.props.arguments && Object.keys(init.props.arguments).length ? init.props.arguments : msg.payload && typeof msg.payload === 'object' && !Array.isArray(msg.payload) ? (msg.payload as Record<string, unknown>) : {};
        const result = await callMcpTool(server, tool, args, environment, ctx.signal);
        if (result.isError) throw new Error(`MCP tool "${server.name}/${tool}" failed: ${result.text || 'no message'}`);
        return { ...msg, payload: result.structured ?? result.text, mcp: { server: server.name, tool } };
      },
    };
  },
});
