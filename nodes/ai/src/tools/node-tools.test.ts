import { describe, expect, it } from 'vitest';
import type { ToolDescription } from '@flowcrew/sdk';
import { buildNodeTool } from './node-tools.ts';

const http: ToolDescription = {
  type: 'http-request',
  label: 'HTTP request',
  description: 'Send an HTTP request',
  parameters: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { url: { type: 'string' }, method: { enum: ['GET', 'POST'] }, headers: { type: 'object' } }, required: ['url', 'method'] },
};

describe('node types as agent tools', () => {
  it('uses the props schema as parameters, minus the props the author fixed, under a provider-safe unique name', () => {
    const taken = new Set<string>();
    const a = buildNodeTool({ type: 'http-request', props: { method: 'GET', headers: {} } }, [http], taken);
    const b = buildNodeTool({ type: 'http-request', name: 'call api!' }, [http], taken);
    const c = buildNodeTool({ type: 'http-request' }, [http], taken);
    expect(a.spec).toEqual({ name: 'http-request', description: 'Send an HTTP request', parameters: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] } });
    expect(b.spec.name).toBe('call_api');
    expect(c.spec.name).toBe('http-request_2');
  });

  it('merges fixed props over the model\'s arguments and passes the credential and label', async () => {
    const tool = buildNodeTool({ type: 'http-request', name: 'status', props: { method: 'GET' }, credentials: 'cred-1' }, [http], new Set());
    const calls: unknown[] = [];
    const text = await tool.invoke({ url: 'https://x', method: 'POST' }, { signal: new AbortController().signal, callTool: async (call) => (calls.push(call), [{ payload: 'ok' }]) });
    expect(text).toBe('ok');
    expect(calls).toEqual([{ type: 'http-request', props: { url: 'https://x', method: 'GET' }, credentials: 'cred-1', label: 'status' }]);
  });

  it('caps a huge tool result before it reaches the model', async () => {
    const tool = buildNodeTool({ type: 'http-request' }, [http], new Set());
    const text = await tool.invoke({}, { signal: new AbortController().signal, callTool: async () => [{ payload: 'x'.repeat(10_000) }] });
    expect(text.length).toBeLessThan(8100);
    expect(text).toMatch(/\[truncated 2000 characters\]$/);
  });

  it('never lets a model choose an MCP server command line', () => {
    const mcp: ToolDescription = { type: 'ai-mcp-tool', label: 'MCP tool', description: 'Call an MCP tool', parameters: { type: 'object', properties: {} } };
    expect(() => buildNodeTool({ type: 'ai-mcp-tool' }, [mcp], new Set())).toThrow(/give agents MCP tools through the node's mcpServers/);
  });
});
