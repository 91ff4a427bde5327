import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import type { FlowMessage } from '@flowcrew/sdk';
import { findLinkTarget, linkCallNode, linkReturnNode, type LinkTarget } from './link-call.ts';

const targets: LinkTarget[] = [
  { id: 'nr1', name: 'audit', flowId: 'f1', nodeId: 'nr1' },
  { id: 'nr2', name: 'audit', flowId: 'f2', nodeId: 'nr2' },
  { id: 'nr3', name: 'enrich', flowId: 'f2', nodeId: 'nr3' },
];

describe('link-call node', () => {
  it('finds a target by id, by a name unique in this flow, then by a name unique anywhere', () => {
    expect(findLinkTarget(targets, 'nr2', 'f1').nodeId).toBe('nr2');
    expect(findLinkTarget(targets, 'audit', 'f1').nodeId).toBe('nr1');
    expect(findLinkTarget(targets, 'enrich', 'f1').nodeId).toBe('nr3');
    expect(() => findLinkTarget(targets, 'audit', 'f3')).toThrow("Multiple link-in nodes named 'audit' found");
    expect(() => findLinkTarget(targets, 'nope', 'f1')).toThrow("target link-in node 'nope' not found");
  });

  it('calls the target as a sub-flow call at its entry node and outputs the answer', async () => {
    const calls: Array<{ flowId: string; msg: FlowMessage; entryNodeId?: string; timeoutMs?: number }> = [];
    const callFlow = async (flowId: string, msg: FlowMessage, options: { entryNodeId?: string; timeoutMs?: number }) => {
      calls.push({ flowId, msg, entryNodeId: options.entryNodeId, timeoutMs: options.timeoutMs });
      return { ...msg, payload: `${String(msg.payload)}!` };
    };
    const node = await createTestNode(linkCallNode, { linkType: 'static', targets: [targets[2]!], timeout: 2 }, { services: { callFlow } });
    expect((await node.input({ payload: 'hi' }))[0]!.msg.payload).toBe('hi!');
    expect(calls[0]).toMatchObject({ flowId: 'f2', entryNodeId: 'nr3', timeoutMs: 2000 });
    // The way back travels with the message, as Node-RED's msg._linkSource.
    expect(calls[0]!.msg._linkSource).toEqual([{ id: expect.stringMatching(/^[0-9a-f]{28}$/), node: 'n1' }]);
    const dynamic = await createTestNode(linkCallNode, { linkType: 'dynamic', targets }, { services: { callFlow } });
    await dynamic.input({ payload: 1, target: 'enrich' });
    expect(calls[1]).toMatchObject({ flowId: 'f2', entryNodeId: 'nr3', timeoutMs: 30_000 });
    await expect(dynamic.input({ target: 'nope' })).rejects.toThrow(/not found/);
  });

  it("fails a late answer with Node-RED's error text \"timeout\"; other failures keep theirs", async () => {
    let failure = new Error('no response within 2000 ms');
    const callFlow = async () => { throw failure; };
    const node = await createTestNode(linkCallNode, { linkType: 'static', targets: [targets[2]!], timeout: 2 }, { services: { callFlow } });
    await expect(node.input({ payload: 1 })).rejects.toThrow(/^timeout$/);
    failure = new Error('flow "f2" is not deployed');
    await expect(node.input({ payload: 1 })).rejects.toThrow('flow "f2" is not deployed');
  });

  it('needs a target in static mode', () => {
    expect(linkCallNode.validate!({ linkType: 'static', targets: [] })).toHaveLength(1);
    expect(linkCallNode.validate!({ linkType: 'dynamic', targets: [] })).toEqual([]);
  });
});

describe('link-return node', () => {
  it('answers the call with the message, the way back removed; drops a message that came from no call', async () => {
    const node = await createTestNode(linkReturnNode, {});
    expect(await node.input({ payload: 1, _linkSource: [{ id: 'x', node: 'call' }] })).toEqual([]);
    expect(node.replies).toEqual([{ body: { payload: 1 } }]);
    await node.input({ payload: 2, _linkSource: [{ id: 'outer', node: 'a' }, { id: 'inner', node: 'b' }] });
    expect(node.replies[1]).toEqual({ body: { payload: 2, _linkSource: [{ id: 'outer', node: 'a' }] } });
    await node.input({ payload: 3 });
    expect(node.replies).toHaveLength(2);
    expect(node.logs.some((l) => l.level === 'warn' && /no msg._linkSource/.test(l.message))).toBe(true);
  });
});
