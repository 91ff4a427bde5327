/**
 * MCP servers that run as processes on this host are declared by the administrator, never by a flow: a JSON or YAML
 * file (FLOWCREW_MCP_SERVERS) maps a name to the command, its arguments, working directory and environment. Flows
 * pick a server by name (the ai-mcp-tool node, agents' mcpServers); a name that is not declared fails the deploy.
 *
 *   files:
 *     command: /usr/local/bin/mcp-filesystem      # absolute, or found on the runtime's PATH
 *     args: ["/srv/shared"]
 *     cwd: /srv
 *     env:
 *       LOG_LEVEL: info
 *       API_TOKEN: { credential: "files-token", field: "token" }   # read from the vault when the server starts
 *
 * The child process gets exactly the declared environment: nothing of the runtime's (no FLOWCREW_SECRET, no
 * DATABASE_URL, not even PATH unless declared).
 */
import { readFile } from 'node:fs/promises';
import { createSchemaValidator } from '@flowcrew/sdk/schema';
import { parse as parseYaml } from 'yaml';
import type { DeclaredMcpServers, McpServerLaunch } from '@flowcrew/sdk';

export type EnvValue = string | { credential: string; field: string };

export interface DeclaredMcpServer {
  command: string;
  args?: string[];
  cwd?: string;
  env?: Record<string, EnvValue>;
}

const NAME = '^[A-Za-z0-9_-]+$';
const SECRET_NAME = /pass|secret|token|key|private|credential|auth|cookie|session/i;

const schema = {
  type: 'object',
  propertyNames: { pattern: NAME },
  additionalProperties: {
    type: 'object',
    required: ['command'],
    additionalProperties: false,
    properties: {
      command: { type: 'string', minLength: 1 },
      args: { type: 'array', items: { type: 'string' } },
      cwd: { type: 'string', minLength: 1 },
      env: {
        type: 'object',
        additionalProperties: {
          oneOf: [
            { type: 'string' },
            { type: 'object', required: ['credential', 'field'], additionalProperties: false, properties: { credential: { type: 'string', minLength: 1 }, field: { type: 'string', minLength: 1 } } },
          ],
        },
      },
    },
  },
};

const validate = createSchemaValidator().compile(schema);

export class McpServersFileError extends Error {}

/** Check a parsed declaration file; throws naming the file and each problem with its JSON pointer. */
export function parseDeclarations(content: unknown, source: string): Record<string, DeclaredMcpServer> {
  if (content === null || content === undefined) return {};
  if (!validate(content)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : ''}`);
    throw new McpServersFileError(`MCP server declarations in ${source} are invalid: ${[...new Set(problems)].join('; ')}`);
  }
  return content as Record<string, DeclaredMcpServer>;
}

/** Read the declarations file (JSON, or YAML for .yaml/.yml); none when `file` is null. */
export async function loadDeclarations(file: string | null): Promise<Record<string, DeclaredMcpServer>> {
  if (!file) return {};
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new McpServersFileError(`FLOWCREW_MCP_SERVERS: cannot read ${file}: ${(error as Error).message}`);
  }
  let content: unknown;
  try {
    content = /\.ya?ml$/i.test(file) ? parseYaml(text, { maxAliasCount: 100 }) : JSON.parse(text);
  } catch (error) {
    throw new McpServersFileError(`FLOWCREW_MCP_SERVERS: ${file} is not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(error as Error).message}`);
  }
  return parseDeclarations(content, file);
}

/** The declared servers as nodes see them (RuntimeServices.mcpServers); vault references are resolved at each start. */
export function declaredMcpServers(declarations: Record<string, DeclaredMcpServer>, credential: (id: string) => Promise<Record<string, unknown> | undefined>): DeclaredMcpServers {
  const names = Object.keys(declarations).sort();
  return {
    names: () => [...names],
    async resolve(name) {
      const declared = Object.hasOwn(declarations, name) ? declarations[name] : undefined;
      if (!declared) {
        throw new Error(`MCP server "${name}" is not declared; ${names.length ? `declared servers: ${names.join(', ')}` : 'no MCP servers are declared'} (an administrator declares them in the file FLOWCREW_MCP_SERVERS names)`);
      }
      const env: Record<string, string> = {};
      const secrets: string[] = [];
      for (const [key, value] of Object.entries(declared.env ?? {})) {
        if (typeof value === 'string') {
          env[key] = value;
          if (SECRET_NAME.test(key)) secrets.push(value);
          continue;
        }
        const fields = await credential(value.credential);
        if (!fields) throw new Error(`MCP server "${name}": env ${key} names credential "${value.credential}", which does not exist`);
        const field = fields[value.field];
        if (typeof field !== 'string') throw new Error(`MCP server "${name}": env ${key}: credential "${value.credential}" has no text field "${value.field}"`);
        env[key] = field;
        secrets.push(field);
      }
      const launch: McpServerLaunch = { name, command: declared.command, args: [...(declared.args ?? [])], env, secrets };
      if (declared.cwd) launch.cwd = declared.cwd;
      return launch;
    },
  };
}
