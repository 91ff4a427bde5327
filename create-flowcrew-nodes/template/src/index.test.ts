import { afterAll, describe, expect, it } from 'vitest';
import { closeTestServices, createTestNode } from '@flowcrew/sdk/testing';
import { __TYPE_ID__Node } from './index.ts';

afterAll(closeTestServices);

describe('__TYPE__', () => {
  it('upper-cases the text and adds the suffix', async () => {
    const node = await createTestNode(__TYPE_ID__Node, { property: 'payload', suffix: '!', suffixType: 'str' });
    expect(await node.input({ payload: 'hello' })).toEqual([{ port: 0, msg: { payload: 'HELLO!' } }]);
  });

  it('reads the suffix as a JSONata expression', async () => {
    const node = await createTestNode(__TYPE_ID__Node, { property: 'payload.title', suffix: '" #" & $string(count)', suffixType: 'jsonata' });
    const [out] = await node.input({ payload: { title: 'news' }, count: 3 });
    expect(out?.msg.payload).toEqual({ title: 'NEWS #3' });
  });

  it('refuses a message without text', async () => {
    const node = await createTestNode(__TYPE_ID__Node, { property: 'payload', suffix: '!', suffixType: 'str' });
    await expect(node.input({ payload: 42 })).rejects.toThrow('msg.payload must be a string, not number');
  });
});
