import { describe, expect, it } from 'vitest';
import { MemoryContext } from '@flowcrew/sdk/testing';
import { compileJsonata, evaluateEnv, prepareTypedValue, type ContextScopes } from './expressions.ts';

function scopes(): ContextScopes & { flow: MemoryContext; global: MemoryContext } {
  return { flow: new MemoryContext(), global: new MemoryContext() };
}

const value = (v: unknown, type: string, msg: unknown = {}, contexts = scopes()) => prepareTypedValue(v, type, contexts).get(msg);

describe('typed values', () => {
  it('str, num and bool as Node-RED reads them', async () => {
    expect(await value('hi', 'str')).toBe('hi');
    expect(await value(undefined, 'str')).toBe('');
    expect(await value('42', 'num')).toBe(42);
    expect(await value('TRUE', 'bool')).toBe(true);
    expect(await value('yes', 'bool')).toBe(false);
    expect(await value('x', undefined as unknown as string)).toBe('x');
  });

  it('json gives every message its own object; bin a Buffer; re a RegExp', async () => {
    const json = prepareTypedValue('{"a":[1]}', 'json', scopes());
    const first = await json.get({});
    expect(first).toEqual({ a: [1] });
    expect(await json.get({})).not.toBe(first);
    expect(await value('[104,105]', 'bin')).toEqual(Buffer.from('hi'));
    expect(((await value('^a+$', 're')) as RegExp).test('aaa')).toBe(true);
  });

  it('getSync gives what get resolves to, for every type but jsonata (which has none)', async () => {
    const contexts = scopes();
    contexts.flow.set('k', 7);
    const msg = { payload: { a: 1 } };
    for (const [v, type] of [['hi', 'str'], ['42', 'num'], ['true', 'bool'], ['{"a":1}', 'json'], ['payload.a', 'msg'], ['k', 'flow'], ['x', 'whatever']] as const) {
      const typed = prepareTypedValue(v, type, contexts);
      expect(typed.getSync?.(msg)).toEqual(await typed.get(msg));
    }
    expect(() => prepareTypedValue('payload.a.b.c', 'msg', contexts).getSync?.({})).toThrow();
    expect(prepareTypedValue('payload', 'jsonata', contexts).getSync).toBeUndefined();
  });

  it('fails the deploy on bad JSON, buffer JSON or regex, naming what it is for', () => {
    expect(() => prepareTypedValue('{nope', 'json', scopes(), 'rule 1 value')).toThrow(/^Invalid JSON in rule 1 value/);
    expect(() => prepareTypedValue('[1', 'bin', scopes())).toThrow(/^Invalid buffer JSON in value/);
    expect(() => prepareTypedValue('(', 're', scopes())).toThrow(/^Invalid regular expression in value/);
    expect(() => prepareTypedValue('$$$(', 'jsonata', scopes())).toThrow(/^Invalid JSONata expression/);
  });

  it('date: milliseconds for "", an ISO string for "iso" and "object" (messages are JSON)', async () => {
    const before = Date.now();
    expect(await value('', 'date')).toBeGreaterThanOrEqual(before);
    for (const format of ['iso', 'object']) {
      const text = (await value(format, 'date')) as string;
      expect(text).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(new Date(text).getTime()).toBeGreaterThanOrEqual(before - 1000);
    }
  });

  it('date: any other text is a moment format, as Node-RED 3.1+ formats dates', async () => {
    expect(await value('YYYY', 'date')).toBe(String(new Date().getFullYear()));
    expect(await value('YYYY-MM-DD HH:mm', 'date')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d$/);
  });

  it('msg reads the message with Node-RED paths, and throws below a missing parent', async () => {
    const msg = { key: 'b', a: { b: 2 } };
    expect(await value('a[msg.key]', 'msg', msg)).toBe(2);
    await expect(value('none.deeper', 'msg', msg)).rejects.toThrow(TypeError);
  });

  it('flow and global read context, nested and with [msg.x] references', async () => {
    const contexts = scopes();
    contexts.flow.set('users', { ada: { age: 36 } });
    contexts.global.set('limit', 10);
    expect(await value('#:(memory)::users[msg.who].age', 'flow', { who: 'ada' }, contexts)).toBe(36);
    expect(await value('limit', 'global', {}, contexts)).toBe(10);
    expect(await value('users.bob.age', 'flow', {}, contexts)).toBeUndefined();
  });

  it('env is always "": a flow never reads host environment variables', async () => {
    process.env.FLOWCREW_TEST_SECRET = 'secret';
    try {
      expect(await value('FLOWCREW_TEST_SECRET', 'env')).toBe('');
      expect(await value('${FLOWCREW_TEST_SECRET}', 'env')).toBe('');
      expect(await value('a-${FLOWCREW_TEST_SECRET}-b', 'env')).toBe('a--b');
      expect(evaluateEnv('HOME')).toBe('');
      expect(await compileJsonata('$env("FLOWCREW_TEST_SECRET")', scopes()).evaluate({})).toBe('');
    } finally {
      delete process.env.FLOWCREW_TEST_SECRET;
    }
  });

  it('jsonata sees the message, or { msg } when the expression names msg (Node-RED legacy mode)', async () => {
    expect(await value('payload * 2', 'jsonata', { payload: 21 })).toBe(42);
    expect(await value('msg.payload * 2', 'jsonata', { payload: 21 })).toBe(42);
  });

  it('any other type gives the raw value (the switch node\'s "is of type" names)', async () => {
    expect(await value('number', 'number')).toBe('number');
  });
});

describe('compileJsonata', () => {
  it('binds $flowContext and $globalContext, nested keys and store prefixes included', async () => {
    const contexts = scopes();
    contexts.flow.set('user', { name: 'ada' });
    contexts.global.set('n', 41);
    const expression = compileJsonata('$flowContext("#:(memory)::user.name") & ($globalContext("n") + 1)', contexts);
    expect(await expression.evaluate({})).toBe('ada42');
    // Read at evaluation time, not at compile time.
    contexts.global.set('n', 1);
    expect(await expression.evaluate({})).toBe('ada2');
  });

  it('binds $clone and per-call variables', async () => {
    const input = { a: { b: 1 } };
    const cloned = await compileJsonata('$clone(a)', scopes()).evaluate(input);
    expect(cloned).toEqual({ b: 1 });
    expect(cloned).not.toBe(input.a);
    expect(await compileJsonata('$I + $N', scopes()).evaluate({}, { I: 1, N: 2 })).toBe(3);
  });

  it('uses legacy { msg } input only when asked and only for msg itself, not a field named msg', async () => {
    const msg = { payload: { msg: 'field' }, msg: 'top' };
    expect(await compileJsonata('msg', scopes()).evaluate(msg)).toBe('top');
    expect(await compileJsonata('msg.payload.msg', scopes(), { nodeRedInput: true }).evaluate(msg)).toBe('field');
    expect(await compileJsonata('payload.msg', scopes(), { nodeRedInput: true }).evaluate(msg)).toBe('field');
  });

  it('reports compile and evaluation errors as invalid expressions', async () => {
    expect(() => compileJsonata('(', scopes())).toThrow(/^Invalid JSONata expression: /);
    await expect(compileJsonata('$number("x")', scopes()).evaluate({})).rejects.toThrow(/^Invalid JSONata expression: /);
  });
});
