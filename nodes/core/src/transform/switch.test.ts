import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { switchNode, type SwitchProps, type SwitchRule } from './switch.ts';

async function route(rules: SwitchRule[], msg: Record<string, unknown>, extra: Partial<SwitchProps> = {}) {
  const node = await createTestNode(switchNode, { property: 'payload', propertyType: 'msg', checkall: 'true', rules, ...extra });
  const sent = await node.input(msg);
  return sent.map((s) => s.port);
}

describe('switch node', () => {
  it('compares loosely like Node-RED: "5" == 5, numeric-looking values default to numbers', async () => {
    expect(await route([{ t: 'eq', v: '5', vt: 'num' }, { t: 'eq', v: 'five', vt: 'str' }], { payload: '5' })).toEqual([0]);
    expect(await route([{ t: 'eq', v: '10' }], { payload: 10 })).toEqual([0]);
    expect(await route([{ t: 'neq', v: 'a', vt: 'str' }], { payload: 'b' })).toEqual([0]);
  });

  it('orders with lt/lte/gt/gte and between (either way round)', async () => {
    const rules: SwitchRule[] = [
      { t: 'lt', v: '10', vt: 'num' },
      { t: 'lte', v: '10', vt: 'num' },
      { t: 'gt', v: '10', vt: 'num' },
      { t: 'gte', v: '10', vt: 'num' },
      { t: 'btwn', v: '20', vt: 'num', v2: '5', v2t: 'num' },
    ];
    expect(await route(rules, { payload: 10 })).toEqual([1, 3, 4]);
    expect(await route(rules, { payload: 3 })).toEqual([0, 1]);
  });

  it('stops at the first match when checkall is "false"', async () => {
    const rules: SwitchRule[] = [{ t: 'gt', v: '1', vt: 'num' }, { t: 'gt', v: '2', vt: 'num' }];
    expect(await route(rules, { payload: 5 }, { checkall: 'false' })).toEqual([0]);
    expect(await route(rules, { payload: 5 }, { checkall: 'true' })).toEqual([0, 1]);
  });

  it('sends a separate copy of the message to each matching output', async () => {
    const node = await createTestNode(switchNode, { property: 'payload', rules: [{ t: 'nnull' }, { t: 'nnull' }], checkall: 'true' });
    const sent = await node.input({ payload: { a: 1 } });
    expect(sent.map((s) => s.msg)).toEqual([{ payload: { a: 1 } }, { payload: { a: 1 } }]);
    expect(sent[0]!.msg).not.toBe(sent[1]!.msg);
  });

  it('contains, regex (with ignore case) and has key', async () => {
    expect(await route([{ t: 'cont', v: 'ell', vt: 'str' }], { payload: 'hello' })).toEqual([0]);
    expect(await route([{ t: 'regex', v: '^HEL', vt: 'str', case: true }, { t: 'regex', v: '^HEL', vt: 'str' }], { payload: 'hello' })).toEqual([0]);
    expect(await route([{ t: 'hask', v: 'id', vt: 'str' }], { payload: { id: 0 } })).toEqual([0]);
    expect(await route([{ t: 'hask', v: 'id', vt: 'str' }], { payload: 'id' })).toEqual([]);
  });

  it('true/false/null/not null/empty/not empty', async () => {
    const rules: SwitchRule[] = [{ t: 'true' }, { t: 'false' }, { t: 'null' }, { t: 'nnull' }, { t: 'empty' }, { t: 'nempty' }];
    expect(await route(rules, { payload: true })).toEqual([0, 3]);
    expect(await route(rules, { payload: false })).toEqual([1, 3]);
    expect(await route(rules, {})).toEqual([2]);
    expect(await route(rules, { payload: '' })).toEqual([3, 4]);
    expect(await route(rules, { payload: {} })).toEqual([3, 4]);
    expect(await route(rules, { payload: [1] })).toEqual([3, 5]);
    expect(await route(rules, { payload: 0 })).toEqual([3]); // numbers are neither empty nor not empty
  });

  it('is of type', async () => {
    const rules: SwitchRule[] = [
      { t: 'istype', v: 'string', vt: 'string' },
      { t: 'istype', v: 'number', vt: 'number' },
      { t: 'istype', v: 'array', vt: 'array' },
      { t: 'istype', v: 'object', vt: 'object' },
      { t: 'istype', v: 'json', vt: 'json' },
      { t: 'istype', v: 'null', vt: 'null' },
      { t: 'istype', v: 'undefined', vt: 'undefined' },
    ];
    expect(await route(rules, { payload: '{"a":1}' })).toEqual([0, 4]);
    expect(await route(rules, { payload: 'nope' })).toEqual([0]);
    expect(await route(rules, { payload: 3 })).toEqual([1, 4]);
    expect(await route(rules, { payload: [] })).toEqual([2]);
    expect(await route(rules, { payload: {} })).toEqual([3]);
    expect(await route(rules, { payload: null })).toEqual([4, 5]);
    expect(await route(rules, {})).toEqual([6]);
  });

  it('otherwise matches only when no rule since the previous otherwise matched (an otherwise counts as a match)', async () => {
    const rules: SwitchRule[] = [{ t: 'eq', v: 'a', vt: 'str' }, { t: 'else' }, { t: 'eq', v: 'b', vt: 'str' }, { t: 'else' }];
    expect(await route(rules, { payload: 'a' })).toEqual([0, 3]);
    expect(await route(rules, { payload: 'b' })).toEqual([1, 2]);
    expect(await route(rules, { payload: 'c' })).toEqual([1]);
  });

  it('compares with values from the message, flow context and JSONata', async () => {
    const node = await createTestNode(switchNode, {
      property: 'payload',
      checkall: 'true',
      rules: [
        { t: 'eq', v: 'expected', vt: 'msg' },
        { t: 'gt', v: 'limit', vt: 'flow' },
        { t: 'eq', v: 'expected & "!"', vt: 'jsonata' },
      ],
    });
    node.context.flow.set('limit', 2);
    expect((await node.input({ payload: 3, expected: 3 })).map((s) => s.port)).toEqual([0, 1]);
    expect((await node.input({ payload: 'x!', expected: 'x' })).map((s) => s.port)).toEqual([2]);
  });

  it('tests a flow context property, a JSONata property and the previous value', async () => {
    expect(await route([{ t: 'eq', v: 'on', vt: 'str' }], {}, { property: 'state', propertyType: 'global' })).toEqual([]);
    const node = await createTestNode(switchNode, { property: 'payload.a + payload.b', propertyType: 'jsonata', checkall: 'true', rules: [{ t: 'eq', v: '3', vt: 'num' }] });
    expect((await node.input({ payload: { a: 1, b: 2 } })).map((s) => s.port)).toEqual([0]);
    const prev = await createTestNode(switchNode, { property: 'payload', checkall: 'true', rules: [{ t: 'gt', v: '', vt: 'prev' }] });
    expect(await prev.input({ payload: 1 })).toHaveLength(1); // 1 > null
    expect(await prev.input({ payload: 0 })).toHaveLength(0);
    expect(await prev.input({ payload: 5 })).toHaveLength(1);
  });

  it('a JSONata rule sees $I and $N for sequences', async () => {
    const node = await createTestNode(switchNode, { property: 'payload', checkall: 'true', rules: [{ t: 'jsonata_exp', v: '$I = $N - 1', vt: 'jsonata' }] });
    const last = await node.input({ payload: 'c', parts: { id: 'g', index: 2, count: 3 } });
    const first = await node.input({ payload: 'a', parts: { id: 'g', index: 0, count: 3 } });
    expect(last).toHaveLength(1);
    expect(first).toHaveLength(0);
  });

  it('head and index select within a sequence', async () => {
    const node = await createTestNode(switchNode, { property: 'payload', checkall: 'true', rules: [{ t: 'head', v: '2', vt: 'num' }, { t: 'index', v: '1', vt: 'num', v2: '2', v2t: 'num' }] });
    const ports = [];
    for (let index = 0; index < 4; index++) ports.push((await node.input({ payload: index, parts: { id: 'g', index, count: 4 } })).map((s) => s.port));
    expect(ports).toEqual([[0], [0, 1], [1], []]);
  });

  it('tail holds a sequence until it is complete, then routes every message', async () => {
    const node = await createTestNode(switchNode, { property: 'payload', checkall: 'true', rules: [{ t: 'tail', v: '2', vt: 'num' }, { t: 'else' }] });
    expect(await node.input({ payload: 'a', parts: { id: 'g', index: 0, count: 3 } })).toEqual([]);
    expect(await node.input({ payload: 'b', parts: { id: 'g', index: 1, count: 3 } })).toEqual([]);
    const sent = await node.input({ payload: 'c', parts: { id: 'g', index: 2, count: 3 } });
    expect(sent.map((s) => [s.msg.payload, s.port])).toEqual([
      ['a', 1],
      ['b', 0],
      ['c', 0],
    ]);
  });

  it('recreates message sequences (repair): each output sends a sequence of its own, new id, index and count', async () => {
    const node = await createTestNode(switchNode, { property: 'payload', checkall: 'true', repair: true, rules: [{ t: 'lt', v: '3', vt: 'num' }, { t: 'gte', v: '2', vt: 'num' }] });
    const parts = (index: number) => ({ id: 'g', index, count: 4 });
    for (const i of [0, 1, 2]) expect(await node.input({ payload: i, parts: parts(i) })).toEqual([]);
    const sent = await node.input({ payload: 3, parts: parts(3) });
    expect(sent.map((s) => [s.port, s.msg.payload, (s.msg.parts as { index: number }).index, (s.msg.parts as { count: number }).count])).toEqual([
      [0, 0, 0, 3], [0, 1, 1, 3], [0, 2, 2, 3], [1, 2, 0, 2], [1, 3, 1, 2],
    ]);
    const ids = new Set(sent.map((s) => `${s.port}:${(s.msg.parts as { id: string }).id}`));
    expect(ids.size).toBe(2);
    expect(sent.every((s) => (s.msg.parts as { id: string }).id !== 'g')).toBe(true);
    expect(await node.input({ payload: 1 })).toEqual([{ port: 0, msg: { payload: 1 } }]); // no parts: routed at once
  });

  it('fails the message when a sequence rule gets a message without msg.parts', async () => {
    const node = await createTestNode(switchNode, { property: 'payload', checkall: 'true', rules: [{ t: 'head', v: '1', vt: 'num' }] });
    await expect(node.input({ payload: 1 })).rejects.toThrow(/msg.parts/);
  });

  it('rejects invalid JSONata and regular expressions at deploy', async () => {
    await expect(createTestNode(switchNode, { property: 'payload', rules: [{ t: 'regex', v: '([a', vt: 'str' }] })).rejects.toThrow(/invalid regular expression/);
    await expect(createTestNode(switchNode, { property: 'payload', rules: [{ t: 'jsonata_exp', v: '1 +', vt: 'jsonata' }] })).rejects.toThrow(/Invalid JSONata/);
    await expect(createTestNode(switchNode, { property: '$$$(', propertyType: 'jsonata', rules: [] })).rejects.toThrow(/Invalid JSONata/);
  });

  it('has one output per rule', () => {
    expect(switchNode.outputs).toEqual({ prop: 'rules' });
  });
});

