import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import { createTestNode, setTestServiceDefaults, testResources } from '@flowcrew/sdk/testing';
import { mcpToolNode } from '../nodes/mcp-tool-node.ts';
import { startMcpHttpFixture } from '../testing/mcp-fixture.ts';
import { declaredServers, loopbackOutbound } from '../testing/test-setup.ts';
import { toolRunner } from '../testing/tool-runner.ts';
import { callMcpTool, mcpAgentTools, scrubProcessText, type McpEnvironment, type McpServerConfig } from './mcp.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..', '..');
const fixture = (file: string) => ({ command: process.execPath, args: ['--import', 'tsx', path.join(import.meta.dirname, '..', 'testing', file)], cwd: repoRoot });
const TOKEN = 'tok-4f9a1c7e2b8d';

/** What the administrator declared for these tests. */
const servers = declaredServers({
  fixture: fixture('mcp-stdio-fixture.ts'),
  envcheck: { ...fixture('mcp-env-fixture.ts'), env: { API_TOKEN: TOKEN, MODE: 'test' }, secrets: [TOKEN] },
  crashing: { command: process.execPath, args: ['-e', `process.stderr.write('boom: ' + process.env.API_TOKEN); process.exit(3)`], env: { API_TOKEN: TOKEN }, secrets: [TOKEN] },
});
const outbound = loopbackOutbound();
/** The harness's pooled resources: the clients these calls open are shared with the test nodes' (as in a runtime). */
const environment: McpEnvironment = { servers, outbound, resources: testResources() };
setTestServiceDefaults({ outbound, mcpServers: servers });

const stdioServer: McpServerConfig = { name: 'fixture', transport: 'stdio' };

afterAll(async () => {
  await testResources().reset();
});

