/**
 * Node-RED's watch node imported (a local file trigger confined to FLOWCREW_FILES_DIR, then a change node giving its
 * message Node-RED's shape), compared with a real Node-RED 4 watching a directory of its own: a file written into each
 * watched directory gives the same message. Accepted difference: Node-RED's paths are absolute on its host, ours are
 * below the files directory ("/" its root), so Node-RED's directory prefix is taken off before comparing.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeRedUnderTest, httpExchange, nodeRedInstalled, requireNodeRedInCi } from '../testing/node-red.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';

requireNodeRedInCi();

/** watch → keep the message in flow context; GET /watch/last answers with it. */
const exported = (dir: string) => {
  const z = 'b7e1c2d3a4f50001';
  return [
    { id: z, type: 'tab', label: 'Watch', disabled: false, info: '', env: [] },
    { id: 'b7e1c2d3a4f50002', type: 'watch', z, name: '', files: dir, recursive: '', x: 110, y: 80, wires: [['b7e1c2d3a4f50003']] },
    { id: 'b7e1c2d3a4f50003', type: 'function', z, name: 'keep', func: 'flow.set("last", { payload: msg.payload, topic: msg.topic, file: msg.file, filename: msg.filename, size: msg.size, type: msg.type, event: msg.event });\nreturn null;', outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x: 300, y: 80, wires: [[]] },
    { id: 'b7e1c2d3a4f50004', type: 'http in', z, name: '', url: '/watch/last', method: 'get', upload: false, swaggerDoc: '', x: 120, y: 160, wires: [['b7e1c2d3a4f50005']] },
    { id: 'b7e1c2d3a4f50005', type: 'change', z, name: '', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'last', tot: 'flow' }], action: '', property: '', from: '', to: '', reg: false, x: 300, y: 160, wires: [['b7e1c2d3a4f50006']] },
    { id: 'b7e1c2d3a4f50006', type: 'http response', z, name: '', statusCode: '', headers: {}, x: 480, y: 160, wires: [] },
  ];
};

let flowcrew: TestServer;
let nodeRed: NodeRedUnderTest | undefined;

beforeAll(async () => {
  if (nodeRedInstalled) {
    nodeRed = await NodeRedUnderTest.prepare('flowcrew-nodered-watch-');
    await mkdir(path.join(nodeRed.userDir, 'incoming'));
    await nodeRed.start(exported(path.join(nodeRed.userDir, 'incoming')));
  }
  flowcrew = await startTestServer();
  await mkdir(path.join(flowcrew.dataDir, 'files', 'incoming'), { recursive: true });
  const imported = await flowcrew.api('POST', '/api/v1/flows/import?deploy=true', exported('/incoming'));
  expect(imported.status, JSON.stringify(imported.body)).toBe(201);
  expect(imported.body.unmapped).toEqual([]);
  await nodeRed?.until(() => fetch(`${nodeRed!.url}/watch/last`).then((r) => r.ok));
}, 90_000);

afterAll(async () => {
  await nodeRed?.stop();
  await flowcrew?.stop();
});

/** The last watch message an endpoint kept once it reports `size` bytes (a write may be seen before its content). */
async function lastMessage(base: string, size: number): Promise<Record<string, unknown>> {
  for (let i = 0; i < 300; i++) {
    const { body } = await httpExchange(`${base}/watch/last`, { method: 'GET' });
    if (body && typeof body === 'object' && (body as { size?: number }).size === size) return body as Record<string, unknown>;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${base}: no watch message with size ${size}`);
}

describe('watch: a new file in the watched directory', () => {
  it('gives Node-RED\'s message shape (payload and filename the path, topic, file, size, type, event)', async () => {
    await writeFile(path.join(flowcrew.dataDir, 'files', 'incoming', 'order.csv'), 'a,b\n1,2\n');
    expect(await lastMessage(`${flowcrew.url}/webhook`, 8)).toEqual({ payload: '/incoming/order.csv', topic: '/incoming', file: 'order.csv', filename: '/incoming/order.csv', size: 8, type: 'file', event: 'update' });
  });

  it.skipIf(!nodeRedInstalled)('answers as a real Node-RED 4 (its host directory taken off its paths)', async () => {
    await writeFile(path.join(nodeRed!.userDir, 'incoming', 'order.csv'), 'a,b\n1,2\n');
    const expected = JSON.parse(JSON.stringify(await lastMessage(nodeRed!.url, 8)).split(nodeRed!.userDir).join(''));
    expect(await lastMessage(`${flowcrew.url}/webhook`, 8)).toEqual(expected);
  });
});
