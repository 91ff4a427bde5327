import { describe, expect, it } from 'vitest';
import { findTooDeep, hasMoreContainersThan } from './json-depth.ts';

/** `{"a":{"a":...1}}` nested `depth` objects deep, built without recursion. */
function nestedObjects(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

function nestedArrays(depth: number): unknown {
  return JSON.parse('['.repeat(depth) + ']'.repeat(depth));
}

describe('findTooDeep', () => {
  it('accepts scalars and values within the limit', () => {
    expect(findTooDeep(null, 1)).toBeNull();
    expect(findTooDeep('text', 1)).toBeNull();
    expect(findTooDeep({}, 1)).toBeNull();
    expect(findTooDeep(nestedObjects(10), 10)).toBeNull();
    expect(findTooDeep({ wide: Array.from({ length: 10_000 }, (_, i) => ({ i })) }, 3)).toBeNull();
  });

  it('points at the first container past the limit, escaping ~ and / in keys', () => {
    expect(findTooDeep(nestedObjects(11), 10)).toEqual({ pointer: '/a/a/a/a/a/a/a/a/a/a', message: expect.stringMatching(/more than 10 levels/) });
    expect(findTooDeep({ ok: [1], 'x/y~z': [[[]]] }, 3)?.pointer).toBe('/x~1y~0z/0/0');
    expect(findTooDeep([[[]]], 2)?.pointer).toBe('/0/0');
  });

  it('measures 300,000 nested arrays without overflowing the stack', () => {
    const deep = nestedArrays(300_000);
    const found = findTooDeep(deep, 128);
    expect(found?.pointer).toBe(`/${Array.from({ length: 128 }, () => '0').join('/')}`);
  });

  it('reports a cycle as too deep instead of looping', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(findTooDeep(cyclic, 5)?.pointer).toBe('/self/self/self/self/self');
  });
});

describe('hasMoreContainersThan', () => {
  it('counts opening brackets, also inside strings (never fewer than the nesting depth)', () => {
    expect(hasMoreContainersThan(JSON.stringify(nestedObjects(5)), 5)).toBe(false);
    expect(hasMoreContainersThan(JSON.stringify(nestedObjects(6)), 5)).toBe(true);
    expect(hasMoreContainersThan(JSON.stringify([{}, [], {}]), 3)).toBe(true);
    expect(hasMoreContainersThan(JSON.stringify({ s: '[[[' }), 4)).toBe(false);
    expect(hasMoreContainersThan(JSON.stringify({ s: '[[[' }), 3)).toBe(true);
  });
});
