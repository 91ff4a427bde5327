/**
 * No connection leak from the CRM nodes in a real runtime: 1,000 runs of a Dynamics 365 flow and a HubSpot flow
 * (real client code against local stand-ins of their APIs: the services cannot run here), a redeploy, then an
 * undeploy. Open connections to each stand-in stay bounded while runs go on, do not grow with the number of runs,
 * and the HubSpot client's own sockets are closed with its last node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredential, deployFlow, redeploy, runMany, startRuntime, undeploy, type TestServer } from '../../db/src/shared/runtime-testing.ts';
import { DynamicsStandIn } from './dynamics/testing/stand-in.ts';
import { HubSpotStandIn } from './hubspot/testing/stand-in.ts';

let server: TestServer;
let dynamics: DynamicsStandIn;
let hubspot: HubSpotStandIn;
const app = { tenantId: 'leak-tenant', clientId: 'app-leak', clientSecret: 'secret-leak' };

beforeAll(async () => {
  dynamics = await new DynamicsStandIn(app).start();
  for (let i = 1; i <= 5; i++) dynamics.add({ name: `Account ${i}` });
  hubspot = await new HubSpotStandIn('pat-leak').start();
  for (let i = 1; i <= 20; i++) hubspot.add('companies', { name: `Company ${i}` });
  server = await startRuntime();
});
afterAll(async () => {
  await server?.stop();
  await dynamics?.close();
  await hubspot?.close();
});

/** Open connections to a stand-in, once they have settled (a closed socket is counted until its close is seen). */
async function settled(standIn: { connections(): Promise<number> }, atMost: number): Promise<number> {
  const until = Date.now() + 5000;
  let n = await standIn.connections();
  while (n > atMost && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    n = await standIn.connections();
  }
  return n;
}

describe('CRM nodes in a real runtime against local stand-ins of the Dynamics 365 and HubSpot APIs', () => {
  it('leaks no connection over 1,000 runs, a redeploy and an undeploy', async () => {
    const dynamicsCredential = await createCredential(server, 'dynamics365', { url: dynamics.url, authorityHost: dynamics.url, ...app });
    const hubspotCredential = await createCredential(server, 'hubspot', { accessToken: 'pat-leak', baseUrl: hubspot.url });
    await deployFlow(server, 'crm-leak-d', 'dynamics365', dynamicsCredential, { entitySet: 'accounts', maxRecords: 5 });
    await deployFlow(server, 'crm-leak-h', 'hubspot', hubspotCredential, { operation: 'search', objectType: 'companies', maxRecords: 5 });

    await runMany(server, 'crm-leak-d', 50, (payload) => expect(payload).toHaveLength(5));
    await runMany(server, 'crm-leak-h', 50, (payload) => expect(Array.isArray(payload)).toBe(true));
    const early = { d: await dynamics.connections(), h: await hubspot.connections() };
    await runMany(server, 'crm-leak-d', 450, (payload) => expect(payload).toHaveLength(5));
    await runMany(server, 'crm-leak-h', 450, (payload) => expect(Array.isArray(payload)).toBe(true));
    await redeploy(server, 'crm-leak-d');
    await redeploy(server, 'crm-leak-h');
    await runMany(server, 'crm-leak-d', 50, (payload) => expect(payload).toHaveLength(5));
    await runMany(server, 'crm-leak-h', 50, (payload) => expect(Array.isArray(payload)).toBe(true));
    // 50 runs at a time: bounded by the concurrency, not by the number of runs (1,100 each by now).
    expect(await settled(dynamics, Math.max(early.d, 1))).toBeLessThanOrEqual(Math.max(early.d, 1));
    expect(await settled(hubspot, Math.max(early.h, 8))).toBeLessThanOrEqual(Math.max(early.h, 8)); // the client's agent: 8 sockets at most

    await undeploy(server, 'crm-leak-h');
    expect(await settled(hubspot, 0)).toBe(0); // its own agent is destroyed with the last node
    await undeploy(server, 'crm-leak-d');
  }, 120_000);
});
