import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { completeMessage, completeNode, completeNodesFor } from './complete.ts';
import { statusMessage, statusNode, statusNodesFor } from './status.ts';

describe('status node (routing helpers for the executor)', () => {
  const candidates = [
    { id: 'all', props: { scope: null } },
    { id: 'some', props: { scope: ['a', 'b'] } },
    { id: 'looped', props: { scope: ['a'] }, wires: [['a']] },
  ];

  it('covers every node with no scope, listed nodes otherwise, never itself or a node it is wired to', () => {
    expect(statusNodesFor(candidates, 'a').map((c) => c.id)).toEqual(['all', 'some']);
    expect(statusNodesFor(candidates, 'c').map((c) => c.id)).toEqual(['all']);
    expect(statusNodesFor(candidates, 'all').map((c) => c.id)).toEqual([]);
  });

  it('sends msg.status with the text as a string and the source', () => {
    expect(statusMessage({ fill: 'red', shape: 'dot', text: 3 as unknown as string }, { id: 'n', type: 'delay', name: 'wait' })).toEqual({
      status: { fill: 'red', shape: 'dot', text: '3', source: { id: 'n', type: 'delay', name: 'wait' } },
    });
  });

  it('passes on what it is given', async () => {
    const node = await createTestNode(statusNode, {});
    expect((await node.input({ status: { text: 'x' } }))[0]!.msg).toEqual({ status: { text: 'x' } });
  });
});

describe('complete node (routing helpers for the executor)', () => {
  it('covers only listed nodes, never a node it is wired to', () => {
    const candidates = [{ id: 'c1', props: { scope: ['a'] } }, { id: 'c2', props: { scope: [] } }, { id: 'c3', props: { scope: ['a'] }, wires: [['a']] }];
    expect(completeNodesFor(candidates, 'a').map((c) => c.id)).toEqual(['c1']);
  });

  it('receives a copy of the handled message with its source', () => {
    const msg = { payload: { deep: [1] }, topic: 't' };
    const copy = completeMessage(msg, { id: 'a', type: 'change', name: 'set' });
    expect(copy).toEqual({ payload: { deep: [1] }, topic: 't', complete: { source: { id: 'a', type: 'change', name: 'set' } } });
    expect(copy.payload).not.toBe(msg.payload);
  });

  it('requires a scope', async () => {
    expect((completeNode.props as { required: string[] }).required).toEqual(['scope']);
    const node = await createTestNode(completeNode, { scope: ['a'] });
    expect((await node.input({ payload: 1 }))[0]!.msg).toEqual({ payload: 1 });
  });
});
