/**
 * Node-RED's http in with "do not parse the body" (skipBodyParsing), imported: any Content-Type, or none, is taken as
 * it is (no 415), nothing is parsed, and msg.payload is the body's bytes (base64 text: messages are JSON, see
 * node-red-differences.md "Bytes"). Without the option the same route parses by type and refuses other types.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';

const exported = (skipBodyParsing: unknown) => [
  { id: 'raw-tab', type: 'tab', label: 'raw bodies' },
  { id: 'raw-in', type: 'http in', z: 'raw-tab', url: '/raw', method: 'post', upload: false, skipBodyParsing, swaggerDoc: '', wires: [['raw-out']] },
  { id: 'raw-out', type: 'http response', z: 'raw-tab', statusCode: '', headers: {}, wires: [] },
  { id: 'parsed-in', type: 'http in', z: 'raw-tab', url: '/parsed', method: 'post', upload: false, skipBodyParsing: false, swaggerDoc: '', wires: [['parsed-out']] },
  { id: 'parsed-out', type: 'http response', z: 'raw-tab', statusCode: '', headers: {}, wires: [] },
];

let server: TestServer;
let imported: { status: number; body: any };

beforeAll(async () => {
  server = await startTestServer();
  // Node-RED's editor stores the checkbox as a boolean; older exports as a string.
  imported = await server.api('POST', '/api/v1/flows/import?deploy=true', exported('true'));
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

const post = (path: string, body: Buffer | string | undefined, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/webhook${path}`, { method: 'POST', headers, body: typeof body === 'string' || body === undefined ? body : new Uint8Array(body) }).then(async (r) => ({ status: r.status, text: await r.text() }));

describe('http in with skipBodyParsing, imported from Node-RED', () => {
  it('is kept on import (a boolean), not dropped or ignored', () => {
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    const notes = (imported.body.properties as Array<{ nodeId: string; property: string; action: string }>).filter((n) => n.nodeId === 'raw-in' && n.property === '/skipBodyParsing');
    expect(notes).toEqual([expect.objectContaining({ action: 'translated' })]);
  });

  it('hands the bytes on unparsed, whatever the Content-Type, or with none', async () => {
    const bytes = Buffer.from([0xff, 0x00, 0x41, 0x7b]);
    expect(await post('/raw', bytes, { 'content-type': 'application/octet-stream' })).toEqual({ status: 200, text: bytes.toString('base64') });
    expect(await post('/raw', '{"not":"parsed"', { 'content-type': 'application/json' })).toEqual({ status: 200, text: Buffer.from('{"not":"parsed"').toString('base64') });
    expect(await post('/raw', bytes, { 'content-type': 'image/png' })).toEqual({ status: 200, text: bytes.toString('base64') });
    expect(await post('/raw', bytes)).toEqual({ status: 200, text: bytes.toString('base64') });
    expect(await post('/raw', undefined)).toEqual({ status: 200, text: '' });
  });

  it('still refuses a body over the size limit', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 1);
    expect((await post('/raw', big, { 'content-type': 'application/octet-stream' })).status).toBe(413);
  });

  it('without it, the body is parsed by its type and other types are refused', async () => {
    expect(await post('/parsed', '{"a":1}', { 'content-type': 'application/json' })).toEqual({ status: 200, text: '{"a":1}' });
    expect((await post('/parsed', Buffer.from([1, 2]), { 'content-type': 'image/png' })).status).toBe(415);
  });
});
