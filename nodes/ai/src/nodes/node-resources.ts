/**
 * What an AI node instance holds between messages: its agents' tools (node tools built at deploy, MCP tools
 * listed on first use) and its vector store lease (taken on first use, given back when the node closes).
 */
import type { JsonSchema, ResourceLease, RuntimeServices, ToolDescription } from '@flowcrew/sdk';
import type { McpToolsRef } from '../crew/spec.ts';
import { acquireVectorStore, resolveStoreLocation, type StoreChoice, type StoreLocation, type VectorStore } from '../memory/vector-store.ts';
import { checkDeclared, mcpAgentTools, type McpEnvironment, type McpServerConfig } from '../tools/mcp.ts';
import { buildNodeTool, type NodeToolConfig } from '../tools/node-tools.ts';
import type { AgentTool } from '../tools/types.ts';
import { modelPropsSchema } from './model-selection.ts';

export const storePropSchema = {
  enum: ['auto', 'sqlite', 'postgres'],
  default: 'auto',
  description:
    'Vector store. auto: PostgreSQL (pgvector) when the runtime runs on PostgreSQL (or $FLOWCREW_VECTOR_DATABASE_URL is set), else the embedded SQLite store (sqlite-vec).',
} as const satisfies JsonSchema;

/** The props every AI node that may use the vector store ends with: its model, then its store. */
export const modelAndStoreProps = { ...modelPropsSchema, store: storePropSchema } as const satisfies Record<string, JsonSchema>;

/** One agent's tools: node tools are checked and built at deploy; MCP servers are contacted on first use. */
export class AgentToolbox {
  private readonly nodeTools: AgentTool[];
  private mcpTools: Promise<AgentTool[]> | undefined;
  private readonly taken = new Set<string>();

  constructor(
    private readonly owner: string,
    tools: NodeToolConfig[],
    private readonly mcpRefs: McpToolsRef[],
    private readonly servers: McpServerConfig[],
    available: ToolDescription[],
    private readonly mcp: McpEnvironment,
  ) {
    this.nodeTools = tools.map((t) => buildNodeTool(t, available, this.taken));
    // A stdio server must be one the administrator declared: an unknown name fails the deploy, not the first run.
    try {
      checkDeclared(servers, mcp.servers);
    } catch (error) {
      throw new Error(`${owner}: ${(error as Error).message}`);
    }
    for (const ref of mcpRefs) {
      if (!servers.some((s) => s.name === ref.server)) {
        throw new Error(`${owner} uses MCP server "${ref.server}", which is not declared in this node's mcpServers (${servers.map((s) => s.name).join(', ') || 'none'})`);
      }
    }
  }

  async tools(): Promise<AgentTool[]> {
    if (this.mcpRefs.length === 0) return this.nodeTools;
    this.mcpTools ??= (async () => {
      const all: AgentTool[] = [];
      for (const ref of this.mcpRefs) all.push(...(await mcpAgentTools(this.servers.find((s) => s.name === ref.server)!, ref.tools, this.taken, this.mcp)));
      return all;
    })();
    try {
      return [...this.nodeTools, ...(await this.mcpTools)];
    } catch (error) {
      this.mcpTools = undefined; // a server that was down may be up for the next message
      throw new Error(`${this.owner}: ${(error as Error).message}`);
    }
  }
}

/** A vector store taken on first use (from the runtime's pooled resources) and released when the node closes. */
export class StoreHandle {
  readonly location: StoreLocation;
  private lease: Promise<ResourceLease<VectorStore>> | undefined;

  /** `services`: the node's (its data directory, the runtime's database, its pooled resources). */
  constructor(
    choice: StoreChoice,
    private readonly services: Pick<RuntimeServices, 'dataDir' | 'database' | 'resources'>,
  ) {
    this.location = resolveStoreLocation(choice, services);
  }

  async get(): Promise<VectorStore> {
    const held = this.lease;
    // A store closed under us (the runtime shutting down, resources reset) is acquired again.
    if (held && (await held.then((l) => l.stale, () => true))) {
      if (this.lease === held) this.lease = undefined;
      void held.then((l) => l.release(), () => undefined);
    }
    this.lease ??= acquireVectorStore(this.services.resources, this.location);
    try {
      return (await this.lease).value;
    } catch (error) {
      this.lease = undefined;
      throw error;
    }
  }

  async release(): Promise<void> {
    const lease = this.lease;
    this.lease = undefined;
    if (lease) (await lease.catch(() => undefined))?.release();
  }
}
