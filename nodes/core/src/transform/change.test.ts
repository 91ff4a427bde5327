import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { changeNode, type ChangeRule } from './change.ts';

async function change(rules: ChangeRule[], msg: Record<string, unknown>) {
  const node = await createTestNode(changeNode, { rules });
  const sent = await node.input(msg);
  return { node, sent, out: sent[0]?.msg };
}

describe('change node', () => {
  it('sets a property to a string, number, boolean and JSON value', async () => {
    const { out } = await change(
      [
        { t: 'set', p: 'payload', pt: 'msg', to: 'hello', tot: 'str' },
        { t: 'set', p: 'count', pt: 'msg', to: '42', tot: 'num' },
        { t: 'set', p: 'flag', pt: 'msg', to: 'TRUE', tot: 'bool' },
        { t: 'set', p: 'data.list', pt: 'msg', to: '{"a":[1,2]}', tot: 'json' },
      ],
      { payload: 'x' },
    );
    expect(out).toEqual({ payload: 'hello', count: 42, flag: true, data: { list: { a: [1, 2] } } });
  });

  it('copies another message property, sharing it unless deep copy is set', async () => {
    const shared = { a: 1 };
    const { out } = await change(
      [
        { t: 'set', p: 'copy', pt: 'msg', to: 'payload', tot: 'msg' },
        { t: 'set', p: 'deep', pt: 'msg', to: 'payload', tot: 'msg', dc: true },
      ],
      { payload: shared },
    );
    expect(out!.copy).toBe(shared);
    expect(out!.deep).toEqual(shared);
    expect(out!.deep).not.toBe(shared);
  });

  it('sets from a JSONata expression (msg-style and plain) with $flowContext', async () => {
    const node = await createTestNode(changeNode, {
      rules: [
        { t: 'set', p: 'payload', pt: 'msg', to: 'msg.payload * 2', tot: 'jsonata' },
        { t: 'set', p: 'total', pt: 'msg', to: 'payload + $flowContext("offset")', tot: 'jsonata' },
      ],
    });
    node.context.flow.set('offset', 100);
    const [sent] = await node.input({ payload: 21 });
    expect(sent!.msg).toEqual({ payload: 42, total: 142 });
  });

  it('sets, changes and deletes flow and global context, nested keys included', async () => {
    const node = await createTestNode(changeNode, {
      rules: [
        { t: 'set', p: 'user.name', pt: 'flow', to: 'payload', tot: 'msg' },
        { t: 'set', p: 'hits', pt: 'global', to: '1', tot: 'num' },
        { t: 'change', p: 'greeting', pt: 'flow', from: 'World', fromt: 'str', to: 'Flowcrew', tot: 'str' },
        { t: 'delete', p: 'old', pt: 'flow' },
        { t: 'set', p: 'payload', pt: 'msg', to: 'user.name', tot: 'flow' },
      ],
    });
    node.context.flow.set('greeting', 'Hello World');
    node.context.flow.set('old', 'gone');
    const [sent] = await node.input({ payload: 'Ada' });
    expect(node.context.flow.get('user')).toEqual({ name: 'Ada' });
    expect(node.context.global.get('hits')).toBe(1);
    expect(node.context.flow.get('greeting')).toBe('Hello Flowcrew');
    expect(node.context.flow.keys()).not.toContain('old');
    expect(sent!.msg.payload).toBe('Ada');
  });

  it('change: replaces every occurrence of a string, with special characters taken literally', async () => {
    const { out } = await change([{ t: 'change', p: 'payload', pt: 'msg', from: 'a.b', fromt: 'str', to: 'X', tot: 'str' }], { payload: 'a.b aXb a.b' });
    expect(out!.payload).toBe('X aXb X');
  });

  it('change: regular expression with capture groups', async () => {
    const { out } = await change([{ t: 'change', p: 'payload', pt: 'msg', from: '(\\d+)-(\\d+)', fromt: 're', to: '$2/$1', tot: 'str' }], { payload: 'on 12-34 and 5-6' });
    expect(out!.payload).toBe('on 34/12 and 6/5');
  });

  it('change: an exact match is replaced by the value itself, keeping its type', async () => {
    const { out } = await change([{ t: 'change', p: 'payload', pt: 'msg', from: 'on', fromt: 'str', to: 'true', tot: 'bool' }], { payload: 'on' });
    expect(out!.payload).toBe(true);
  });

  it('change: numbers and booleans are replaced only on an exact match', async () => {
    const rules: ChangeRule[] = [
      { t: 'change', p: 'payload', pt: 'msg', from: '5', fromt: 'num', to: 'five', tot: 'str' },
      { t: 'change', p: 'other', pt: 'msg', from: '5', fromt: 'num', to: 'five', tot: 'str' },
      { t: 'change', p: 'flag', pt: 'msg', from: 'true', fromt: 'bool', to: 'yes', tot: 'str' },
      { t: 'change', p: 'text', pt: 'msg', from: '5', fromt: 'num', to: 'V', tot: 'str' },
    ];
    const { out } = await change(rules, { payload: 5, other: 15, flag: true, text: '150' });
    expect(out).toEqual({ payload: 'five', other: 15, flag: 'yes', text: '1V0' });
  });

  it('change: search value read from the message', async () => {
    const { out } = await change([{ t: 'change', p: 'payload', pt: 'msg', from: 'topic', fromt: 'msg', to: '***', tot: 'str' }], { payload: 'my secret is secret', topic: 'secret' });
    expect(out!.payload).toBe('my *** is ***');
  });

  it('change: an object search value fails the message', async () => {
    const node = await createTestNode(changeNode, { rules: [{ t: 'change', p: 'payload', pt: 'msg', from: 'search', fromt: 'msg', to: 'x', tot: 'str' }] });
    await expect(node.input({ payload: 'a', search: { no: 1 } })).rejects.toThrow("Invalid 'from' property: unsupported type: object");
  });

  it('deletes properties, including array elements', async () => {
    const { out } = await change(
      [
        { t: 'delete', p: 'secret', pt: 'msg' },
        { t: 'delete', p: 'payload.list[1]', pt: 'msg' },
      ],
      { secret: 'x', payload: { list: ['a', 'b', 'c'] } },
    );
    expect(out).toEqual({ payload: { list: ['a', 'c'] } });
  });

  it('moves properties, including into a child of itself and out of a child', async () => {
    const first = await change([{ t: 'move', p: 'payload', pt: 'msg', to: 'data', tot: 'msg' }], { payload: 7 });
    expect(first.out).toEqual({ data: 7 });
    const into = await change([{ t: 'move', p: 'payload', pt: 'msg', to: 'payload.inner', tot: 'msg' }], { payload: 'v' });
    expect(into.out).toEqual({ payload: { inner: 'v' } });
    const outOf = await change([{ t: 'move', p: 'payload.inner', pt: 'msg', to: 'payload', tot: 'msg' }], { payload: { inner: 'v' } });
    expect(outOf.out).toEqual({ payload: 'v' });
  });

  it('moves a message property into flow context', async () => {
    const { node, out } = await change([{ t: 'move', p: 'payload', pt: 'msg', to: 'saved', tot: 'flow' }], { payload: [1, 2], topic: 't' });
    expect(out).toEqual({ topic: 't' });
    expect(node.context.flow.get('saved')).toEqual([1, 2]);
  });

  it('resolves [msg.x] references in property paths', async () => {
    const { out } = await change([{ t: 'set', p: 'payload[msg.topic]', pt: 'msg', to: 'on', tot: 'str' }], { topic: 'lamp', payload: {} });
    expect(out!.payload).toEqual({ lamp: 'on' });
  });

  it('skips a rule whose msg source cannot be read, as Node-RED does', async () => {
    const { out } = await change(
      [
        { t: 'set', p: 'payload', pt: 'msg', to: 'missing.deep.value', tot: 'msg' },
        { t: 'set', p: 'topic', pt: 'msg', to: 'done', tot: 'str' },
      ],
      { payload: 1 },
    );
    expect(out).toEqual({ payload: 1, topic: 'done' });
  });

  it('warns when setting below a non-object', async () => {
    const { node, out } = await change([{ t: 'set', p: 'payload.x', pt: 'msg', to: '1', tot: 'str' }], { payload: 'text' });
    expect(out!.payload).toBe('text');
    expect(node.logs.some((l) => l.level === 'warn' && l.message.includes('payload.x'))).toBe(true);
  });

  it('env values are empty strings (no host environment)', async () => {
    const { out } = await change([{ t: 'set', p: 'payload', pt: 'msg', to: 'HOME', tot: 'env' }], {});
    expect(out!.payload).toBe('');
  });

  it('date values are timestamps', async () => {
    const before = Date.now();
    const { out } = await change([{ t: 'set', p: 'payload', pt: 'msg', to: '', tot: 'date' }], {});
    expect(typeof out!.payload).toBe('number');
    expect(out!.payload as number).toBeGreaterThanOrEqual(before);
  });

  it('accepts the legacy single-rule config of old Node-RED flows', async () => {
    const node = await createTestNode(changeNode, { action: 'replace', property: 'payload', to: 'new' } as never);
    const [sent] = await node.input({ payload: 'old' });
    expect(sent!.msg.payload).toBe('new');
  });

  it('rejects invalid JSON, regular expressions and JSONata at deploy', async () => {
    await expect(createTestNode(changeNode, { rules: [{ t: 'set', p: 'payload', to: '{bad', tot: 'json' }] })).rejects.toThrow(/Invalid JSON/);
    await expect(createTestNode(changeNode, { rules: [{ t: 'change', p: 'payload', from: '([a-', fromt: 're', to: '', tot: 'str' }] })).rejects.toThrow(/Invalid 'from' property/);
    await expect(createTestNode(changeNode, { rules: [{ t: 'set', p: 'payload', to: 'payload +', tot: 'jsonata' }] })).rejects.toThrow(/Invalid JSONata expression/);
  });

  it('fails the message when a JSONata expression fails at run time', async () => {
    const node = await createTestNode(changeNode, { rules: [{ t: 'set', p: 'payload', to: '$nosuchfunction(1)', tot: 'jsonata' }] });
    await expect(node.input({ payload: 1 })).rejects.toThrow(/Invalid JSONata expression/);
  });
});