describe('switch node under host limits (issue 7)', () => {
  const payload = 'a'.repeat(30) + '!';

  it('a catastrophic-backtracking regex rule answers at once (linear-time engine)', async () => {
    const started = performance.now();
    expect(await route([{ t: 'regex', v: '^(a+)+$' }, { t: 'else' }], { payload })).toEqual([1]);
    expect(await route([{ t: 'regex', v: '^(a+)+$', vt: 're' }, { t: 'else' }], { payload: 'aaaa' })).toEqual([0]);
    expect(await route([{ t: 'regex', v: 'payload', vt: 'msg' } as SwitchRule, { t: 'else' }], { payload: '^(a+)+$' })).toEqual([1]);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('a lookahead rule keeps working on JavaScript\'s engine, with a warning at deploy and a deadline per message', async () => {
    const node = await createTestNode(switchNode, { property: 'payload', propertyType: 'msg', checkall: 'true', rules: [{ t: 'regex', v: '^(?=a)(a+)+$' }] });
    expect(node.logs).toEqual([expect.objectContaining({ level: 'warn', message: expect.stringMatching(/^rule 1: \/\^\(\?=a\)\(a\+\)\+\$\/ runs on JavaScript's backtracking engine \(it uses a lookahead\)/) })]);
    expect((await node.input({ payload: 'aaa' })).map((s) => s.port)).toEqual([0]);
    await expect(node.input({ payload: 'a'.repeat(32) + '!' })).rejects.toThrow(/^The regular expression \/\^\(\?=a\)\(a\+\)\+\$\/ exceeded its time limit of 100 ms/);
  });

  it('an endless JSONata rule or property fails the message with the time limit (not a silent drop)', async () => {
    const endless = '($f := function($x){ $f($x) }; $f(1))';
    await expect(route([{ t: 'jsonata_exp', v: endless, vt: 'jsonata' }], { payload: 1 })).rejects.toThrow('JSONata expression exceeded its time limit of 1000 ms (FLOWCREW_EXPRESSION_TIMEOUT_MS)');
    await expect(route([{ t: 'eq', v: '1', vt: 'num' }], { payload: 1 }, { property: endless, propertyType: 'jsonata' })).rejects.toThrow(/exceeded its time limit/);
  });
});

describe('switch node without JSONata (answered synchronously)', () => {
  it('routes as the same rules do on a JSONata property (the asynchronous path), unreadable values included', async () => {
    const rules: SwitchRule[] = [
      { t: 'gte', v: '100', vt: 'num' },
      { t: 'eq', v: 'payload.limit', vt: 'msg' },
      { t: 'btwn', v: '1', vt: 'num', v2: 'payload.missing.deeper', v2t: 'msg' },
      { t: 'regex', v: '^1', vt: 'str' },
      { t: 'else' },
    ];
    const messages = [{ payload: { total: 123.5, limit: 123.5 } }, { payload: { total: 7 } }, { payload: {} }, { payload: 'text' }];
    for (const checkall of ['true', 'false'] as const) {
      for (const msg of messages) {
        const sync = await route(rules, structuredClone(msg), { property: 'payload.total', propertyType: 'msg', checkall });
        const viaJsonata = await route(rules, structuredClone(msg), { property: 'payload.total', propertyType: 'jsonata', checkall });
        expect(sync).toEqual(viaJsonata);
      }
    }
    expect(await route(rules, { payload: { total: 123.5, limit: 123.5 } }, { property: 'payload.total' })).toEqual([0, 1, 3]);
  });
});
