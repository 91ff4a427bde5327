import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { catchesNode, catchNode, catchNodesFor } from './catch.ts';

describe('catch node', () => {
  it('passes the error message on unchanged', async () => {
    const node = await createTestNode(catchNode, {});
    const msg = { payload: 1, error: { message: 'boom', source: { id: 'f1', type: 'function', name: 'parse' } } };
    expect(await node.input(msg)).toEqual([{ port: 0, msg }]);
  });

  it('catchesNode: no scope covers every node, a scope only its nodes', () => {
    expect(catchesNode({ scope: null }, 'a')).toBe(true);
    expect(catchesNode({}, 'a')).toBe(true);
    expect(catchesNode({ scope: ['a', 'b'] }, 'b')).toBe(true);
    expect(catchesNode({ scope: ['a', 'b'] }, 'c')).toBe(false);
  });

  it('catchNodesFor: "uncaught" catch nodes only get errors no other catch node handles', () => {
    const all = { id: 'all', props: { scope: null } };
    const scoped = { id: 'scoped', props: { scope: ['f1'] } };
    const fallback = { id: 'fallback', props: { scope: null, uncaught: true } };
    expect(catchNodesFor([all, scoped, fallback], 'f1').map((c) => c.id)).toEqual(['all', 'scoped']);
    expect(catchNodesFor([scoped, fallback], 'f2').map((c) => c.id)).toEqual(['fallback']);
    expect(catchNodesFor([scoped, fallback], 'f1').map((c) => c.id)).toEqual(['scoped']);
  });

  it('catchNodesFor: a catch node does not catch its own failure', () => {
    expect(catchNodesFor([{ id: 'c1', props: {} }], 'c1')).toEqual([]);
  });
});
