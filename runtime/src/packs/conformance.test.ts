/**
 * Conformance: a pack outside the workspace (examples/sample-pack), built only on the SDK as published (`npm pack` of
 * nodes/sdk), installed with npm into a user node directory and run by a real runtime process: its nodes load, use
 * the SDK's property paths, typed values and JSONata, and its error handler gets failures by its declared role,
 * exactly as the core catch node does.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildRuntime, freePort, waitFor } from '../testing/child-runtime.ts';
import { runNpm } from './npm-cli.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
let work: string;
let runtime: ChildRuntime;

/** `npm pack` a directory into `work`; returns the tarball's path. */
async function pack(dir: string): Promise<string> {
  const { stdout } = await runNpm(['pack', '--pack-destination', work, '--json'], { cwd: dir });
  return path.join(work, (JSON.parse(stdout) as Array<{ filename: string }>)[0]!.filename);
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'flowcrew-conformance-'));
  const userDir = path.join(work, 'nodes');
  const sdk = await pack(path.join(repoRoot, 'nodes', 'sdk'));
  const sample = await pack(path.join(repoRoot, 'examples', 'sample-pack'));
  await runNpm(['install', '--prefix', userDir, '--prefer-offline', '--no-audit', '--no-fund', sdk, sample], { cwd: work });
  runtime = new ChildRuntime({ dataDir: path.join(work, 'data'), port: await freePort(), env: { FLOWCREW_USER_NODES_DIR: userDir } });
  runtime.spawn();
  // A busy machine can take more than ChildRuntime.start's 30 s to start a runtime.
  await waitFor('the runtime to answer', async () => ((await fetch(`${runtime.url}/api/v1/health`).catch(() => null))?.ok ? true : undefined), 120_000);
}, 240_000);

afterAll(async () => {
  await runtime?.terminate();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('a third-party pack built on the published SDK', () => {
  it('loads from the user node directory with its SDK API version and roles described', async () => {
    const packs = await runtime.api('GET', '/api/v1/node-packs');
    expect(packs.body.find((p: { name: string }) => p.name === 'flowcrew-nodes-sample')).toMatchObject({ status: 'loaded', source: 'user', sdkApi: 1, types: ['sample-set', 'sample-error-log'] });
    const types = (await runtime.api('GET', '/api/v1/node-types')).body as Array<{ type: string; role?: unknown }>;
    expect(types.find((t) => t.type === 'sample-error-log')?.role).toEqual({ kind: 'error-handler', scope: { prop: 'scope', whenUnset: 'all' } });
  });

  it('runs a flow with its nodes: typed values and JSONata as core has them, failures routed to its error handler', async () => {
    const flow = {
      id: 'sample',
      name: 'sample pack',
      nodes: [
        { id: 'start', type: 'inject', wires: [['double']] },
        { id: 'double', type: 'sample-set', props: { property: 'payload.total', value: 'payload.price * payload.qty', valueType: 'jsonata' }, wires: [['fail']] },
        { id: 'fail', type: 'sample-set', props: { property: 'payload', value: '$error("out of stock")', valueType: 'jsonata' } },
        { id: 'log', type: 'sample-error-log', props: { scope: ['fail'], label: 'order failed' } },
      ],
    };
    expect((await runtime.api('POST', '/api/v1/flows', flow)).status).toBe(201);
    expect((await runtime.api('POST', '/api/v1/flows/sample/deploy')).body.deployed).toBe(true);
    const { body } = await runtime.api('POST', '/api/v1/flows/sample/runs', { input: { payload: { price: 21, qty: 2 } } });
    const run = await waitFor('the run to finish', async () => {
      const r = await runtime.api('GET', `/api/v1/runs/${body.runId}`);
      return ['succeeded', 'failed'].includes(r.body.status) && r.body.invocations.some((i: { nodeId: string; status: string }) => i.nodeId === 'log' && i.status !== 'pending') ? r.body : undefined;
    });
    const output = (nodeId: string) => run.invocations.find((i: { nodeId: string }) => i.nodeId === nodeId)?.outputs?.[0]?.msg?.payload;
    expect(output('double')).toEqual({ price: 21, qty: 2, total: 42 });
    expect(output('log')).toEqual({ label: 'order failed', node: 'fail', message: expect.stringContaining('out of stock') });
  });
});
