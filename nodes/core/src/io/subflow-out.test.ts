import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { subflowOutNode } from './subflow-out.ts';

describe('subflow-out node', () => {
  it('replies to the caller with the message it receives', async () => {
    const node = await createTestNode(subflowOutNode, {});
    const msg = { payload: 'result', extra: true };
    expect(await node.input(msg)).toEqual([]);
    expect(node.replies).toEqual([{ body: msg }]);
  });
});
