import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { jsonataNode } from './jsonata.ts';

describe('jsonata node', () => {
  it('evaluates against the whole message and stores the result in payload', async () => {
    const node = await createTestNode(jsonataNode, { expression: '$sum(payload.items.price) * qty' });
    const [sent] = await node.input({ payload: { items: [{ price: 2 }, { price: 3 }] }, qty: 2 });
    expect(sent).toEqual({ port: 0, msg: { payload: 10, qty: 2 } });
  });

  it('stores the result in another property, creating parents', async () => {
    const node = await createTestNode(jsonataNode, { expression: '{"name": $uppercase(payload), "topic": topic}', property: 'result.user' });
    const [sent] = await node.input({ payload: 'ada', topic: 't' });
    expect(sent!.msg).toEqual({ payload: 'ada', topic: 't', result: { user: { name: 'ADA', topic: 't' } } });
  });

  it('reads flow and global context', async () => {
    const node = await createTestNode(jsonataNode, { expression: '$flowContext("rate") * payload + $globalContext("fee.fixed")' });
    node.context.flow.set('rate', 3);
    node.context.global.set('fee', { fixed: 1 });
    const [sent] = await node.input({ payload: 2 });
    expect(sent!.msg.payload).toBe(7);
  });

  it('removes the property when the expression yields nothing', async () => {
    const node = await createTestNode(jsonataNode, { expression: 'payload.missing' });
    const [sent] = await node.input({ payload: { a: 1 }, topic: 'x' });
    expect(sent!.msg).toEqual({ topic: 'x' });
  });

  it('rejects a syntax error at deploy and fails the message on an evaluation error', async () => {
    await expect(createTestNode(jsonataNode, { expression: 'payload.(' })).rejects.toThrow(/Invalid JSONata expression/);
    const node = await createTestNode(jsonataNode, { expression: '$notAFunction(payload)' });
    await expect(node.input({ payload: 1 })).rejects.toThrow(/Invalid JSONata expression/);
  });
});
