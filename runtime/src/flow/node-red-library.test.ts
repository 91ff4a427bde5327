/**
 * The issue's first list, re-checked with five new real-shaped exports (fixtures/node-red-library.ts), imported one
 * after the other into one runtime as a new user would: each imports (and deploys, unless it needs a credential)
 * with only the expected nodes unmapped; a snippet without its tab imports twice (two copies); a full export imported
 * twice asks for ?replace; nodes without positions are laid out without overlapping. The two with HTTP endpoints also
 * run on a real Node-RED 4 and must answer the same.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeRedUnderTest, httpExchange, nodeRedInstalled as nodeRedAvailable, requireNodeRedInCi } from '../testing/node-red.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { fileProcessing, forumRelay, mqttSensors, restApi, schedules } from './fixtures/node-red-library.ts';
import type { FlowDocument } from './types.ts';

requireNodeRedInCi();

let flowcrew: TestServer;
let nodeRed: NodeRedUnderTest | undefined;
let nodeRedUrl = '';

beforeAll(async () => {
  if (!nodeRedAvailable) {
    flowcrew = await startTestServer();
    return;
  }
  // Node-RED gets the two HTTP exports on tabs of their own (a snippet needs one there too).
  nodeRed = await NodeRedUnderTest.prepare('flowcrew-nodered-lib-');
  const tab = (id: string) => ({ id, type: 'tab', label: id, disabled: false, info: '' });
  await nodeRed.start([tab('7d3c1a2b4e5f6071'), ...restApi(), tab('e5e5e5e5e5e5e5e5'), ...forumRelay()]);
  nodeRedUrl = nodeRed.url;
  // Both start at once (Node-RED takes seconds on a loaded machine).
  flowcrew = await startTestServer();
  await nodeRed.until(() => fetch(`${nodeRedUrl}/lib/items`).then((r) => r.ok));
}, 90_000);

afterAll(async () => {
  await nodeRed?.stop();
  await flowcrew?.stop();
});

/** Every node has a position, and no two nodes sit on the same spot (Node-RED's node is 120 × 30). */
function expectLaidOut(flow: FlowDocument) {
  for (const n of flow.nodes) expect(n.position, `${n.id} has a position`).toBeDefined();
  for (const [i, a] of flow.nodes.entries()) {
    for (const b of flow.nodes.slice(i + 1)) {
      const apart = Math.abs(a.position!.x - b.position!.x) >= 120 || Math.abs(a.position!.y - b.position!.y) >= 30;
      expect(apart, `${a.id} and ${b.id} overlap`).toBe(true);
    }
  }
}

