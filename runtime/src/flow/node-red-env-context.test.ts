/**
 * A tab's `jsonata` variables reading flow and global context (`$flowContext`, `$globalContext`) as Node-RED reads
 * them: evaluated at each deploy from the context as it is then. Compared with a real Node-RED 4 on the same export:
 * read before anything is stored, store, redeploy, read again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeRedUnderTest, httpExchange, nodeRedInstalled as available, requireNodeRedInCi } from '../testing/node-red.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { CTX_TAB, envContextExport } from './fixtures/node-red-env-context.ts';

requireNodeRedInCi();

let nodeRed: NodeRedUnderTest | undefined;
let flowcrew: TestServer | undefined;

describe.skipIf(!available)('Node-RED tab env reading context: compared with a real Node-RED', () => {
  beforeAll(async () => {
    nodeRed = await NodeRedUnderTest.prepare('flowcrew-nodered-envctx-');
    await nodeRed.start(envContextExport());
    flowcrew = await startTestServer();
    const url = nodeRed.url;
    await nodeRed.until(() => fetch(`${url}/ctx/read`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).then((r) => r.ok));
  }, 90_000);

  afterAll(async () => {
    await nodeRed?.stop();
    await flowcrew?.stop();
  });

  it('before anything is stored, after storing, and after the next deploy: both systems answer the same', async () => {
    const imported = await flowcrew!.api('POST', '/api/v1/flows/import?deploy=true', envContextExport());
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body.unmapped).toEqual([]);
    const read = async () => [await httpExchange(`${nodeRed!.url}/ctx/read`, { body: {} }), await httpExchange(`${flowcrew!.url}/webhook/ctx/read`, { body: {} })];

    // Nothing stored yet: the variables were evaluated over empty context.
    const [emptyNodeRed, emptyFlowcrew] = await read();
    expect(emptyNodeRed).toEqual({ status: 200, body: { scaled: '', site: '-x', deep: '', plain: 2 } });
    expect(emptyFlowcrew).toEqual(emptyNodeRed);

    // Stored now, but variables are evaluated when the flow starts: still the old values.
    expect((await httpExchange(`${nodeRed!.url}/ctx/set`, { body: {} })).body).toBe('stored');
    expect((await httpExchange(`${flowcrew!.url}/webhook/ctx/set`, { body: {} })).body).toBe('stored');
    const [beforeNodeRed, beforeFlowcrew] = await read();
    expect(beforeFlowcrew).toEqual(beforeNodeRed);

    // The next deploy reads the stored context.
    const flows = await fetch(`${nodeRed!.url}/flows`, { method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(envContextExport()) });
    expect(flows.status).toBe(204);
    expect((await flowcrew!.api('POST', `/api/v1/flows/${CTX_TAB}/deploy`)).status).toBe(200);
    let afterNodeRed = await httpExchange(`${nodeRed!.url}/ctx/read`, { body: {} });
    // A full deploy restarts Node-RED's flows asynchronously: wait until it answers again.
    for (let i = 0; i < 40 && afterNodeRed.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 250));
      afterNodeRed = await httpExchange(`${nodeRed!.url}/ctx/read`, { body: {} });
    }
    expect(afterNodeRed).toEqual({ status: 200, body: { scaled: 10, site: 'plant-x', deep: 9, plain: 2 } });
    expect(await httpExchange(`${flowcrew!.url}/webhook/ctx/read`, { body: {} })).toEqual(afterNodeRed);
  });
});
