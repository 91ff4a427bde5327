/**
 * Test support: an MCP server on stdio (run with `node --import tsx`) that shows what a declared server's process
 * sees and says: `env` returns the names of its environment variables, `leak` fails with a long error text that
 * contains its API_TOKEN, and it writes API_TOKEN to stderr at start.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

process.stderr.write(`starting with token ${process.env.API_TOKEN ?? '(none)'}\n`);
const server = new Server({ name: 'flowcrew-env-fixture', version: '1.0.0' }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: [
    { name: 'env', description: 'Names of the environment variables', inputSchema: { type: 'object', properties: {} } },
    { name: 'leak', description: 'Fails, saying its token', inputSchema: { type: 'object', properties: {} } },
  ],
}));
server.setRequestHandler(CallToolRequestSchema, async (request) => {
  if (request.params.name === 'env') return { content: [{ type: 'text', text: JSON.stringify(Object.keys(process.env).sort()) }] };
  return { content: [{ type: 'text', text: `upstream refused token ${process.env.API_TOKEN}\n${'detail '.repeat(2000)}\nlast words: token ${process.env.API_TOKEN}` }], isError: true };
});
await server.connect(new StdioServerTransport());
