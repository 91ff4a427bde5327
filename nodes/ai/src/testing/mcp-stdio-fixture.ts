/** Test support: the fixture MCP server on stdio (started by tests with `node --import tsx`). */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createFixtureServer } from './mcp-fixture.ts';

await createFixtureServer().connect(new StdioServerTransport());
