import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { splitNode, type SplitProps } from './split.ts';

async function split(props: Partial<SplitProps>, msg: Record<string, unknown>) {
  const node = await createTestNode(splitNode, props);
  return (await node.input(msg)).map((s) => s.msg);
}

describe('split node', () => {
  it('splits a string on newlines, one message per line with msg.parts', async () => {
    const msgs = await split({}, { payload: 'a\nb\nc', topic: 't', _msgid: 'm1' });
    expect(msgs.map((m) => m.payload)).toEqual(['a', 'b', 'c']);
    const id = (msgs[0]!.parts as { id: string }).id;
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(msgs.map((m) => m.parts)).toEqual([0, 1, 2].map((index) => ({ id, type: 'string', ch: '\n', index, count: 3 })));
    expect(msgs.every((m) => m.topic === 't' && m._msgid === undefined)).toBe(true);
  });

  it('splits strings on another separator, on bytes, or into fixed lengths', async () => {
    expect((await split({ splt: ',' }, { payload: '1,2,' })).map((m) => m.payload)).toEqual(['1', '2', '']);
    const bytes = await split({ splt: '[59]', spltType: 'bin' }, { payload: 'x;y' });
    expect(bytes.map((m) => [m.payload, (m.parts as { ch: unknown }).ch])).toEqual([
      ['x', [59]],
      ['y', [59]],
    ]);
    const chunks = await split({ splt: '3', spltType: 'len' }, { payload: 'abcdefg' });
    expect(chunks.map((m) => m.payload)).toEqual(['abc', 'def', 'g']);
    expect(chunks[2]!.parts).toMatchObject({ type: 'string', ch: '', len: 3, index: 2, count: 3 });
  });

  it('splits arrays into elements or chunks', async () => {
    expect((await split({}, { payload: [1, 'two', { three: 3 }] })).map((m) => m.payload)).toEqual([1, 'two', { three: 3 }]);
    const chunks = await split({ arraySplt: 2 }, { payload: [1, 2, 3, 4, 5] });
    expect(chunks.map((m) => m.payload)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunks[0]!.parts).toMatchObject({ type: 'array', len: 2, index: 0, count: 3 });
  });

  it('splits objects into key/value messages, optionally copying the key', async () => {
    const msgs = await split({ addname: 'topic' }, { payload: { a: 1, b: { c: 2 } } });
    expect(msgs.map((m) => [m.topic, m.payload, (m.parts as { key: string }).key])).toEqual([
      ['a', 1, 'a'],
      ['b', { c: 2 }, 'b'],
    ]);
    expect(msgs[1]!.parts).toMatchObject({ type: 'object', index: 1, count: 2 });
  });

  it('splits buffers on a separator or into lengths', async () => {
    const lines = await split({}, { payload: Buffer.from('ab\ncd') });
    expect(lines.map((m) => (m.payload as Buffer).toString())).toEqual(['ab', 'cd']);
    expect(lines[1]!.parts).toMatchObject({ type: 'buffer', ch: '\n', index: 1, count: 2 });
    const chunks = await split({ splt: '2', spltType: 'len' }, { payload: Buffer.from([1, 2, 3]) });
    expect(chunks.map((m) => [...(m.payload as Buffer)])).toEqual([[1, 2], [3]]);
  });

  it('keeps an existing sequence underneath', async () => {
    const [first] = await split({}, { payload: 'x\ny', parts: { id: 'outer', index: 4, count: 9 } });
    expect((first!.parts as { parts: unknown }).parts).toEqual({ id: 'outer', index: 4, count: 9 });
  });

  it('stream mode carries the unterminated part over to the next message and numbers on', async () => {
    const node = await createTestNode(splitNode, { stream: true });
    const first = (await node.input({ payload: 'a\nb' })).map((s) => s.msg);
    const second = (await node.input({ payload: 'c\nd\n' })).map((s) => s.msg);
    expect(first.map((m) => [m.payload, (m.parts as { index: number }).index])).toEqual([['a', 0]]);
    expect(second.map((m) => [m.payload, (m.parts as { index: number }).index])).toEqual([
      ['bc', 1],
      ['d', 2],
    ]);
    expect(second[0]!.parts).not.toHaveProperty('count');
  });

  it('drops numbers and ignores messages without payload', async () => {
    expect(await split({}, { payload: 5 })).toEqual([]);
    expect(await split({}, { topic: 'x' })).toEqual([]);
  });

  it('rejects an invalid split length or byte array at deploy', async () => {
    await expect(createTestNode(splitNode, { splt: '0', spltType: 'len' })).rejects.toThrow(/Invalid split property/);
    await expect(createTestNode(splitNode, { splt: '"x"', spltType: 'bin' })).rejects.toThrow(/not an array/);
    await expect(createTestNode(splitNode, { arraySplt: 'x' })).rejects.toThrow(/invalid array split length/);
  });
});
