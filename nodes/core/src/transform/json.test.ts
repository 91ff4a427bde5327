import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { jsonNode } from './json.ts';

describe('json node', () => {
  it('converts a JSON string to an object and back', async () => {
    const node = await createTestNode(jsonNode, {});
    const [parsed] = await node.input({ payload: '{"a":[1,true,null]}' });
    expect(parsed!.msg.payload).toEqual({ a: [1, true, null] });
    const [text] = await node.input({ payload: { a: 1 } });
    expect(text!.msg.payload).toBe('{"a":1}');
  });

  it('pretty prints with 4 spaces and converts numbers and booleans', async () => {
    const node = await createTestNode(jsonNode, { pretty: true });
    const [sent] = await node.input({ payload: { a: 1 } });
    expect(sent!.msg.payload).toBe('{\n    "a": 1\n}');
    expect((await node.input({ payload: 12 }))[0]!.msg.payload).toBe('12');
    expect((await node.input({ payload: false }))[0]!.msg.payload).toBe('false');
  });

  it('always-string and always-object actions leave the other kind unchanged', async () => {
    const toStr = await createTestNode(jsonNode, { action: 'str' });
    expect((await toStr.input({ payload: '{"a":1}' }))[0]!.msg.payload).toBe('{"a":1}');
    const toObj = await createTestNode(jsonNode, { action: 'obj' });
    expect((await toObj.input({ payload: { a: 1 } }))[0]!.msg.payload).toEqual({ a: 1 });
  });

  it('works on another property and passes messages without it', async () => {
    const node = await createTestNode(jsonNode, { property: 'data.body' });
    expect((await node.input({ data: { body: '[1,2]' } }))[0]!.msg).toEqual({ data: { body: [1, 2] } });
    expect((await node.input({ data: {}, payload: 'not json' }))[0]!.msg).toEqual({ data: {}, payload: 'not json' });
    // As in Node-RED, reading below a missing parent is an error.
    await expect(node.input({ payload: 'x' })).rejects.toThrow(TypeError);
  });

  it('fails the message with the JSON parser error for a bad string', async () => {
    const node = await createTestNode(jsonNode, {});
    let expected = '';
    try {
      JSON.parse('{bad');
    } catch (error) {
      expected = (error as Error).message;
    }
    await expect(node.input({ payload: '{bad' })).rejects.toThrow(expected);
  });

  it('fails with "Failed to convert payload" on a circular object', async () => {
    const node = await createTestNode(jsonNode, {});
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(node.input({ payload: circular })).rejects.toThrow('Failed to convert payload');
  });

  it('drops buffers and unsupported types with a warning', async () => {
    const node = await createTestNode(jsonNode, {});
    expect(await node.input({ payload: Buffer.from('x') })).toEqual([]);
    expect(await node.input({ payload: () => 1 })).toEqual([]);
    expect(node.logs.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual(['Ignored non-object payload', 'Ignored unsupported payload type']);
  });

  it('refuses msg.schema rather than passing the message unvalidated', async () => {
    const node = await createTestNode(jsonNode, {});
    await expect(node.input({ payload: '{}', schema: { type: 'object' } })).rejects.toThrow(/schema/);
  });
});
