import { describe, expect, it } from 'vitest';
import { cloneMessage, ensureString, generateId, hasOwn } from './message.ts';

describe('message helpers', () => {
  it('cloneMessage copies deeply, Buffers, Dates and RegExps included', () => {
    const original = { a: [{ b: 1 }], buf: Buffer.from('hi'), when: new Date(0), re: /x/gi };
    const copy = cloneMessage(original);
    expect(copy).toEqual(original);
    expect(copy.a[0]).not.toBe(original.a[0]);
    expect(Buffer.isBuffer(copy.buf) && copy.buf !== original.buf).toBe(true);
    expect(copy.when).not.toBe(original.when);
    expect(copy.re.flags).toBe('gi');
  });

  it('ensureString turns Buffers, objects and primitives into text', () => {
    expect(ensureString(Buffer.from('hi'))).toBe('hi');
    expect(ensureString({ a: 1 })).toBe('{"a":1}');
    expect(ensureString(12)).toBe('12');
    expect(ensureString('s')).toBe('s');
  });

  it('generateId gives 16 hex digits; hasOwn ignores inherited keys and non-objects', () => {
    expect(generateId()).toMatch(/^[0-9a-f]{16}$/);
    expect(hasOwn({ a: undefined }, 'a')).toBe(true);
    expect(hasOwn({}, 'toString')).toBe(false);
    expect(hasOwn('text', 'length')).toBe(false);
    expect(hasOwn(null, 'a')).toBe(false);
  });
});
