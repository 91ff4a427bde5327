/** MCP servers the administrator declared (a flow picks one by name; it cannot start host commands itself). */

/** How to start one administrator-declared MCP server: what a node passes to its stdio client, nothing more. */
export interface McpServerLaunch {
  name: string;
  command: string;
  args: string[];
  /** The complete environment of the child process (it inherits nothing from the runtime). */
  env: Record<string, string>;
  cwd?: string;
  /** Values to scrub from anything the process says (its vault-sourced and secret-looking env values). */
  secrets: string[];
}

export interface DeclaredMcpServers {
  /** Names of the declared servers. */
  names(): string[];
  /** The launch of a declared server, credentials resolved now. Throws, naming the declared ones, for an unknown name. */
  resolve(name: string): Promise<McpServerLaunch>;
}
