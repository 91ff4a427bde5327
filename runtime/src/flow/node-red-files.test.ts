/**
 * Node-RED's file, file in and watch nodes imported onto the local file nodes: the property variants of real exports,
 * the variants left unmapped (with the reason), and the imported nodes running on the real runtime inside its files
 * directory (<data dir>/files): writing, appending, reading, deleting, watching, and nothing reached outside it.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import coreNodes from '@flowcrew/nodes-core';
import { nodes as fileNodes } from '@flowcrew/nodes-files';
import { NodeRegistry } from '../registry/registry.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { importNodeRed } from './node-red.ts';
import { validateFlow } from './validate.ts';

const registry = new NodeRegistry();
registry.register(fileNodes, '@flowcrew/nodes-files');
// an imported watch is followed by a change node giving its message Node-RED's shape
registry.register(coreNodes, '@flowcrew/nodes-core');

function importOne(node: Record<string, unknown>) {
  const result = importNodeRed([{ id: 'tab', type: 'tab', label: 'T' }, { id: 'n1', z: 'tab', x: 100, y: 100, wires: [[]], ...node }]);
  const flowNode = result.flows[0]?.nodes.find((n) => n.id === 'n1');
  if (flowNode) {
    const validated = validateFlow(result.flows[0]!, registry);
    expect(validated.issues, JSON.stringify(validated.issues)).toEqual([]);
  }
  return { node: flowNode, unmapped: result.unmapped };
}

describe('file nodes: property variants', () => {
  it.each([
    ['file: append with newline (Node-RED defaults)', { type: 'file', filename: '/data/log.txt', filenameType: 'str', appendNewline: true, createDir: false, overwriteFile: 'false', encoding: 'none' }, { type: 'local-file', props: { operation: 'write', path: '/data/log.txt', mode: 'append', appendNewline: true, createDirs: false, encoding: 'utf8', passThrough: true } }],
    ['file 0.x: file name from msg.filename, overwrite as a boolean', { type: 'file', filename: '', appendNewline: 'false', createDir: 'true', overwriteFile: true }, { type: 'local-file', props: { operation: 'write', path: '', mode: 'overwrite', appendNewline: false, createDirs: true } }],
    ['file: delete', { type: 'file', filename: 'old.txt', filenameType: 'str', overwriteFile: 'delete', encoding: 'none' }, { type: 'local-file', props: { operation: 'delete', path: 'old.txt', missingOk: true, passThrough: true } }],
    ['file: base64 content', { type: 'file', filename: 'b.bin', overwriteFile: 'true', encoding: 'base64' }, { type: 'local-file', props: { operation: 'write', encoding: 'base64' } }],
    ['file in: utf8 string, Node-RED 3 msg.filename', { type: 'file in', filename: 'filename', filenameType: 'msg', format: 'utf8', chunk: false, sendError: false, encoding: 'none', allProps: false }, { type: 'local-file', props: { operation: 'read', path: '', output: 'text' } }],
    ['file in: a single Buffer', { type: 'file in', filename: '/x.bin', format: '', chunk: false, sendError: false }, { type: 'local-file', props: { operation: 'read', path: '/x.bin', output: 'base64' } }],
    ['watch: a directory, recursive as a string', { type: 'watch', files: '/home/pi/incoming', recursive: 'true' }, { type: 'local-file-watch', props: { path: '/home/pi/incoming', recursive: true, events: ['add', 'change'] } }],
    ['watch: one file', { type: 'watch', files: ' /var/log/app.log ', recursive: '' }, { type: 'local-file-watch', props: { path: '/var/log', pattern: 'app.log' } }],
  ])('%s', (_title, node, expected) => {
    const { node: imported, unmapped } = importOne(node);
    expect(unmapped).toEqual([]);
    expect(imported).toMatchObject(expected);
  });

  it.each([
    ['file in, one message per line', { type: 'file in', filename: 'a.txt', format: 'lines' }, /one message per line/],
    ['file in, legacy chunk', { type: 'file in', filename: 'a.txt', chunk: true, format: 'utf8' }, /one message per line/],
    ['file in, a stream of buffers', { type: 'file in', filename: 'a.txt', format: 'stream' }, /stream of buffer chunks/],
    ['file, file name from flow context', { type: 'file', filename: 'target', filenameType: 'flow', overwriteFile: 'true' }, /comes from flow "target"/],
    ['file, latin1', { type: 'file', filename: 'a.txt', overwriteFile: 'true', encoding: 'latin1' }, /encoding "latin1"/],
    ['watch, two paths', { type: 'watch', files: '/a,/b' }, /watches 2 paths/],
  ])('%s: unmapped, with the reason', (_title, node, reason) => {
    const { node: imported, unmapped } = importOne(node);
    expect(imported).toBeUndefined();
    expect(unmapped).toEqual([expect.objectContaining({ id: 'n1', type: node.type, reason: expect.stringMatching(reason) })]);
  });
});

describe('file nodes on the runtime', () => {
  let server: TestServer;
  const tab = { id: 'files-tab', type: 'tab', label: 'Files' };
  const exported = [
    tab,
    { id: 'w-in', type: 'http in', z: tab.id, url: '/log', method: 'post', x: 100, y: 40, wires: [['w']] },
    { id: 'w', type: 'file', z: tab.id, filename: '/logs/app.log', filenameType: 'str', appendNewline: true, createDir: true, overwriteFile: 'false', encoding: 'none', x: 300, y: 40, wires: [['w-res']] },
    { id: 'w-res', type: 'http response', z: tab.id, statusCode: '', headers: {}, x: 500, y: 40, wires: [] },
    { id: 'r-in', type: 'http in', z: tab.id, url: '/read', method: 'post', x: 100, y: 100, wires: [['r-name']] },
    { id: 'r-name', type: 'change', z: tab.id, rules: [{ t: 'set', p: 'filename', pt: 'msg', to: 'payload.name', tot: 'msg' }], x: 200, y: 100, wires: [['r']] },
    { id: 'r', type: 'file in', z: tab.id, filename: '', format: 'utf8', chunk: false, sendError: false, encoding: 'none', x: 300, y: 100, wires: [['r-res']] },
    { id: 'r-res', type: 'http response', z: tab.id, statusCode: '', headers: {}, x: 500, y: 100, wires: [] },
    { id: 'd-in', type: 'http in', z: tab.id, url: '/delete', method: 'post', x: 100, y: 160, wires: [['d']] },
    { id: 'd', type: 'file', z: tab.id, filename: '/logs/app.log', overwriteFile: 'delete', x: 300, y: 160, wires: [['d-res']] },
    { id: 'd-res', type: 'http response', z: tab.id, statusCode: '', headers: {}, x: 500, y: 160, wires: [] },
    { id: 'watch', type: 'watch', z: tab.id, files: '/incoming', recursive: false, x: 100, y: 220, wires: [['seen']] },
    { id: 'seen', type: 'debug', z: tab.id, active: true, complete: 'true', x: 300, y: 220, wires: [] },
  ];

  beforeAll(async () => {
    server = await startTestServer();
    // The watched directory exists before the deploy (as in Node-RED, which watches what is there).
    await mkdir(path.join(server.dataDir, 'files', 'incoming'), { recursive: true });
    const imported = await server.api('POST', '/api/v1/flows/import?deploy=true', exported);
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body.unmapped).toEqual([]);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  const post = async (route: string, body: unknown) => {
    const res = await fetch(`${server.url}/webhook${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.text()) as string };
  };

  it('appends lines inside the files directory and passes the message on; reads it back; deletes it', async () => {
    expect(await post('/log', { line: 1 })).toEqual({ status: 200, body: '{"line":1}' });
    expect(await post('/log', { line: 2 })).toEqual({ status: 200, body: '{"line":2}' });
    expect(await readFile(path.join(server.dataDir, 'files', 'logs', 'app.log'), 'utf8')).toBe('{"line":1}\n{"line":2}\n');
    // msg.filename names the file read (a leading / is the files directory's root).
    expect(await post('/read', { name: '/logs/app.log' })).toEqual({ status: 200, body: '{"line":1}\n{"line":2}\n' });
    expect(await post('/delete', { any: 'thing' })).toEqual({ status: 200, body: '{"any":"thing"}' });
    await expect(readFile(path.join(server.dataDir, 'files', 'logs', 'app.log'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reaches nothing outside the files directory', async () => {
    await writeFile(path.join(server.dataDir, 'secret.txt'), 'not for flows');
    const escaped = await post('/read', { name: '../secret.txt' });
    expect(escaped.status).toBeGreaterThanOrEqual(500);
    expect(escaped.body).not.toContain('not for flows');
    const runs = (await server.api('GET', '/api/v1/runs?flowId=files-tab&limit=50')).body as Array<{ id: string; status: string }>;
    const failed = await Promise.all(runs.filter((r) => r.status === 'failed').map(async (r) => (await server.api('GET', `/api/v1/runs/${r.id}`)).body));
    expect(JSON.stringify(failed)).toMatch(/refused/);
  });

  it('starts a run for a file that appears in the watched directory', async () => {
    await writeFile(path.join(server.dataDir, 'files', 'incoming', 'order.csv'), 'a,b\n1,2\n');
    let seen: { invocations: Array<{ nodeId: string; outputs?: Array<{ msg: Record<string, unknown> }> }> } | undefined;
    for (let i = 0; i < 200 && !seen; i++) {
      const runs = (await server.api('GET', '/api/v1/runs?flowId=files-tab&limit=50')).body as Array<{ id: string; triggerNodeId: string; status: string }>;
      const run = runs.find((r) => r.triggerNodeId === 'watch' && r.status === 'succeeded');
      if (run) seen = (await server.api('GET', `/api/v1/runs/${run.id}`)).body;
      else await new Promise((r) => setTimeout(r, 100));
    }
    const started = seen?.invocations.find((i) => i.nodeId === 'watch');
    expect(started?.outputs?.[0]?.msg).toMatchObject({ filename: 'incoming/order.csv', event: 'add', payload: { name: 'order.csv', size: 8 } });
    // then Node-RED's shape (node-red-watch.test.ts compares it with a real Node-RED)
    const shaped = seen?.invocations.find((i) => i.nodeId === 'watch-msg');
    expect(shaped?.outputs?.[0]?.msg).toMatchObject({ payload: '/incoming/order.csv', filename: '/incoming/order.csv', topic: '/incoming', file: 'order.csv', size: 8, type: 'file', event: 'update' });
  });
});
