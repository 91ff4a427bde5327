/**
 * A library sub-flow's run interrupted by kill -9 in the middle (its delay node holding the message) and resumed by
 * the next start of the runtime (SQLite, the real CLI in a child process) still reads the calling flow's variables
 * and the calling node's properties: the caller comes back from what the called run stored.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildRuntime, freePort, waitFor } from '../testing/child-runtime.ts';

let dataDir: string;
let runtime: ChildRuntime;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-called-resume-'));
  runtime = new ChildRuntime({ dataDir, port: await freePort() });
  await runtime.start();
}, 120_000);

afterAll(async () => {
  await runtime?.killHard();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

type Invocation = { nodeId: string; status: string; outputs?: Array<{ msg: { payload: unknown } }> };

describe('a called run resumed after kill -9', () => {
  it("reads its caller's variables and properties, as before the crash", async () => {
    const slow = {
      id: 'slow-stamp',
      name: 'slow stamp',
      properties: { type: 'object', properties: { UNIT: { type: 'string' } } },
      nodes: [
        { id: 'in', type: 'subflow-in', wires: [['wait']] },
        { id: 'wait', type: 'delay', props: { pauseType: 'delay', timeout: 3, timeoutUnits: 'seconds' }, wires: [['read']] },
        { id: 'read', type: 'change', props: { rules: [
          { t: 'set', p: 'payload', pt: 'msg', to: '{"site": $env("SITE"), "flow": $env("NR_FLOW_NAME"), "unit": $env("UNIT")}', tot: 'jsonata' },
          { t: 'set', p: 'payload.instance', pt: 'msg', to: 'NR_SUBFLOW_NAME', tot: 'env' },
        ] }, wires: [['out']] },
        { id: 'out', type: 'subflow-out' },
      ],
    };
    expect((await runtime.api('POST', '/api/v1/subflows', slow)).status).toBe(201);
    const caller = { id: 'orders', name: 'Orders', env: { SITE: 'plant-7' }, nodes: [{ id: 'go', type: 'inject', wires: [['use']] }, { id: 'use', type: 'subflow:slow-stamp', name: 'weigh', props: { version: 1, UNIT: 'kg' } }] };
    expect((await runtime.api('POST', '/api/v1/flows', caller)).status).toBe(201);
    expect((await runtime.api('POST', '/api/v1/flows/orders/deploy')).status).toBe(200);
    const started = await runtime.api('POST', '/api/v1/flows/orders/runs', { nodeId: 'go' });
    expect(started.status).toBe(202);

    // The called run is stored and its delay holds the message: kill -9 now.
    const called = await waitFor('the called run to wait in its delay', async () => {
      const runs = (await runtime.api('GET', `/api/v1/runs?flowId=${encodeURIComponent('subflow:slow-stamp:v1')}`)).body as Array<{ id: string }>;
      if (runs.length === 0) return undefined;
      const run = (await runtime.api('GET', `/api/v1/runs/${runs[0]!.id}`)).body as { id: string; status: string; invocations: Invocation[] };
      return run.invocations.some((i) => i.nodeId === 'wait') ? run : undefined;
    });
    expect(called.status).toBe('running');
    await runtime.killHard();

    runtime = new ChildRuntime({ dataDir, port: await freePort() });
    await runtime.start();
    const resumed = await waitFor('the called run to finish after the restart', async () => {
      const run = (await runtime.api('GET', `/api/v1/runs/${called.id}`)).body as { status: string; invocations: Invocation[] };
      return ['succeeded', 'failed', 'cancelled'].includes(run.status) ? run : undefined;
    }, 90_000);
    expect(resumed.status).toBe('succeeded');
    const expected = { site: 'plant-7', flow: 'Orders', unit: 'kg', instance: 'weigh' };
    expect(resumed.invocations.find((i) => i.nodeId === 'read')!.outputs![0]!.msg.payload).toEqual(expected);

    // The calling run resumed too (its sub-flow node calls again) and answers the same.
    const outer = await waitFor('the calling run to finish', async () => {
      const run = (await runtime.api('GET', `/api/v1/runs/${started.body.runId}`)).body as { status: string; invocations: Invocation[] };
      return ['succeeded', 'failed', 'cancelled'].includes(run.status) ? run : undefined;
    }, 90_000);
    expect(outer.status).toBe('succeeded');
    expect(outer.invocations.filter((i) => i.nodeId === 'use' && i.status === 'succeeded').map((i) => i.outputs![0]!.msg.payload)).toEqual([expected]);
  }, 240_000);
});