describe('change node under host limits (issue 7)', () => {
  it('a catastrophic-backtracking "from" regex replaces at once (linear-time engine)', async () => {
    const payload = 'a'.repeat(30) + '!';
    const started = performance.now();
    const { out } = await change([{ t: 'change', p: 'payload', pt: 'msg', from: '(a+)+$', fromt: 're', to: 'x', tot: 'str' }], { payload });
    expect(out!.payload).toBe(payload);
    const hit = await change([{ t: 'change', p: 'payload', pt: 'msg', from: '(a+)+$', fromt: 're', to: '<$1>', tot: 'str' }], { payload: 'baaa' });
    expect(hit.out!.payload).toBe('b<aaa>');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('an endless JSONata value fails the message with the time limit', async () => {
    await expect(change([{ t: 'set', p: 'payload', pt: 'msg', to: '($f := function($x){ $f($x) }; $f(1))', tot: 'jsonata' }], { payload: 1 })).rejects.toThrow(
      'JSONata expression exceeded its time limit of 1000 ms (FLOWCREW_EXPRESSION_TIMEOUT_MS)',
    );
  });

  it('a backreference keeps working on JavaScript\'s engine, with a warning at deploy', async () => {
    const node = await createTestNode(changeNode, { rules: [{ t: 'change', p: 'payload', pt: 'msg', from: '(\\w)\\1', fromt: 're', to: '[$1$1]', tot: 'str' }] });
    expect(node.logs[0]?.message).toMatch(/^rule 1: \/\(\\w\)\\1\/ runs on JavaScript's backtracking engine \(it uses a backreference\)/);
    const [sent] = await node.input({ payload: 'bookkeeper' });
    expect(sent!.msg.payload).toBe('b[oo][kk][ee]per');
  });
});
