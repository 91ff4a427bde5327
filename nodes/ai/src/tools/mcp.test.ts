import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { mcpToolNode } from '../nodes/mcp-tool-node.ts';
import { startMcpHttpFixture } from '../testing/mcp-fixture.ts';
import { toolRunner } from '../testing/tool-runner.ts';
import { callMcpTool, closeMcpClients, mcpAgentTools, type McpServerConfig } from './mcp.ts';

const stdioServer: McpServerConfig = {
  name: 'fixture',
  transport: 'stdio',
  command: process.execPath,
  args: ['--import', 'tsx', path.join(import.meta.dirname, '..', 'testing', 'mcp-stdio-fixture.ts')],
  cwd: path.resolve(import.meta.dirname, '..', '..', '..', '..'),
};

afterAll(async () => {
  await closeMcpClients();
});

describe('MCP servers as tool sources', () => {
  it('lists a stdio server\'s tools with their schemas, and each call runs as an ai-mcp-tool invocation', async () => {
    const tools = await mcpAgentTools(stdioServer, undefined, new Set());
    expect(tools.map((t) => t.spec.name)).toEqual(['fixture_add', 'fixture_lookup', 'fixture_fail']);
    expect(tools[0]!.spec).toEqual({
      name: 'fixture_add',
      description: 'Add two numbers',
      parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
    });
    const calls: unknown[] = [];
    const run = toolRunner([mcpToolNode]);
    const context = { signal: new AbortController().signal, callTool: (call: Parameters<typeof run>[0]) => (calls.push(call), run(call)) };
    expect(await tools[0]!.invoke({ a: 2, b: 40 }, context)).toBe('42');
    expect(calls).toEqual([{ type: 'ai-mcp-tool', props: { server: stdioServer, tool: 'add', arguments: { a: 2, b: 40 } }, label: 'fixture/add' }]);
    expect(await tools[1]!.invoke({ city: 'Oslo' }, context)).toBe('{"city":"Oslo","population":700000}');
    await expect(tools[2]!.invoke({}, context)).rejects.toThrow('MCP tool "fixture/fail" failed: the upstream API is down');
  });

  it('offers only the tools an agent is given, and names a tool the server does not have', async () => {
    expect((await mcpAgentTools(stdioServer, ['lookup'], new Set())).map((t) => t.spec.name)).toEqual(['fixture_lookup']);
    await expect(mcpAgentTools(stdioServer, ['search'], new Set())).rejects.toThrow('MCP server "fixture" has no tool "search" (it has: add, lookup, fail)');
  });

  describe('over streamable HTTP', () => {
    let fixture: Awaited<ReturnType<typeof startMcpHttpFixture>>;
    afterEach(async () => {
      await closeMcpClients();
      await fixture?.close();
    });

    it('calls a tool and returns its structured result through the ai-mcp-tool node', async () => {
      fixture = await startMcpHttpFixture();
      const server: McpServerConfig = { name: 'remote', transport: 'http', url: fixture.url };
      expect(await callMcpTool(server, 'add', { a: 1, b: 2 })).toEqual({ text: '3', structured: undefined, isError: false });
      const node = await createTestNode(mcpToolNode, { server, tool: 'lookup', arguments: {} });
      const [out] = await node.input({ payload: { city: 'Lima' } });
      expect(out!.msg).toMatchObject({ payload: { city: 'Lima', population: 700000 }, mcp: { server: 'remote', tool: 'lookup' } });
    });
  });

  it('says which server could not be reached and why', async () => {
    await expect(mcpAgentTools({ name: 'broken', transport: 'stdio', command: '/nonexistent/mcp-server' }, undefined, new Set())).rejects.toThrow(
      /MCP server "broken" \("\/nonexistent\/mcp-server"\): cannot connect: .*ENOENT/,
    );
    await expect(mcpAgentTools({ name: 'down', transport: 'http', url: 'http://127.0.0.1:1/mcp' }, undefined, new Set())).rejects.toThrow(/MCP server "down" \(http:\/\/127\.0\.0\.1:1\/mcp\): cannot connect/);
  });
});
