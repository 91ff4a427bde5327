/**
 * A Node-RED subflow's status output: each instance is inlined with a subflow-status node in its place (its id and
 * name), so the flow's status nodes see what the status output receives as the instance's status, and not the inner
 * nodes' own statuses — the translation, and end to end against a real Node-RED 4 that loads the export first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeRedUnderTest, httpExchange, nodeRedInstalled as available, requireNodeRedInCi } from '../testing/node-red.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { STATUS_KINDS, STATUS_TAB, subflowStatusExport } from './fixtures/node-red-subflow-status.ts';
import { importNodeRed } from './node-red.ts';

requireNodeRedInCi();

describe('Node-RED subflow status output: the translation', () => {
  const result = importNodeRed(subflowStatusExport());
  const flow = result.flows.find((f) => f.id === STATUS_TAB)!;
  const node = (id: string) => flow.nodes.find((n) => n.id === id);

  it('inlines the instance: its nodes copied, a subflow-status node with its id and name fed by the status output', () => {
    expect(result.unmapped).toEqual([]);
    expect(result.subflows).toEqual([]);
    expect(result.warnings.filter((w) => w.includes('status'))).toEqual([]);
    expect(node('sfs-in')!.wires).toEqual([['sfs-i-sfs-fn']]);
    expect(node('sfs-i-sfs-fn')!.wires).toEqual([['sfs-res'], ['sfs-i']]);
    expect(node('sfs-i')).toMatchObject({ type: 'subflow-status', name: 'stat' });
    expect(node('sfs-i')!.props).toEqual({ instanceOf: 'subflow:sfs-def' });
    // the status node scoped to the instance watches the reporter only (Node-RED passes no inner status up)
    expect(node('sfs-watch')!.props).toMatchObject({ scope: ['sfs-i'] });
    const note = result.properties.find((p) => p.nodeId === 'sfs-i' && p.property === '')!;
    expect(note.reason).toContain('a status output');
  });

  it('a subflow whose instance a status node watches is inlined too (Node-RED passes its inner statuses up)', () => {
    expect(node('sfs-p-sfs-p-fn')).toMatchObject({ type: 'function', name: 'inner' });
    expect(node('sfs-p-watch')!.props).toMatchObject({ scope: ['sfs-p-sfs-p-fn'] });
    expect(result.properties.find((p) => p.nodeId === 'sfs-p' && p.property === '')!.reason).toContain('a status node watches instance plain');
  });

  it('a status node watching "all" watches every node but the copies of an instance with a status output', () => {
    const scope = (node('sfs-all-watch')!.props as { scope: string[] }).scope;
    expect(scope).toContain('sfs-i');
    expect(scope).toContain('sfs-p-sfs-p-fn');
    expect(scope).not.toContain('sfs-i-sfs-fn');
    expect(scope).not.toContain('sfs-all-watch');
    expect(result.properties.find((p) => p.nodeId === 'sfs-all-watch' && p.property === '/scope')!.reason).toContain('a node added later');
  });
});

let nodeRed: NodeRedUnderTest | undefined;
let flowcrew: TestServer | undefined;

/** Sends each kind in turn, waiting until the status it sets (if any) was kept, and returns what was kept. */
async function statusesOf(base: string): Promise<unknown[]> {
  let expected = 0;
  let seen: unknown[] = [];
  for (const kind of STATUS_KINDS) {
    const answer = await httpExchange(`${base}/set`, { body: { kind } });
    expect(answer).toEqual({ status: 200, body: { kind } });
    if (kind !== 'none') expected++;
    const deadline = Date.now() + 30_000;
    // The status node's run follows the request's: wait for it, never for a fixed time.
    while ((seen = (await httpExchange(`${base}/seen`, { method: 'GET' })).body as unknown[]).length < expected) {
      if (Date.now() > deadline) throw new Error(`the status of "${kind}" was not kept within 30 s: ${JSON.stringify(seen)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return seen;
}

describe.skipIf(!available)('Node-RED subflow status output: compared with a real Node-RED', () => {
  beforeAll(async () => {
    nodeRed = await NodeRedUnderTest.prepare('flowcrew-nodered-sfstatus-');
    await nodeRed.start(subflowStatusExport());
    flowcrew = await startTestServer();
    const url = nodeRed.url;
    await nodeRed.until(() => fetch(`${url}/status/seen`).then((r) => r.ok));
  }, 90_000);

  afterAll(async () => {
    await nodeRed?.stop();
    await flowcrew?.stop();
  });

  it('the flow\'s status node sees the same statuses of the instance, in the same order', async () => {
    const imported = await flowcrew!.api('POST', '/api/v1/flows/import?deploy=true', subflowStatusExport());
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    const expected = await statusesOf(`${nodeRed!.url}/status`);
    const source = { id: 'sfs-i', type: 'subflow:sfs-def', name: 'stat' };
    expect(expected).toEqual([
      { text: 'hello', source },
      { fill: 'green', shape: 'ring', text: 'ok', source },
      { text: '42', source },
      { text: '[ 1, 2, 3 ]', source },
      { text: "{ a: 'xxxxxxxxxxxxxxxxxxxxxxxxxx...", source },
      { fill: 'red', shape: 'dot', text: 'via status', source },
    ]);
    expect(await statusesOf(`${flowcrew!.url}/webhook/status`)).toEqual(expected);
  }, 120_000);

  it('statuses from inside an instance without a status output reach the status nodes watching it, and "all"', async () => {
    const inner = async (base: string): Promise<[unknown[], unknown[]]> => {
      for (const kind of ['a', 'b']) expect(await httpExchange(`${base}/plain`, { body: { kind } })).toEqual({ status: 200, body: { kind } });
      return [await waitFor(`${base}/plainseen`, 2), await waitFor(`${base}/allseen`, 8)];
    };
    const [plainNodeRed, allNodeRed] = await inner(`${nodeRed!.url}/status`);
    // Node-RED names the inner node (an id it generates per instance): ids are compared apart
    expect(plainNodeRed.map(withoutId)).toEqual([{ text: 'saw a', source: { type: 'function', name: 'inner' } }, { text: 'saw b', source: { type: 'function', name: 'inner' } }]);
    const [plainOurs, allOurs] = await inner(`${flowcrew!.url}/webhook/status`);
    expect(plainOurs.map(withoutId)).toEqual(plainNodeRed.map(withoutId));
    // separate runs: compared as sets; no inner status of the instance with a status output in either
    const sorted = (list: unknown[]) => list.map((s) => JSON.stringify(withoutId(s))).sort();
    expect(sorted(allOurs)).toEqual(sorted(allNodeRed));
    expect(allNodeRed.map((s) => JSON.stringify(s)).join()).not.toContain('inner ');
  }, 120_000);
});

const withoutId = (status: unknown) => {
  const { source, ...rest } = status as { source: { id?: string; type: string } };
  return source.type === 'function' ? { ...rest, source: { ...source, id: undefined } } : status;
};

/** The statuses kept at `url` once there are `count` (a status node's run follows the request's: never a fixed wait). */
async function waitFor(url: string, count: number): Promise<unknown[]> {
  const deadline = Date.now() + 30_000;
  let seen: unknown[] = [];
  while ((seen = (await httpExchange(url, { method: 'GET' })).body as unknown[]).length < count) {
    if (Date.now() > deadline) throw new Error(`${url}: ${count} statuses not kept within 30 s: ${JSON.stringify(seen)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return seen;
}
