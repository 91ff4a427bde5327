import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { commentNode } from './comment.ts';

describe('comment node', () => {
  it('has no ports and no behaviour', async () => {
    expect([commentNode.inputs, commentNode.outputs]).toEqual([0, 0]);
    const node = await createTestNode(commentNode, { info: '# Notes\nThis flow syncs orders.' });
    expect(node.instance.onInput).toBeUndefined();
    expect(node.instance.start).toBeUndefined();
    await expect(node.input({})).rejects.toThrow(/has no onInput/);
  });
});
