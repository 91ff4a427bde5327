import { describe, expect, it } from 'vitest';
import { MemoryContext } from '@flowcrew/sdk/testing';
import {
  assertPropertyExpression,
  canonicalPropertyExpression,
  contextKey,
  getContextValue,
  getMessageProperty,
  getMessagePropertyOrUndefined,
  normalisePropertyExpression,
  parseContextKey,
  setContextValue,
  setMessageProperty,
} from './property.ts';

describe('property expressions', () => {
  it('parse dots, indexes and quoted keys as Node-RED does', () => {
    expect(normalisePropertyExpression('a.b[0]["c d"].e')).toEqual(['a', 'b', 0, 'c d', 'e']);
    expect(normalisePropertyExpression("a['x.y']")).toEqual(['a', 'x.y']);
    expect(normalisePropertyExpression('a.0.b')).toEqual(['a', 0, 'b']);
  });

  it('reject malformed and prototype-reaching expressions', () => {
    for (const bad of ['', 'a b', '.a', 'a.', 'a[', 'a[b]', 'a]', '__proto__.x', 'a.constructor']) {
      expect(() => normalisePropertyExpression(bad), bad).toThrow(/Invalid property expression/);
    }
    expect(() => assertPropertyExpression('msg.a b', 'property "a b"')).toThrow(/^property "a b": Invalid property expression/);
    expect(() => assertPropertyExpression('msg.payload.items[0]', 'property')).not.toThrow();
  });

  it('resolve [msg.x] references against the message', () => {
    const msg = { topic: 'b', idx: 1, a: { b: ['x', 'y'] } };
    expect(getMessageProperty(msg, 'a[msg.topic][msg.idx]')).toBe('y');
    expect(canonicalPropertyExpression('a[msg.topic]', msg)).toBe('a["b"]');
    expect(() => getMessageProperty(msg, 'a[msg.missing]')).toThrow(/undefined reference/);
    // Without a message the reference stays a nested path: enough to validate at deploy.
    expect(normalisePropertyExpression('a[msg.topic]')).toEqual(['a', ['msg', 'topic']]);
  });
});

describe('message properties', () => {
  it('read with or without the msg. prefix; below a missing parent reading throws, as in Node-RED', () => {
    const msg = { payload: { items: [1, 2] } };
    expect(getMessageProperty(msg, 'payload.items[1]')).toBe(2);
    expect(getMessageProperty(msg, 'msg.payload.items[1]')).toBe(2);
    expect(getMessageProperty(msg, 'payload.none')).toBeUndefined();
    expect(() => getMessageProperty(msg, 'payload.none.deeper')).toThrow(TypeError);
    expect(getMessagePropertyOrUndefined(msg, 'payload.none.deeper')).toBeUndefined();
    expect(getMessagePropertyOrUndefined(msg, 'a b')).toBeUndefined();
  });

  it('create missing parents on set: objects for names, arrays for indexes', () => {
    const msg: Record<string, unknown> = {};
    expect(setMessageProperty(msg, 'msg.a.b', 1)).toBe(true);
    expect(setMessageProperty(msg, 'list[1].name', 'x')).toBe(true);
    expect(msg).toEqual({ a: { b: 1 }, list: [undefined, { name: 'x' }] });
    expect(Array.isArray(msg.list)).toBe(true);
  });

  it('delete on undefined, splicing arrays, without creating parents', () => {
    const msg: Record<string, unknown> = { a: { b: 1, c: 2 }, list: ['x', 'y', 'z'] };
    setMessageProperty(msg, 'a.b', undefined);
    setMessageProperty(msg, 'list[1]', undefined);
    expect(setMessageProperty(msg, 'none.deeper', undefined)).toBe(false);
    expect(msg).toEqual({ a: { c: 2 }, list: ['x', 'z'] });
  });

  it('the same expression on many messages (its parse is kept): each message read and written on its own; [msg.x] resolved per message', () => {
    const one: Record<string, unknown> = { payload: { n: 1 }, k: 'a' };
    const two: Record<string, unknown> = { payload: 'text', k: 'b' };
    for (let round = 0; round < 2; round++) {
      expect(getMessageProperty(one, 'payload.n')).toBe(1);
      expect(setMessageProperty(one, 'payload.m', round)).toBe(true);
      expect(setMessageProperty(two, 'payload.m', round)).toBe(false);
      expect(setMessageProperty(one, 'out[msg.k]', round)).toBe(true);
      expect(setMessageProperty(two, 'out[msg.k]', round)).toBe(true);
      expect(() => getMessageProperty(one, 'a b')).toThrow(/Invalid property expression/);
    }
    expect(one).toEqual({ payload: { n: 1, m: 1 }, k: 'a', out: { a: 1 } });
    expect(two).toEqual({ payload: 'text', k: 'b', out: { b: 1 } });
  });

  it('refuse to set below a parent that is not an object', () => {
    const msg = { payload: 'text' };
    expect(setMessageProperty(msg, 'payload.x', 1)).toBe(false);
    expect(msg).toEqual({ payload: 'text' });
  });
});

describe('context properties', () => {
  it('drop the store prefix the TypedInput writes', () => {
    expect(parseContextKey('#:(memory)::count')).toBe('count');
    expect(parseContextKey('user.name')).toBe('user.name');
    expect(contextKey('#:(memory)::users[msg.id]', { id: 'ada' })).toBe('users["ada"]');
  });

  it('read nested keys; a missing parent reads as undefined', () => {
    const store = new MemoryContext();
    store.set('user', { name: 'ada', tags: ['a', 'b'] });
    expect(getContextValue(store, 'user')).toEqual({ name: 'ada', tags: ['a', 'b'] });
    expect(getContextValue(store, 'user.tags[1]')).toBe('b');
    expect(getContextValue(store, 'nobody.name')).toBeUndefined();
  });

  it('write nested keys through set(), creating parents; undefined deletes', () => {
    const store = new MemoryContext();
    setContextValue(store, 'user.name', 'ada');
    setContextValue(store, 'user.langs[0]', 'en');
    expect(store.get('user')).toEqual({ name: 'ada', langs: ['en'] });
    setContextValue(store, 'user.name', undefined);
    expect(store.get('user')).toEqual({ langs: ['en'] });
    setContextValue(store, 'user', undefined);
    expect(store.keys()).toEqual([]);
    setContextValue(store, 'none.deeper', undefined);
    expect(store.keys()).toEqual([]);
  });

  it('reject malformed keys, as Node-RED context does', () => {
    expect(() => getContextValue(new MemoryContext(), 'a b')).toThrow(/Invalid property expression/);
    expect(() => setContextValue(new MemoryContext(), 'a..b', 1)).toThrow(/Invalid property expression/);
  });
});
