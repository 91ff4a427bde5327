import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import type { FlowMessage } from '@flowcrew/sdk';
import { subflowCallNode } from './subflow-call.ts';
import { subflowInNode } from './subflow-in.ts';
import { subflowOutNode } from './subflow-out.ts';

describe('subflow-call node', () => {
  it('calls the flow with the message, the run id and the timeout, and outputs its answer', async () => {
    const calls: unknown[] = [];
    const node = await createTestNode(
      subflowCallNode,
      { flowId: 'pricing', timeoutMs: 1234 },
      {
        services: {
          async callFlow(flowId, msg, options) {
            calls.push({ flowId, msg, parentRunId: options.parentRunId, timeoutMs: options.timeoutMs, signal: options.signal instanceof AbortSignal });
            return { payload: (msg.payload as number) * 2 };
          },
        },
      },
    );
    expect(await node.input({ payload: 21 })).toEqual([{ port: 0, msg: { payload: 42 } }]);
    expect(calls).toEqual([{ flowId: 'pricing', msg: { payload: 21 }, parentRunId: 'run-1', timeoutMs: 1234, signal: true }]);
  });

  it('fails when the called flow fails', async () => {
    const node = await createTestNode(
      subflowCallNode,
      { flowId: 'broken' },
      { services: { callFlow: async () => Promise.reject(new Error('sub-flow "broken" is not deployed')) } },
    );
    await expect(node.input({})).rejects.toThrow('sub-flow "broken" is not deployed');
  });

  it('round-trips through subflow-in and subflow-out', async () => {
    const entry = await createTestNode(subflowInNode, {});
    const exit = await createTestNode(subflowOutNode, {});
    // A stand-in for the runtime: the call enters at subflow-in, flows straight to subflow-out, whose reply is the answer.
    const callFlow = async (_flowId: string, msg: FlowMessage) => {
      for (const { msg: out } of await entry.input(msg)) await exit.input({ ...out, payload: `handled ${String(out.payload)}` });
      return exit.replies[0]!.body as FlowMessage;
    };
    const node = await createTestNode(subflowCallNode, { flowId: 'child' }, { services: { callFlow } });
    expect(await node.input({ payload: 'job' })).toEqual([{ port: 0, msg: { payload: 'handled job' } }]);
  });

  it('requires a flow id', async () => {
    await expect(createTestNode(subflowCallNode, {})).rejects.toThrow(/flowId is required/);
  });
});
