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

describe('jsonata node under host limits (issue 7)', () => {
  const attacks: Array<[string, RegExp]> = [
    ['($f := function($x){ $f($x) }; $f(1))', /^JSONata expression exceeded its time limit of 1000 ms/],
    ['($f := function($x){ 1 + $f($x) }; $f(1))', /^JSONata expression exceeded its depth limit of 5000/],
    ['($loop := function($n){ $n < 0 ? $n : $loop($n + 1) }; $loop(0))', /^JSONata expression exceeded its time limit/],
    ['$count([1..10000000].([1..10]))', /than the limit of 1000000 \(FLOWCREW_MAX_ITEMS\)$/],
    ['$pad("x", 500000000)', /^\$pad to width 500000000 exceeds the string limit/],
  ];

  it.each(attacks)('%s fails the message with a clear reason', async (expression, reason) => {
    const node = await createTestNode(jsonataNode, { expression });
    await expect(node.input({ payload: 1 })).rejects.toThrow(reason);
  });

  it('$match(payload, /^(a+)+$/) on the backtracking payload answers at once', async () => {
    const node = await createTestNode(jsonataNode, { expression: '$match(payload, /^(a+)+$/)' });
    const started = performance.now();
    const [sent] = await node.input({ payload: 'a'.repeat(30) + '!' });
    expect(sent!.msg).toEqual({});
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
