/**
 * MCP servers as tool sources (stdio and streamable HTTP, via @modelcontextprotocol/sdk). Clients are shared per
 * server configuration within the process: the agent lists tools through one, and the ai-mcp-tool node (which
 * the runtime creates afresh for each recorded tool call) calls through the same one.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { JsonSchema } from '@flowcrew/sdk';
import { SharedResources, type Lease } from '../shared-resources.ts';
import { toolName, toolResultText, type AgentTool } from './types.ts';

export type McpServerConfig =
  | { name: string; transport: 'stdio'; command: string; args?: string[]; env?: Record<string, string>; cwd?: string; timeoutMs?: number }
  | { name: string; transport: 'http'; url: string; headers?: Record<string, string>; timeoutMs?: number };

export const mcpServerSchema: JsonSchema = {
  type: 'object',
  required: ['name', 'transport'],
  properties: {
    name: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9_-]+$', description: 'Short name; tools appear to the model as <name>_<tool>.' },
    transport: { enum: ['stdio', 'http'] },
    command: { type: 'string', description: 'stdio: executable to start, e.g. npx or python3.' },
    args: { type: 'array', items: { type: 'string' } },
    env: { type: 'object', additionalProperties: { type: 'string' }, description: 'stdio: extra environment (the server does not inherit the runtime environment).' },
    cwd: { type: 'string' },
    url: { type: 'string', description: 'http: the streamable HTTP endpoint, e.g. http://127.0.0.1:3001/mcp.' },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    timeoutMs: { type: 'integer', minimum: 100, default: 60_000, description: 'Max time for one tool call.' },
  },
  allOf: [
    { if: { properties: { transport: { const: 'stdio' } } }, then: { required: ['command'] } },
    { if: { properties: { transport: { const: 'http' } } }, then: { required: ['url'] } },
  ],
};

interface Connection {
  client: Client;
  /** The last output a stdio server wrote to stderr, for error messages. */
  stderr: () => string;
}

const connections = new SharedResources<Connection>((c) => c.client.close());

function keyOf(config: McpServerConfig): string {
  const { timeoutMs: _timeout, ...identity } = config;
  return JSON.stringify(identity);
}

async function connect(config: McpServerConfig): Promise<Connection> {
  const client = new Client({ name: 'flowcrew', version: '0.1.0' });
  let tail = '';
  try {
    if (config.transport === 'stdio') {
      const transport = new StdioClientTransport({
        command: config.command,
        args: config.args ?? [],
        env: { ...getDefaultEnvironment(), ...config.env },
        ...(config.cwd ? { cwd: config.cwd } : {}),
        stderr: 'pipe',
      });
      transport.stderr?.on('data', (chunk: Buffer) => {
        tail = (tail + chunk.toString('utf8')).slice(-2000);
      });
      await client.connect(transport);
    } else {
      await client.connect(new StreamableHTTPClientTransport(new URL(config.url), { requestInit: { headers: config.headers ?? {} } }));
    }
  } catch (error) {
    await client.close().catch(() => undefined);
    const where = config.transport === 'stdio' ? `"${config.command}"` : config.url;
    throw new Error(`MCP server "${config.name}" (${where}): cannot connect: ${(error as Error).message}${tail ? `\n${tail.trim()}` : ''}`);
  }
  return { client, stderr: () => tail.trim() };
}

export function acquireMcpClient(config: McpServerConfig): Promise<Lease<Connection>> {
  return connections.acquire(keyOf(config), () => connect(config));
}

export async function closeMcpClients(): Promise<void> {
  await connections.closeAll();
}

export interface McpToolInfo {
  name: string;
  description?: string;
  inputSchema: JsonSchema;
}

export async function listMcpTools(connection: Connection): Promise<McpToolInfo[]> {
  const tools: McpToolInfo[] = [];
  let cursor: string | undefined;
  do {
    const page = await connection.client.listTools(cursor ? { cursor } : undefined);
    for (const t of page.tools) tools.push({ name: t.name, description: t.description, inputSchema: t.inputSchema as JsonSchema });
    cursor = page.nextCursor;
  } while (cursor);
  return tools;
}

export interface McpCallResult {
  text: string;
  structured?: unknown;
  isError: boolean;
}

export async function callMcpTool(config: McpServerConfig, tool: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<McpCallResult> {
  const lease = await acquireMcpClient(config);
  try {
    const result = await lease.value.client.callTool({ name: tool, arguments: args }, undefined, { signal, timeout: config.timeoutMs ?? 60_000 });
    const content = Array.isArray(result.content) ? (result.content as Array<{ type: string; text?: string; [k: string]: unknown }>) : [];
    const text = content.map((c) => (c.type === 'text' ? (c.text ?? '') : `[${c.type} content]`)).join('\n');
    return { text, structured: result.structuredContent, isError: result.isError === true };
  } finally {
    lease.release();
  }
}

/**
 * The tools of one MCP server as agent tools. A call goes through ctx.callTool to the ai-mcp-tool node type,
 * so it is recorded as a node invocation like any other tool call.
 */
export async function mcpAgentTools(config: McpServerConfig, include: string[] | undefined, taken: Set<string>): Promise<AgentTool[]> {
  const lease = await acquireMcpClient(config);
  try {
    const tools = await listMcpTools(lease.value);
    const unknown = include?.filter((name) => !tools.some((t) => t.name === name)) ?? [];
    if (unknown.length) throw new Error(`MCP server "${config.name}" has no tool ${unknown.map((u) => `"${u}"`).join(', ')} (it has: ${tools.map((t) => t.name).join(', ')})`);
    return tools
      .filter((t) => !include || include.includes(t.name))
      .map((t) => ({
        spec: { name: toolName(`${config.name}_${t.name}`, taken), description: t.description ?? `${t.name} (MCP server ${config.name})`, parameters: t.inputSchema },
        async invoke(args, context) {
          const outputs = await context.callTool({ type: 'ai-mcp-tool', props: { server: config, tool: t.name, arguments: args }, label: `${config.name}/${t.name}` });
          return toolResultText(outputs);
        },
      }));
  } finally {
    lease.release();
  }
}
