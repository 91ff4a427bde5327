import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { declaredMcpServers, loadDeclarations, McpServersFileError, parseDeclarations } from './declared-servers.ts';

const dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-mcp-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('administrator-declared MCP servers', () => {
  it('reads JSON and YAML, and none without a file', async () => {
    const yaml = path.join(dir, 'servers.yaml');
    await writeFile(yaml, 'files:\n  command: /usr/bin/mcp-files\n  args: ["/srv"]\n  env:\n    TOKEN: { credential: c1, field: token }\n');
    expect(await loadDeclarations(yaml)).toEqual({ files: { command: '/usr/bin/mcp-files', args: ['/srv'], env: { TOKEN: { credential: 'c1', field: 'token' } } } });
    const json = path.join(dir, 'servers.json');
    await writeFile(json, JSON.stringify({ calc: { command: 'node' } }));
    expect(await loadDeclarations(json)).toEqual({ calc: { command: 'node' } });
    expect(await loadDeclarations(null)).toEqual({});
  });

  it('says what is wrong in a declaration file, with pointers', async () => {
    expect(() => parseDeclarations({ 'bad name': { command: 'x' } }, 'f.json')).toThrow(McpServersFileError);
    expect(() => parseDeclarations({ files: { args: [] } }, 'f.json')).toThrow(/f\.json are invalid: \/files must have required property 'command'/);
    expect(() => parseDeclarations({ files: { command: 'x', shell: true } }, 'f.json')).toThrow(/must NOT have additional properties \(shell\)/);
    const broken = path.join(dir, 'broken.json');
    await writeFile(broken, '{');
    await expect(loadDeclarations(broken)).rejects.toThrow(/broken\.json is not valid JSON/);
    await expect(loadDeclarations(path.join(dir, 'missing.json'))).rejects.toThrow(/FLOWCREW_MCP_SERVERS: cannot read/);
  });

  it('resolves a server: declared env only, vault values read at start and listed as secrets', async () => {
    const vault: Record<string, Record<string, unknown>> = { c1: { token: 'tok-from-vault-1' } };
    const servers = declaredMcpServers({ files: { command: '/usr/bin/mcp-files', args: ['/srv'], cwd: '/srv', env: { TOKEN: { credential: 'c1', field: 'token' }, API_KEY: 'inline-key-123', MODE: 'ro' } } }, async (id) => vault[id]);
    expect(servers.names()).toEqual(['files']);
    expect(await servers.resolve('files')).toEqual({
      name: 'files',
      command: '/usr/bin/mcp-files',
      args: ['/srv'],
      cwd: '/srv',
      env: { TOKEN: 'tok-from-vault-1', API_KEY: 'inline-key-123', MODE: 'ro' },
      secrets: ['tok-from-vault-1', 'inline-key-123'],
    });
    vault.c1 = { token: 'tok-rotated-2' };
    expect((await servers.resolve('files')).env.TOKEN).toBe('tok-rotated-2');
  });

  it('refuses an undeclared name, a missing credential and a missing field, clearly', async () => {
    const servers = declaredMcpServers({ a: { command: 'x', env: { T: { credential: 'gone', field: 'token' } } }, b: { command: 'x', env: { T: { credential: 'c1', field: 'nope' } } } }, async (id) => (id === 'c1' ? { token: 't' } : undefined));
    await expect(servers.resolve('shell')).rejects.toThrow('MCP server "shell" is not declared; declared servers: a, b');
    await expect(servers.resolve('__proto__')).rejects.toThrow(/is not declared/);
    await expect(servers.resolve('a')).rejects.toThrow('MCP server "a": env T names credential "gone", which does not exist');
    await expect(servers.resolve('b')).rejects.toThrow('MCP server "b": env T: credential "c1" has no text field "nope"');
  });
});
