/**
 * The calling tab's variables inside a library sub-flow, compared with a real Node-RED 4: one subflow used from two
 * tabs with different variables (and through another subflow) reads, inside, the instance's variables, then the
 * calling tab's, then the global ones — with `$env()`, env typed values and `env.get()` — in both systems.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeRedUnderTest, httpExchange, nodeRedInstalled, requireNodeRedInCi } from '../testing/node-red.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { subflowEnvExport } from './fixtures/node-red-subflow-env.ts';

requireNodeRedInCi();

let flowcrew: TestServer;
let nodeRed: NodeRedUnderTest | undefined;

beforeAll(async () => {
  if (nodeRedInstalled) {
    nodeRed = await NodeRedUnderTest.prepare('flowcrew-nodered-sfenv-');
    await nodeRed.start(subflowEnvExport());
  }
  flowcrew = await startTestServer();
  const imported = await flowcrew.api('POST', '/api/v1/flows/import?deploy=true', subflowEnvExport());
  expect(imported.status, JSON.stringify(imported.body)).toBe(201);
  expect(imported.body.unmapped).toEqual([]);
  await nodeRed?.until(() => fetch(`${nodeRed!.url}/sfenv/south`).then((r) => r.ok));
}, 90_000);

afterAll(async () => {
  await nodeRed?.stop();
  await flowcrew?.stop();
});

const ask = (route: string) => httpExchange(`${flowcrew.url}/webhook${route}`, { method: 'GET' });

describe('a library sub-flow reads the calling tab\'s variables', () => {
  it('each tab\'s call sees its own tab\'s variables, then the global ones, after the instance\'s', async () => {
    const north = await ask('/sfenv/north');
    expect(north.status).toBe(200);
    expect(north.body).toMatchObject({ region: 'north', site: 'plant-7', limit: 5, tags: ['a', 'b'], unit: 'lb', flow: 'North', instance: 'north stamp', typed: 5, text: 'lb@north' });
    expect((north.body as { fn: unknown }).fn).toEqual({ region: 'north', limit: 5, tags: ['a', 'b'], unit: 'lb', flow: 'North' });
    const south = await ask('/sfenv/south');
    expect(south.body).toMatchObject({ region: 'south', site: 'plant-7', unit: 'kg', flow: 'South', text: 'kg@south' });
    // through another sub-flow: its variables (PREFIX) and, above it, the tab's
    const nested = await ask('/sfenv/south-nested');
    expect(nested.body).toMatchObject({ region: 'south', prefix: 'p', unit: 'kg', flow: 'South', instance: 'inner stamp' });
    // in a group: the group's variables after the instance's (UNIT stays the subflow's default), before the tab's
    expect((await ask('/sfenv/north-grouped')).body).toMatchObject({ region: 'north-group', zone: 'z-1', unit: 'kg', limit: 5, flow: 'North' });
  });

  it.skipIf(!nodeRedInstalled).each(['/sfenv/north', '/sfenv/south', '/sfenv/south-nested', '/sfenv/north-grouped'])('%s answers as on Node-RED', async (route) => {
    const expected = await httpExchange(`${nodeRed!.url}${route}`, { method: 'GET' });
    expect(expected.status).toBe(200);
    expect(await ask(route)).toEqual(expected);
  });
});
