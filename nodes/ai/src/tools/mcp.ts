/**
 * MCP servers as tool sources (stdio and streamable HTTP, via @modelcontextprotocol/sdk). Clients are shared per
 * server within the process: the agent lists tools through one, and the ai-mcp-tool node (which the runtime creates
 * afresh for each recorded tool call) calls through the same one.
 *
 * A flow never names a command: a stdio server is one the administrator declared (FLOWCREW_MCP_SERVERS), picked by
 * name, started with exactly its declared environment. HTTP servers are reached through the runtime's outbound
 * guard. What a server process says (stderr, error texts) is cut to 2 KB and scrubbed of its secrets before it
 * reaches an error message.
 */
import { createHash } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { DeclaredMcpServers, JsonSchema, McpServerLaunch, OutboundServices, ResourceLease, ResourceServices } from '@flowcrew/sdk';
import { loadMcpClient } from '../libs.ts';
import { toolName, toolResultText, type AgentTool } from './types.ts';

/** A server as a flow refers to it: a declared stdio server by name, or an HTTP endpoint. */
export type McpServerConfig = { name: string; transport: 'stdio'; timeoutMs?: number } | { name: string; transport: 'http'; url: string; headers?: Record<string, string>; timeoutMs?: number };

/** What a flow's MCP client needs from the runtime: the declared servers, and the guarded way out. */
export interface McpEnvironment {
  servers: DeclaredMcpServers;
  outbound: OutboundServices;
  /** The runtime's pooled resources: one client per server (and launch) for the whole runtime. */
  resources: ResourceServices;
}

export const mcpServerSchema: JsonSchema = {
  type: 'object',
  required: ['name', 'transport'],
  // No command, args, env or cwd: a flow cannot say what runs on the host.
  additionalProperties: false,
  properties: {
    name: {
      type: 'string',
      minLength: 1,
      pattern: '^[A-Za-z0-9_-]+$',
      description: 'stdio: the name of an MCP server the administrator declared (FLOWCREW_MCP_SERVERS). http: a short name. Tools appear to the model as <name>_<tool>.',
    },
    transport: { enum: ['stdio', 'http'], description: 'stdio: a declared server the runtime starts; http: a streamable HTTP endpoint.' },
    url: { type: 'string', description: 'http: the streamable HTTP endpoint, e.g. https://mcp.example.com/mcp.' },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    timeoutMs: { type: 'integer', minimum: 100, default: 60_000, description: 'Max time for one tool call.' },
  },
  allOf: [{ if: { properties: { transport: { const: 'http' } } }, then: { required: ['url'] } }],
};

/** Longest text of a server process that goes into an error message. */
export const MAX_PROCESS_TEXT = 2048;

interface Connection {
  client: Client;
  /** What the server process wrote to stderr last, scrubbed and cut, for error messages. */
  stderr: () => string;
  /** Scrub a text that came from the server (its secrets replaced, cut to MAX_PROCESS_TEXT). */
  scrub: (text: string) => string;
}

/** Replace `secrets` in `text` and keep at most `max` characters of it (the end, where the error usually is). */
export function scrubProcessText(text: string, secrets: readonly string[], max = MAX_PROCESS_TEXT): string {
  let clean = text;
  for (const secret of [...secrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length)) clean = clean.split(secret).join('[redacted]');
  return clean.length > max ? `…[${clean.length - max} characters cut]${clean.slice(-max)}` : clean;
}

/** Check at deploy that every stdio server a node names is declared; throws naming the declared ones. */
export function checkDeclared(configs: readonly McpServerConfig[], servers: DeclaredMcpServers): void {
  const declared = servers.names();
  for (const config of configs) {
    const legacy = config as unknown as Record<string, unknown>;
    if (['command', 'args', 'env', 'cwd'].some((k) => k in legacy)) {
      throw new Error(`MCP server "${config.name}": a flow cannot give a command; pick a server the administrator declared by name (FLOWCREW_MCP_SERVERS)`);
    }
    if (config.transport === 'stdio' && !declared.includes(config.name)) {
      throw new Error(`MCP server "${config.name}" is not declared; ${declared.length ? `declared servers: ${declared.join(', ')}` : 'no MCP servers are declared'} (an administrator declares them in the file FLOWCREW_MCP_SERVERS names)`);
    }
  }
}