async function imported(body: unknown, query = '?deploy=true') {
  const answer = await flowcrew.api('POST', `/api/v1/flows/import${query}`, body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  const flows: FlowDocument[] = [];
  for (const f of answer.body.flows as Array<{ id: string }>) flows.push((await flowcrew.api('GET', `/api/v1/flows/${encodeURIComponent(f.id)}`)).body);
  return { answer: answer.body, flows };
}

const call = (base: string, method: string, route: string, body?: unknown) => httpExchange(`${base}${route}`, { method, body });

describe('five real-shaped Node-RED exports, imported one after the other', () => {
  it('a REST API snippet (no tab) imports and deploys, and imports again as a second copy', async () => {
    const first = await imported(restApi());
    expect(first.answer.unmapped).toEqual([]);
    expect(first.flows).toHaveLength(1);
    expectLaidOut(first.flows[0]!);
    // The same snippet again: a copy in a new flow (deploying it too would serve the same paths twice).
    const second = await imported(restApi(), '');
    expect(second.flows[0]!.id).not.toBe(first.flows[0]!.id);
    expect(second.flows[0]!.nodes.map((n) => n.id).sort()).toEqual(first.flows[0]!.nodes.map((n) => n.id).sort());
  });

  it.skipIf(!nodeRedAvailable)('the REST API answers as on Node-RED: list, add, add, list, clear, list', async () => {
    const steps: Array<[string, unknown?]> = [['GET'], ['POST', { name: 'pen' }], ['POST', { name: 'ink' }], ['GET'], ['DELETE'], ['GET']];
    for (const [method, body] of steps) {
      const expected = await call(nodeRedUrl, method, '/lib/items', body);
      expect(await call(`${flowcrew.url}/webhook`, method, '/lib/items', body), `${method} ${JSON.stringify(body)}`).toEqual(expected);
    }
  });

  it('an MQTT sensor pipeline without its dashboard nodes imports (the broker becomes a credential to attach)', async () => {
    const { answer, flows } = await imported(mqttSensors(), '');
    expect(answer.unmapped.map((u: { type: string }) => u.type)).toEqual(['mqtt-broker']);
    expect(flows[0]!.nodes.map((n) => n.type)).toEqual(['mqtt-subscribe', 'filter', 'change', 'switch', 'template', 'mqtt-publish', 'trigger', 'debug']);
    const { deployed: _d, deployedVersion: _v, updatedAt: _u, projectId: _p, ...doc } = flows[0] as FlowDocument & Record<string, unknown>;
    const validated = await flowcrew.api('POST', '/api/v1/flows/validate', doc);
    // Valid (it saves); both broker nodes named as what a deploy would refuse until a credential is attached.
    expect(validated.body).toMatchObject({ valid: true, issues: [] });
    const needsCredential = [expect.objectContaining({ nodeId: 'c0c0c0c0c0c0c001', message: expect.stringContaining('needs a credential of type "mqtt"') }), expect.objectContaining({ nodeId: 'c0c0c0c0c0c0c006' })];
    expect(validated.body.warnings).toEqual(needsCredential);
    // Deploying asks for the credential the broker's nodes now need: both nodes in one answer.
    const deployed = await flowcrew.api('POST', `/api/v1/flows/${flows[0]!.id}/deploy`);
    expect(deployed.status).toBe(422);
    expect(deployed.body.errors).toEqual(needsCredential);
  });

  it('CSV file processing (watch, file in by msg.filename, csv, file append, catch) imports and deploys', async () => {
    const { answer, flows } = await imported(fileProcessing());
    expect(answer.unmapped).toEqual([]);
    expect(flows[0]!.nodes.map((n) => n.type)).toEqual(['local-file-watch', 'switch', 'local-file', 'csv', 'change', 'local-file', 'catch', 'debug', 'change']);
    const again = await flowcrew.api('POST', '/api/v1/flows/import?deploy=true', fileProcessing());
    expect(again.status).toBe(409);
    expect(again.body.detail).toContain('?replace=true');
    expect((await flowcrew.api('POST', '/api/v1/flows/import?deploy=true&replace=true', fileProcessing())).status).toBe(201);
  });

  it('a forum relay without positions and with 0.x node shapes is laid out, deploys, and answers as on Node-RED', async () => {
    const { answer, flows } = await imported(forumRelay());
    expect(answer.unmapped).toEqual([]);
    expect(answer.warnings.some((w: string) => w.includes('6 node(s) had no position'))).toBe(true);
    expectLaidOut(flows[0]!);
    if (!nodeRedAvailable) return;
    for (const amount of [150, 5]) {
      const expected = await call(nodeRedUrl, 'POST', '/lib/relay', { amount });
      expect(await call(`${flowcrew.url}/webhook`, 'POST', '/lib/relay', { amount })).toEqual(expected);
    }
  });

  it('schedules (weekday cron, interval between times, a 0.x repeating inject, a rate limit) import and deploy', async () => {
    const { answer, flows } = await imported(schedules());
    expect(answer.unmapped).toEqual([]);
    expect(flows[0]!.nodes.map((n) => n.type)).toEqual(['inject', 'inject', 'inject', 'delay', 'debug']);
    expect(answer.flows[0].deployed).toBe(true);
  });
});
