import { describe, expect, it } from 'vitest';
import type { FlowMessage } from '@flowcrew/sdk';
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

  it('validates against msg.schema: a valid message goes on without msg.schema', async () => {
    const schema = { type: 'object', required: ['a'], properties: { a: { type: 'number' } } };
    const node = await createTestNode(jsonNode, {});
    expect((await node.input({ payload: '{"a":1}', schema }))[0]!.msg).toEqual({ payload: { a: 1 } });
    // Objects are checked before they become strings; draft-06 schemas are accepted too, as in Node-RED.
    const draft06 = { $schema: 'http://json-schema.org/draft-06/schema#', type: 'object' };
    expect((await node.input({ payload: { a: 2 }, schema: draft06 }))[0]!.msg).toEqual({ payload: '{"a":2}' });
    const toObj = await createTestNode(jsonNode, { action: 'obj' });
    expect((await toObj.input({ payload: { a: 3 }, schema }))[0]!.msg).toEqual({ payload: { a: 3 } });
    const toStr = await createTestNode(jsonNode, { action: 'str' });
    expect((await toStr.input({ payload: '{"a":4}', schema }))[0]!.msg).toEqual({ payload: '{"a":4}' });
  });

  it('fails an invalid message with Node-RED\'s error, setting msg.schemaError for catch nodes', async () => {
    const schema = { type: 'object', required: ['a'], properties: { a: { type: 'number' }, b: { type: 'string' } } };
    const node = await createTestNode(jsonNode, {});
    const msg: FlowMessage = { payload: '{"b":1}', schema };
    await expect(node.input(msg)).rejects.toThrow("JSON Schema error: data must have required property 'a', data/b must be string");
    expect(msg.schemaError).toEqual([
      expect.objectContaining({ keyword: 'required', instancePath: '', params: { missingProperty: 'a' } }),
      expect.objectContaining({ keyword: 'type', instancePath: '/b' }),
    ]);
    // As in Node-RED, a string was already parsed when it fails; an object is left as it was.
    expect(msg.payload).toEqual({ b: 1 });
    expect(msg.schema).toBe(schema);
    const object: FlowMessage = { payload: { b: 'x' }, schema };
    await expect(node.input(object)).rejects.toThrow(/^JSON Schema error: data must have required property 'a'$/);
    expect(object.payload).toEqual({ b: 'x' });
    // The failure is the message's fault: retrying would not help.
    await expect(node.input({ payload: 1, schema })).rejects.toMatchObject({ retryable: false });
  });

  it('fails a message whose schema does not compile, and passes one without the property unchecked', async () => {
    const node = await createTestNode(jsonNode, {});
    await expect(node.input({ payload: '{}', schema: { type: 'nope' } })).rejects.toThrow('JSON Schema error: failed to compile schema');
    await expect(node.input({ schema: { type: 'nope' } })).rejects.toThrow('JSON Schema error: failed to compile schema');
    expect((await node.input({ other: 1, schema: { type: 'object' } }))[0]!.msg).toEqual({ other: 1, schema: { type: 'object' } });
    // A falsy msg.schema means no validation, as in Node-RED.
    expect((await node.input({ payload: '1', schema: '' }))[0]!.msg).toEqual({ payload: 1, schema: '' });
  });

  it('does not let one message\'s schema $id clash with another\'s', async () => {
    const node = await createTestNode(jsonNode, {});
    const first = { $id: 'http://example.com/order', type: 'object' };
    const second = { $id: 'http://example.com/order', type: 'array' };
    expect((await node.input({ payload: '{}', schema: first }))[0]!.msg).toEqual({ payload: {} });
    expect((await node.input({ payload: '[]', schema: second }))[0]!.msg).toEqual({ payload: [] });
    await expect(node.input({ payload: '[]', schema: first })).rejects.toThrow('JSON Schema error: data must be object');
  });
});

describe('json node under host limits (issue 7)', () => {
  it('JSON nested 5,000 deep fails the message with the depth limit (never a stack overflow later)', async () => {
    const node = await createTestNode(jsonNode, { action: 'obj' });
    await expect(node.input({ payload: '['.repeat(5000) + ']'.repeat(5000) })).rejects.toThrow('The JSON is nested more than 128 levels deep (FLOWCREW_MAX_DEPTH)');
    await expect(node.input({ payload: '{"a":'.repeat(300_000) + '1' + '}'.repeat(300_000) })).rejects.toThrow(/nested more than 128 levels deep/);
    const [sent] = await node.input({ payload: '['.repeat(100) + ']'.repeat(100) });
    expect(Array.isArray(sent!.msg.payload)).toBe(true);
  });
});

describe('json node: msg.schema patterns under host limits (issue 7)', () => {
  it('a catastrophic-backtracking "pattern" in msg.schema answers at once', async () => {
    const node = await createTestNode(jsonNode, { action: 'obj' });
    const started = performance.now();
    await expect(node.input({ payload: '"' + 'a'.repeat(30) + '!"', schema: { type: 'string', pattern: '^(a+)+$' } })).rejects.toThrow(/^JSON Schema error: data must match pattern/);
    const [sent] = await node.input({ payload: '"aaa"', schema: { type: 'string', pattern: '^(a+)+$' } });
    expect(sent!.msg.payload).toBe('aaa');
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
