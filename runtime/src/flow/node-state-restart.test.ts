/**
 * Node-RED nodes that carry state from one message to the next, imported and run on the real runtime, which is
 * stopped and started again (same data directory) in the middle: the state is still there afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';

type Invocation = { nodeId: string; status: string; finishedAt: number | null; outputs?: Array<{ port: number; msg: { payload: unknown } }> };
type Run = { id: string; status: string; createdAt: number; invocations: Invocation[] };

const tab = { id: 'state-tab', type: 'tab', label: 'State across a restart' };
const exported = [
  tab,
  // A rate limit of one message per 8 s, answered at once and delayed behind the answer.
  { id: 'rate-in', type: 'http in', z: tab.id, url: '/rate', method: 'post', x: 100, y: 40, wires: [['rate-ok', 'rate']] },
  { id: 'rate-ok', type: 'http response', z: tab.id, statusCode: '202', headers: {}, x: 300, y: 40, wires: [] },
  { id: 'rate', type: 'delay', z: tab.id, pauseType: 'rate', timeout: '5', timeoutUnits: 'seconds', rate: '1', nbRateUnits: '8', rateUnits: 'second', randomFirst: '1', randomLast: '5', randomUnits: 'seconds', drop: false, allowrate: false, outputs: 1, x: 300, y: 80, wires: [['rate-out']] },
  { id: 'rate-out', type: 'debug', z: tab.id, active: true, complete: 'payload', x: 500, y: 80, wires: [] },
  // A stream split: the unterminated rest waits for the next message.
  { id: 'stream-in', type: 'http in', z: tab.id, url: '/stream', method: 'post', x: 100, y: 140, wires: [['stream-ok', 'stream']] },
  { id: 'stream-ok', type: 'http response', z: tab.id, statusCode: '202', headers: {}, x: 300, y: 140, wires: [] },
  { id: 'stream', type: 'split', z: tab.id, splt: '\\n', spltType: 'str', arraySplt: 1, arraySpltType: 'len', stream: true, addname: '', x: 300, y: 180, wires: [['stream-out']] },
  { id: 'stream-out', type: 'debug', z: tab.id, active: true, complete: 'payload', x: 500, y: 180, wires: [] },
  // CSV with the header row only once.
  { id: 'csv-in', type: 'http in', z: tab.id, url: '/csv', method: 'post', x: 100, y: 240, wires: [['csv']] },
  { id: 'csv', type: 'csv', z: tab.id, sep: ',', hdrin: '', hdrout: 'once', multi: 'one', ret: '\\n', temp: 'a,b', skip: '0', strings: true, include_empty_strings: '', include_null_values: '', x: 300, y: 240, wires: [['csv-out']] },
  { id: 'csv-out', type: 'http response', z: tab.id, statusCode: '', headers: {}, x: 500, y: 240, wires: [] },
];

let dataDir = '';
let server: TestServer;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-node-state-'));
  server = await startTestServer({ dataDir });
  const imported = await server.api('POST', '/api/v1/flows/import?deploy=true', exported);
  expect(imported.status, JSON.stringify(imported.body)).toBe(201);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function post(route: string, body: string, contentType = 'text/plain') {
  const res = await fetch(`${server.url}/webhook${route}`, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: res.status, text: await res.text() };
}

async function runsOf(triggerNodeId: string): Promise<Run[]> {
  const list = (await server.api('GET', `/api/v1/runs?flowId=${tab.id}&limit=100`)).body as Array<{ id: string; triggerNodeId: string }>;
  const mine = list.filter((r) => r.triggerNodeId === triggerNodeId);
  return Promise.all(mine.map(async (r) => (await server.api('GET', `/api/v1/runs/${r.id}`)).body as Run));
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function restart(): Promise<number> {
  await server.stop();
  const at = Date.now();
  server = await startTestServer({ dataDir });
  return at;
}

const step = (run: Run, nodeId: string) => run.invocations.find((i) => i.nodeId === nodeId);

describe('Node-RED node state across a runtime restart', () => {
  it('keeps what waits and what was seen: rate queue order and spacing, stream leftover, csv header sent', async () => {
    // Before the restart: two messages at the rate limit (the first leaves at once), a stream with a rest, a header.
    for (const n of ['1', '2']) expect((await post('/rate', n)).status).toBe(202);
    expect((await post('/stream', 'a\nb')).status).toBe(202);
    expect(await post('/csv', JSON.stringify({ a: 1, b: 2 }), 'application/json')).toEqual({ status: 200, text: 'a,b\n1,2\n' });
    const firstSent = await until('the first rate-limited message', async () => {
      const done = (await runsOf('rate-in')).map((r) => step(r, 'rate')).find((i) => i?.status === 'succeeded');
      return done?.finishedAt ?? undefined;
    });

    const restartedAt = await restart();

    // After: the csv header is not sent again, the stream goes on with its rest.
    expect(await post('/csv', JSON.stringify({ a: 3, b: 4 }), 'application/json')).toEqual({ status: 200, text: '3,4\n' });
    expect((await post('/stream', 'c\n')).status).toBe(202);
    const streamed = await until('the stream split after the restart', async () => {
      const runs = await runsOf('stream-in');
      const outputs = runs.map((r) => step(r, 'stream')).filter((i) => i?.status === 'succeeded').map((i) => i!.outputs!.map((o) => o.msg.payload));
      return outputs.length === 2 ? outputs.sort((x, y) => x.length - y.length || String(x).localeCompare(String(y))) : undefined;
    });
    expect(streamed).toEqual([['a'], ['bc']]);

    // The queued message leaves after the restart, spaced from the one sent before it (the queue's order across a
    // restart is tested on the node: delay-restart.test.ts).
    const finished = await until('the queued messages', async () => {
      const runs = await runsOf('rate-in');
      if (!runs.every((r) => r.status === 'succeeded')) return undefined;
      return runs.map((r) => [step(r, 'rate')!.outputs![0]!.msg.payload, step(r, 'rate')!.finishedAt!] as const).sort((x, y) => x[1] - y[1]);
    });
    expect(finished.map(([payload]) => payload)).toEqual(['1', '2']);
    expect(finished[1]![1]).toBeGreaterThan(restartedAt);
    // The spacing counted on from the last message before the restart. A fresh limit sends "2" as soon as its run
    // resumes: measured 3.4–4.5 s after "1" here (restart + resume), well under the 8 s spacing.
    expect(finished[1]![1] - firstSent).toBeGreaterThanOrEqual(7500);
  }, 60_000);
});
