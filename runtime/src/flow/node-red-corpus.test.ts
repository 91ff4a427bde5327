/**
 * A new user's first hour: every Node-RED export the repository has (the comparison tests' exports, the flow library
 * shapes, and exports written as Node-RED 0.20 to 4.0 save them) imported with deploy one after the other into ONE
 * runtime. Each must import and deploy, or be refused with a reason naming the node; every node left out is listed
 * with its reason. The exports answering HTTP also run on a real Node-RED 4, and both must answer the same.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { NodeRedUnderTest, freePort, httpExchange, nodeRedInstalled, requireNodeRedInCi } from '../testing/node-red.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { eventsExport } from './fixtures/node-red-compat-events.ts';
import { netExport } from './fixtures/node-red-compat-net.ts';
import { dashboardFlow, nodeRed0Counter, nodeRed1Greeting, nodeRed2Readings, nodeRed3Totals, nodeRed4Site } from './fixtures/node-red-corpus.ts';
import { envContextExport } from './fixtures/node-red-env-context.ts';
import { envExport } from './fixtures/node-red-env.ts';
import { httpRequestExport } from './fixtures/node-red-http-request.ts';
import { inlineExport } from './fixtures/node-red-inline.ts';
import { fileProcessing, forumRelay, mqttSensors, restApi, schedules } from './fixtures/node-red-library.ts';
import { subflowStatusExport } from './fixtures/node-red-subflow-status.ts';
import { nestedExport, subflowExport } from './fixtures/node-red-subflows.ts';
import { variantsExport } from './fixtures/node-red-variants.ts';

requireNodeRedInCi();

type Outcome = 'deployed' | 'refused';

/** What each export does on a runtime with default settings, and why where it is refused. */
async function corpus(): Promise<Array<{ name: string; nodes: unknown[]; expected: Outcome }>> {
  const port = await freePort();
  const compat = JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures', 'node-red-compat.json'), 'utf8')) as unknown[];
  return [
    { name: 'comparison corpus (25 core node types)', nodes: compat, expected: 'deployed' },
    { name: 'property variants', nodes: variantsExport(), expected: 'deployed' },
    { name: 'http request variants', nodes: httpRequestExport(port), expected: 'deployed' },
    // the MQTT broker's user and password are not in an export: deploy asks for the credential
    { name: 'inject/debug/status/mqtt events', nodes: eventsExport({ prefix: 'corpus', collector: port }), expected: 'refused' },
    // exec runs only commands an administrator allows (FLOWCREW_EXEC_COMMANDS, empty by default)
    { name: 'network and exec nodes', nodes: netExport({ tcp: await freePort(), udp: await freePort(), echo: port, http: port, dir: '/corpus' }), expected: 'refused' },
    { name: 'tab variables', nodes: envExport(), expected: 'deployed' },
    { name: 'tab variables reading context', nodes: envContextExport(), expected: 'deployed' },
    { name: 'subflows inlined', nodes: inlineExport(), expected: 'deployed' },
    { name: 'subflows into the library', nodes: subflowExport(), expected: 'deployed' },
    { name: 'nested subflows', nodes: nestedExport(), expected: 'deployed' },
    { name: 'subflow status output', nodes: subflowStatusExport(), expected: 'deployed' },
    { name: 'REST API snippet', nodes: restApi(), expected: 'deployed' },
    // imported again as a copy (Node-RED does the same); deployed beside the first, its routes would be taken twice
    { name: 'the same REST API snippet again', nodes: restApi(), expected: 'refused' },
    { name: 'MQTT sensors', nodes: mqttSensors(), expected: 'refused' },
    { name: 'CSV file processing', nodes: fileProcessing(), expected: 'deployed' },
    { name: 'forum relay (0.x shapes)', nodes: forumRelay(), expected: 'deployed' },
    { name: 'schedules', nodes: schedules(), expected: 'deployed' },
    { name: 'Node-RED 0.20 counter', nodes: nodeRed0Counter(), expected: 'deployed' },
    { name: 'Node-RED 1.3 greeting', nodes: nodeRed1Greeting(), expected: 'deployed' },
    { name: 'Node-RED 2.2 readings', nodes: nodeRed2Readings(), expected: 'deployed' },
    { name: 'Node-RED 3.1 totals', nodes: nodeRed3Totals(), expected: 'deployed' },
    { name: 'Node-RED 4.0 global variables', nodes: nodeRed4Site(), expected: 'deployed' },
    { name: 'Node-RED 4.0 dashboard', nodes: dashboardFlow(), expected: 'deployed' },
  ];
}

let flowcrew: TestServer;
let nodeRed: NodeRedUnderTest | undefined;

