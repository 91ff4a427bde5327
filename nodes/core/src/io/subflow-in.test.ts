import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { subflowInNode } from './subflow-in.ts';

describe('subflow-in node', () => {
  it('starts the called flow with the caller\'s message', async () => {
    const node = await createTestNode(subflowInNode, {});
    const msg = { payload: { order: 1 }, topic: 'call' };
    expect(await node.input(msg)).toEqual([{ port: 0, msg }]);
    expect([subflowInNode.inputs, subflowInNode.category]).toEqual([0, 'trigger']);
  });
});