describe('MCP servers as tool sources', () => {
  it("lists a declared stdio server's tools with their schemas, and each call runs as an ai-mcp-tool invocation", async () => {
    const tools = await mcpAgentTools(stdioServer, undefined, new Set(), environment);
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
    expect((await mcpAgentTools(stdioServer, ['lookup'], new Set(), environment)).map((t) => t.spec.name)).toEqual(['fixture_lookup']);
    await expect(mcpAgentTools(stdioServer, ['search'], new Set(), environment)).rejects.toThrow('MCP server "fixture" has no tool "search" (it has: add, lookup, fail)');
  });

  describe('a flow cannot name a command', () => {
    it('refuses command, args, env and cwd in a server, at deploy', async () => {
      for (const extra of [{ command: '/bin/sh' }, { args: ['-c', 'id'] }, { env: { X: '1' } }, { cwd: '/' }]) {
        const server = { name: 'fixture', transport: 'stdio', ...extra } as unknown as McpServerConfig;
        await expect(createTestNode(mcpToolNode, { server, tool: 'add' })).rejects.toThrow(/a flow cannot give a command; pick a server the administrator declared by name/);
      }
      expect(mcpToolNode.props).toMatchObject({ properties: { server: { additionalProperties: false } } });
    });

    it('refuses a stdio server that is not declared, at deploy, naming the declared ones', async () => {
      await expect(createTestNode(mcpToolNode, { server: { name: 'shell', transport: 'stdio' }, tool: 'x' })).rejects.toThrow(
        'MCP server "shell" is not declared; declared servers: fixture, envcheck, crashing',
      );
      await expect(createTestNode(mcpToolNode, { server: { name: 'fixture', transport: 'stdio' }, tool: 'x' }, { services: { mcpServers: declaredServers({}) } })).rejects.toThrow(
        /no MCP servers are declared.*FLOWCREW_MCP_SERVERS/,
      );
    });
  });

  describe('a declared server process', () => {
    it('gets exactly its declared environment, nothing of the runtime', async () => {
      process.env.FLOWCREW_SECRET_FOR_TEST = 'must-not-be-inherited';
      try {
        const result = await callMcpTool({ name: 'envcheck', transport: 'stdio' }, 'env', {}, environment);
        expect(JSON.parse(result.text)).toEqual(['API_TOKEN', 'MODE']);
      } finally {
        delete process.env.FLOWCREW_SECRET_FOR_TEST;
      }
    });

    it("cuts a failure's text to 2 KB and scrubs its secrets", async () => {
      const node = await createTestNode(mcpToolNode, { server: { name: 'envcheck', transport: 'stdio' }, tool: 'leak' });
      const failure = await node.input({}).then(
        () => null,
        (error: Error) => error,
      );
      expect(failure!.message).toMatch(/^MCP tool "envcheck\/leak" failed: …\[\d+ characters cut\]/);
      expect(failure!.message).toContain('last words: token [redacted]');
      expect(failure!.message).not.toContain(TOKEN);
      expect(failure!.message.length).toBeLessThan(2200);
    });

    it('scrubs what a server that dies at start wrote to stderr', async () => {
      const failure = await mcpAgentTools({ name: 'crashing', transport: 'stdio' }, undefined, new Set(), environment).then(
        () => null,
        (error: Error) => error,
      );
      expect(failure!.message).toMatch(/MCP server "crashing" \(declared stdio server\): cannot connect/);
      expect(failure!.message).toContain('boom: [redacted]');
      expect(failure!.message).not.toContain(TOKEN);
    });

    it('scrubProcessText keeps the end of a long text', () => {
      expect(scrubProcessText(`${'x'.repeat(3000)} secret-value end`, ['secret-value'], 100)).toBe(`…[2915 characters cut]${'x'.repeat(85)} [redacted] end`);
    });
  });

  describe('over streamable HTTP', () => {
    let httpFixture: Awaited<ReturnType<typeof startMcpHttpFixture>>;
    afterEach(async () => {
      await testResources().reset();
      await httpFixture?.close();
    });

    it('calls a tool and returns its structured result through the ai-mcp-tool node', async () => {
      httpFixture = await startMcpHttpFixture();
      const server: McpServerConfig = { name: 'remote', transport: 'http', url: httpFixture.url };
      expect(await callMcpTool(server, 'add', { a: 1, b: 2 }, environment)).toEqual({ text: '3', structured: undefined, isError: false });
      const node = await createTestNode(mcpToolNode, { server, tool: 'lookup', arguments: {} });
      const [out] = await node.input({ payload: { city: 'Lima' } });
      expect(out!.msg).toMatchObject({ payload: { city: 'Lima', population: 700000 }, mcp: { server: 'remote', tool: 'lookup' } });
    });

    it('goes through the outbound guard: a loopback endpoint that is not allow-listed is refused', async () => {
      httpFixture = await startMcpHttpFixture();
      const guarded = createOutboundGuard();
      try {
        const server: McpServerConfig = { name: 'inside', transport: 'http', url: httpFixture.url };
        await expect(callMcpTool(server, 'add', { a: 1, b: 2 }, { servers, outbound: guarded, resources: testResources() })).rejects.toThrow(/MCP server "inside" .*cannot connect: .*refused: a loopback address/);
      } finally {
        await guarded.close();
      }
    });
  });

  it('says which server could not be reached and why', async () => {
    const missing = declaredServers({ broken: { command: '/nonexistent/mcp-server', args: [] } });
    await expect(mcpAgentTools({ name: 'broken', transport: 'stdio' }, undefined, new Set(), { servers: missing, outbound, resources: testResources() })).rejects.toThrow(
      /MCP server "broken" \(declared stdio server\): cannot connect: .*ENOENT/,
    );
    await expect(mcpAgentTools({ name: 'down', transport: 'http', url: 'http://127.0.0.1:1/mcp' }, undefined, new Set(), environment)).rejects.toThrow(/MCP server "down" \(http:\/\/127\.0\.0\.1:1\/mcp\): cannot connect/);
  });
});
