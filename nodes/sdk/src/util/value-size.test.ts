import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from './limits.ts';
import { checkDepth, jsonTextTooDeep, SizeMeter } from './value-size.ts';

const meter = (limits = DEFAULT_LIMITS) => new SizeMeter(limits, 'The value');

describe('SizeMeter', () => {
  it('counts values, characters (strings and keys) and depth of a tree', () => {
    expect(meter().measure({ ab: 'xyz', list: [1, true, null], empty: {} })).toEqual({ values: 7, chars: 3 + 2 + 4 + 5, depth: 2 });
    expect(meter().measure('text')).toEqual({ values: 1, chars: 4, depth: 0 });
    expect(meter().measure(Buffer.from('abc'))).toEqual({ values: 1, chars: 3, depth: 0 });
  });

  it('counts a shared value once per place it appears, without walking it again (billion laughs)', () => {
    let value: unknown = 'lol';
    for (let level = 0; level < 9; level++) value = Array.from({ length: 10 }, () => value);
    const started = performance.now();
    expect(() => meter().measure(value)).toThrow('The value holds more than 1000000 values once written out (FLOWCREW_MAX_ITEMS)');
    expect(performance.now() - started).toBeLessThan(100);
    let small: unknown = 'lol';
    for (let level = 0; level < 3; level++) small = [small, small];
    expect(meter().measure(small)).toEqual({ values: 15, chars: 24, depth: 3 });
  });

  it('refuses too many characters, a too long array before looking into it, and a value that contains itself', () => {
    expect(() => meter({ ...DEFAULT_LIMITS, maxStringLength: 5 }).measure(['abc', 'def'])).toThrow(/holds more than 5 characters once written out \(FLOWCREW_MAX_MESSAGE_BYTES\)$/);
    expect(() => meter({ ...DEFAULT_LIMITS, maxItems: 3 }).measure(new Array(10).fill(0))).toThrow(/more than 3 values/);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    expect(() => meter().measure(cyclic)).toThrow('The value contains itself (FLOWCREW_MAX_ITEMS)');
  });

  it('measures values nested far deeper than the stack allows, and checkDepth refuses them', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const size = meter().measure(deep);
    expect(size.depth).toBe(100_000);
    expect(() => checkDepth(size, 'The JSON', DEFAULT_LIMITS)).toThrow('The JSON is nested more than 128 levels deep (FLOWCREW_MAX_DEPTH)');
  });
});

describe('jsonTextTooDeep', () => {
  it('finds nesting deeper than the limit, ignoring brackets in strings', () => {
    expect(jsonTextTooDeep('['.repeat(129) + ']'.repeat(129), 128)).toBe(true);
    expect(jsonTextTooDeep('['.repeat(128) + ']'.repeat(128), 128)).toBe(false);
    expect(jsonTextTooDeep(JSON.stringify({ s: '['.repeat(500), e: '\\"[[[' }), 128)).toBe(false);
  });
});
