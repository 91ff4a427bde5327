/**
 * Node types that declare `usableAsTool` (HTTP request, database query, retrieve, ...) as agent tools. The
 * node's props schema is the tool's parameters, minus the props the flow author fixed (a URL, a collection, a
 * credential): the model fills in the rest, and each call runs through ctx.callTool as its own invocation.
 */
import type { JsonSchema, ToolDescription } from '@flowcrew/sdk';
import { toolName, toolResultText, type AgentTool } from './types.ts';

export interface NodeToolConfig {
  /** Node type, e.g. 'http-request'. */
  type: string;
  /** Name the model sees; default: the type. */
  name?: string;
  /** What the tool is for, in words for the model; default: the node type's description. */
  description?: string;
  /** Props fixed by the flow author, merged over the model's arguments and hidden from the model. */
  props?: Record<string, unknown>;
  /** Credential id the tool node runs with. */
  credentials?: string;
}

export const nodeToolConfigSchema: JsonSchema = {
  type: 'object',
  required: ['type'],
  properties: {
    type: { type: 'string', minLength: 1, description: 'A node type usable as a tool, e.g. http-request or ai-retrieve.' },
    name: { type: 'string' },
    description: { type: 'string' },
    props: { type: 'object', description: 'Props fixed by you and hidden from the model.' },
    credentials: { type: 'string', description: 'Credential id for the tool node.' },
  },
};

export function buildNodeTool(config: NodeToolConfig, available: ToolDescription[], taken: Set<string>): AgentTool {
  const description = available.find((t) => t.type === config.type);
  if (!description) {
    const names = available.map((t) => t.type).join(', ') || 'none installed';
    throw new Error(`tool "${config.type}" is not a node type usable as a tool (available: ${names})`);
  }
  const fixed = config.props ?? {};
  // Letting a model pick an MCP server's command line would let a prompt start any program on the host.
  if (config.type === 'ai-mcp-tool' && !fixed.server) {
    throw new Error('give agents MCP tools through the node\'s mcpServers (or fix "server" in the tool props), not as an open ai-mcp-tool');
  }
  const name = toolName(config.name ?? config.type, taken);
  const label = config.name ?? description.label;
  return {
    spec: { name, description: config.description ?? description.description, parameters: withoutFixedProps(description.parameters, Object.keys(fixed)) },
    async invoke(args, context) {
      const outputs = await context.callTool({
        type: config.type,
        props: { ...args, ...fixed },
        ...(config.credentials ? { credentials: config.credentials } : {}),
        label,
      });
      return toolResultText(outputs);
    },
  };
}

function withoutFixedProps(schema: JsonSchema, fixed: string[]): JsonSchema {
  const properties = { ...((schema.properties as Record<string, unknown>) ?? {}) };
  for (const key of fixed) delete properties[key];
  const required = Array.isArray(schema.required) ? (schema.required as string[]).filter((r) => !fixed.includes(r)) : undefined;
  const { $schema: _ignored, ...rest } = schema;
  return { ...rest, type: 'object', properties, ...(required ? { required } : {}) };
}