function keyOf(config: McpServerConfig, launch: McpServerLaunch | undefined): string {
  if (launch) {
    // The launch, secrets hashed: a changed credential starts a new process instead of reusing the old one.
    const digest = createHash('sha256').update(JSON.stringify([launch.command, launch.args, launch.env, launch.cwd ?? null])).digest('hex');
    return `stdio:${config.name}:${digest}`;
  }
  // Headers may carry a token: hashed too (keys are listed in health figures).
  const { timeoutMs: _timeout, ...identity } = config;
  return `http:${config.name}:${createHash('sha256').update(JSON.stringify(identity)).digest('hex')}`;
}

/** The child's environment: exactly the declared one (the SDK would add HOME, PATH, SHELL... of the runtime; unset them). */
function childEnvironment(declared: Record<string, string>, inherited: readonly string[]): Record<string, string> {
  const env: Record<string, string | undefined> = Object.fromEntries(inherited.map((k) => [k, undefined]));
  return { ...env, ...declared } as Record<string, string>;
}

async function connect(config: McpServerConfig, launch: McpServerLaunch | undefined, environment: McpEnvironment): Promise<Connection> {
  const { Client, StdioClientTransport, StreamableHTTPClientTransport, DEFAULT_INHERITED_ENV_VARS } = await loadMcpClient();
  const client = new Client({ name: 'flowcrew', version: '0.1.0' });
  const secrets = launch?.secrets ?? [];
  const scrub = (text: string) => scrubProcessText(text, secrets);
  let tail = '';
  try {
    if (launch) {
      const transport = new StdioClientTransport({
        command: launch.command,
        args: launch.args,
        env: childEnvironment(launch.env, DEFAULT_INHERITED_ENV_VARS),
        ...(launch.cwd ? { cwd: launch.cwd } : {}),
        stderr: 'pipe',
      });
      transport.stderr?.on('data', (chunk: Buffer) => {
        tail = (tail + chunk.toString('utf8')).slice(-4 * MAX_PROCESS_TEXT);
      });
      await client.connect(transport);
    } else if (config.transport === 'http') {
      const fetch = (url: string | URL, init?: RequestInit) => environment.outbound.fetch(url, init);
      await client.connect(new StreamableHTTPClientTransport(new URL(config.url), { fetch, requestInit: { headers: config.headers ?? {} } }));
    }
  } catch (error) {
    await client.close().catch(() => undefined);
    const where = config.transport === 'stdio' ? 'declared stdio server' : config.url;
    throw new Error(scrub(`MCP server "${config.name}" (${where}): cannot connect: ${(error as Error).message}${tail ? `\n${tail.trim()}` : ''}`));
  }
  return { client, stderr: () => scrub(tail.trim()), scrub };
}

export async function acquireMcpClient(config: McpServerConfig, environment: McpEnvironment): Promise<ResourceLease<Connection>> {
  checkDeclared([config], environment.servers);
  const launch = config.transport === 'stdio' ? await environment.servers.resolve(config.name) : undefined;
  return environment.resources.acquire(`ai:mcp:${keyOf(config, launch)}`, () => connect(config, launch, environment), (c) => c.client.close(), {
    // A fresh node instance serves every tool call: keep the server (a process, for stdio) for the next call.
    idleMs: 30_000,
  });
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

export async function callMcpTool(config: McpServerConfig, tool: string, args: Record<string, unknown>, environment: McpEnvironment, signal?: AbortSignal): Promise<McpCallResult> {
  const lease = await acquireMcpClient(config, environment);
  try {
    let result;
    try {
      result = await lease.value.client.callTool({ name: tool, arguments: args }, undefined, { signal, timeout: config.timeoutMs ?? 60_000 });
    } catch (error) {
      if (signal?.aborted) throw error;
      const stderr = lease.value.stderr();
      throw new Error(lease.value.scrub(`MCP tool "${config.name}/${tool}": ${(error as Error).message}${stderr ? `\n${stderr}` : ''}`));
    }
    const content = Array.isArray(result.content) ? (result.content as Array<{ type: string; text?: string; [k: string]: unknown }>) : [];
    const text = content.map((c) => (c.type === 'text' ? (c.text ?? '') : `[${c.type} content]`)).join('\n');
    // A failure's text goes into an error message: scrub and cut it like everything else the process says.
    return { text: result.isError === true ? lease.value.scrub(text) : text, structured: result.structuredContent, isError: result.isError === true };
  } finally {
    lease.release();
  }
}

/**
 * The tools of one MCP server as agent tools. A call goes through ctx.callTool to the ai-mcp-tool node type,
 * so it is recorded as a node invocation like any other tool call.
 */
export async function mcpAgentTools(config: McpServerConfig, include: string[] | undefined, taken: Set<string>, environment: McpEnvironment): Promise<AgentTool[]> {
  const lease = await acquireMcpClient(config, environment);
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
