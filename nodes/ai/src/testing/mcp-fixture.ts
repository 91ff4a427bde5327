/**
 * Test support: a small real MCP server (the SDK's low-level Server) with an `add` tool, a `lookup` tool with
 * structured output, and a `fail` tool that reports an error, served over stdio (mcp-stdio-fixture.ts) or
 * streamable HTTP (startMcpHttpFixture).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

export function createFixtureServer(): Server {
  const server = new Server({ name: 'flowcrew-fixture', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [
      { name: 'add', description: 'Add two numbers', inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] } },
      { name: 'lookup', description: 'Look up a city', inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      { name: 'fail', description: 'Always fails', inputSchema: { type: 'object', properties: {} } },
    ],
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const args = (request.params.arguments ?? {}) as Record<string, unknown>;
    switch (request.params.name) {
      case 'add':
        return { content: [{ type: 'text', text: String(Number(args.a) + Number(args.b)) }] };
      case 'lookup':
        return { content: [{ type: 'text', text: `${String(args.city)}: population 700000` }], structuredContent: { city: args.city, population: 700000 } };
      case 'fail':
        return { content: [{ type: 'text', text: 'the upstream API is down' }], isError: true };
      default:
        throw new Error(`unknown tool ${request.params.name}`);
    }
  });
  return server;
}

/** Stateless streamable HTTP: a fresh server and transport per request, as the SDK's examples do. */
export async function startMcpHttpFixture(): Promise<{ url: string; close(): Promise<void> }> {
  const http = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    const server = createFixtureServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