beforeAll(async () => {
  if (nodeRedInstalled) {
    nodeRed = await NodeRedUnderTest.prepare('flowcrew-nodered-corpus-');
    await nodeRed.start([...nodeRed1Greeting(), ...nodeRed2Readings(), ...nodeRed3Totals(), ...nodeRed4Site()]);
  }
  flowcrew = await startTestServer();
  const url = nodeRed?.url;
  if (url) await nodeRed!.until(() => fetch(`${url}/corpus/site`).then((r) => r.ok));
}, 90_000);

afterAll(async () => {
  await nodeRed?.stop();
  await flowcrew?.stop();
});

describe('every Node-RED export, imported one after the other into one runtime', () => {
  it('each imports and deploys, or is refused with a reason naming the node; nodes left out are listed with a reason', async () => {
    const outcomes: string[] = [];
    for (const entry of await corpus()) {
      const answer = await flowcrew.api('POST', '/api/v1/flows/import?deploy=true', entry.nodes);
      const body = answer.body as { flows?: Array<{ deployed: boolean }>; unmapped?: Array<{ id: string; type: string; reason: string }>; errors?: Array<{ pointer: string; message: string; nodeId?: string }> };
      for (const u of body.unmapped ?? []) expect(u.reason, `${entry.name}: ${u.type} ${u.id}`).toMatch(/\w{3,}/);
      if (answer.status === 201) {
        expect(body.flows!.every((f) => f.deployed), entry.name).toBe(true);
        outcomes.push(`${entry.name}: deployed`);
        continue;
      }
      expect(answer.status, `${entry.name}: ${JSON.stringify(body)}`).toBe(422);
      for (const issue of body.errors ?? []) expect(issue.nodeId ?? issue.pointer, `${entry.name}: ${issue.message}`).toMatch(/\/nodes\/\d+|^[^/]/);
      expect(body.errors?.length, entry.name).toBeGreaterThan(0);
      // refused to deploy, not to import: stored without deploy, the user attaches what is missing
      const stored = await flowcrew.api('POST', '/api/v1/flows/import', entry.nodes);
      expect(stored.status, `${entry.name} without deploy: ${JSON.stringify(stored.body)}`).toBe(201);
      outcomes.push(`${entry.name}: refused — ${body.errors!.map((i) => i.message).join('; ')}`);
    }
    const expected = (await corpus()).map((e) => `${e.name}: ${e.expected}`);
    expect(outcomes.map((o) => o.split(' — ')[0])).toEqual(expected);
    const refusals = outcomes.filter((o) => o.includes('refused')).join('\n');
    for (const reason of ['needs a credential of type "mqtt"', 'FLOWCREW_EXEC_COMMANDS', 'webhook GET /webhook/lib/items is already registered by another node']) expect(refusals).toContain(reason);
  }, 180_000);

  it("a dashboard flow: its ui_* nodes and configuration are listed (the modules it was made with named), the rest runs", async () => {
    const answer = await flowcrew.api('POST', '/api/v1/flows/import', dashboardFlow().map((n) => ({ ...n, ...(n.type === 'tab' ? { id: 'dash-copy' } : n.z ? { z: 'dash-copy', id: `${String(n.id)}-2` } : { id: `${String(n.id)}-2` }) })));
    expect(answer.status).toBe(201);
    const unmapped = (answer.body.unmapped as Array<{ type: string; reason: string }>).map((u) => `${u.type}: ${u.reason.split(':')[0]}`).sort();
    expect(unmapped).toEqual([
      'ui_base: configuration node (ui_base)',
      'ui_button: Node-RED node type "ui_button" has no Flowcrew equivalent',
      'ui_group: configuration node (ui_group)',
      'ui_tab: configuration node (ui_tab)',
      'ui_text: Node-RED node type "ui_text" has no Flowcrew equivalent',
    ]);
    expect(answer.body.warnings).toContainEqual(expect.stringContaining('made with Node-RED modules node-red-dashboard@3.6.5'));
  });
});

describe.skipIf(!nodeRedInstalled)('the exports answering HTTP, compared with a real Node-RED 4', () => {
  it.each([
    ['1.3: function + template + query', 'GET', '/corpus/hello?name=Ada', undefined],
    ['1.3: without the query', 'GET', '/corpus/hello', undefined],
    ['2.2: switch (high) through a link', 'POST', '/corpus/reading', { value: 12 }],
    ['2.2: switch (else) through a link', 'POST', '/corpus/reading', { value: 3 }],
    ['3.1: junction + link call into a group + return', 'POST', '/corpus/total', { items: [{ qty: 2, price: 1.5 }, { qty: 1, price: 4 }] }],
    ['4.0: global variables, a tab variable winning', 'GET', '/corpus/site', undefined],
    ['4.0: global variables read inside a subflow (a library sub-flow here) beside its own', 'GET', '/corpus/site-subflow', undefined],
  ])('%s', async (_label, method, route, body) => {
    const expected = await httpExchange(`${nodeRed!.url}${route}`, { method, body });
    expect(expected.status).toBe(200);
    expect(await httpExchange(`${flowcrew.url}/webhook${route}`, { method, body })).toEqual(expected);
  });
});
