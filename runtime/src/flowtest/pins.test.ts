import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowDocument } from '../flow/types.ts';
import { NodeRegistry } from '../registry/registry.ts';
import { PINNED_NODE_TYPE, PinError, withPinnedOutputs } from './pins.ts';
import { TestSandbox } from './sandbox.ts';

const coreDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../nodes/core');

// inject -> http-request (to a port nothing listens on) -> change (copies the status code) -> debug
const flow: FlowDocument = {
  id: 'orders',
  name: 'orders',
  version: 3,
  nodes: [
    { id: 'start', type: 'inject', props: {}, wires: [['fetch']] },
    { id: 'fetch', type: 'http-request', name: 'Fetch order', position: { x: 10, y: 20 }, props: { method: 'GET', url: 'http://127.0.0.1:9/order' }, retry: { maxAttempts: 3 }, wires: [['mark']] },
    { id: 'mark', type: 'change', props: { rules: [{ t: 'set', p: 'code', pt: 'msg', to: 'statusCode', tot: 'msg' }] }, wires: [['out']] },
    { id: 'out', type: 'debug', props: {} },
  ],
};

describe('withPinnedOutputs', () => {
  it('replaces only the pinned node, keeping its id, name, position and wires, and leaves the input unchanged', () => {
    const before = structuredClone(flow);
    const pinned = withPinnedOutputs(flow, { fetch: { outputs: [{ msg: { payload: { id: 7 }, statusCode: 200 } }] } });
    expect(flow).toEqual(before);
    expect(pinned.nodes.map((n) => n.type)).toEqual(['inject', PINNED_NODE_TYPE, 'change', 'debug']);
    const node = pinned.nodes[1]!;
    expect(node).toMatchObject({ id: 'fetch', name: 'Fetch order', position: { x: 10, y: 20 }, wires: [['mark']] });
    expect(node.retry).toBeUndefined();
    expect(node.props).toEqual({ pinnedType: 'http-request', ports: 1, outputs: [{ port: 0, msg: { payload: { id: 7 }, statusCode: 200 } }] });
  });

  it('names the node and the problem for a pin that cannot apply', () => {
    expect(() => withPinnedOutputs(flow, { nope: { outputs: [] } })).toThrow(new PinError('nope', 'flow "orders" has no such node'));
    expect(() => withPinnedOutputs(flow, { fetch: {} })).toThrow('pin for node "fetch": needs "outputs" (messages to send) or "error"');
    expect(() => withPinnedOutputs(flow, { fetch: { outputs: [{ msg: 'text' as never }] } })).toThrow('outputs[0].msg must be a message object');
    expect(() => withPinnedOutputs(flow, { fetch: { outputs: [{ port: -1, msg: {} }] } })).toThrow('outputs[0].port must be an integer >= 0');
  });
});

describe('pinned flows in the isolated sandbox (core nodes)', () => {
  const registry = new NodeRegistry();
  beforeAll(async () => {
    await registry.loadPackage(coreDir, 'workspace');
  });

  let sandbox: TestSandbox | undefined;
  afterAll(async () => sandbox?.close());

  it('runs the flow with the pinned output instead of calling the server', async () => {
    sandbox = await TestSandbox.open({ registry }, [withPinnedOutputs(flow, { fetch: { outputs: [{ msg: { payload: { id: 7 }, statusCode: 200 } }] } })]);
    const { run, invocations } = await sandbox.run('orders', 'start', { payload: 'go' }, { timeoutMs: 10_000 });
    expect(run.status).toBe('succeeded');
    const mark = invocations.find((i) => i.nodeId === 'mark')!;
    expect(mark.outputs?.[0]?.msg).toMatchObject({ payload: { id: 7 }, code: 200 });
    expect(invocations.find((i) => i.nodeId === 'fetch')).toMatchObject({ nodeType: PINNED_NODE_TYPE, attempt: 1, status: 'succeeded' });
    await sandbox.close();
    sandbox = undefined;
  });

  it('merges over the input, and fails the invocation with a pinned error', async () => {
    const merged = withPinnedOutputs(flow, { fetch: { merge: true, outputs: [{ msg: { statusCode: 404 } }] } });
    sandbox = await TestSandbox.open({ registry }, [merged]);
    const ok = await sandbox.run('orders', 'start', { payload: 'kept' }, { timeoutMs: 10_000 });
    expect(ok.invocations.find((i) => i.nodeId === 'mark')!.outputs?.[0]?.msg).toMatchObject({ payload: 'kept', code: 404 });
    await sandbox.close();

    sandbox = await TestSandbox.open({ registry }, [withPinnedOutputs(flow, { fetch: { error: 'connection refused (pinned)' } })]);
    const failed = await sandbox.run('orders', 'start', { payload: 'x' }, { timeoutMs: 10_000 });
    expect(failed.run.status).toBe('failed');
    expect(failed.invocations.find((i) => i.nodeId === 'fetch')!.error).toContain('connection refused (pinned)');
    expect(failed.invocations.some((i) => i.nodeId === 'mark')).toBe(false);
  });
});
