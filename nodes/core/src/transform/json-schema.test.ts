import { describe, expect, it } from 'vitest';
import { SchemaCache } from './json-schema.ts';

describe('schema cache', () => {
  it('compiles a schema once per JSON text, whatever object carries it', () => {
    const cache = new SchemaCache();
    const first = cache.validator({ type: 'number' });
    expect(cache.validator({ type: 'number' })).toBe(first);
    expect(first(1)).toEqual({ valid: true });
    expect(first('x')).toMatchObject({ valid: false, text: 'data must be number', errors: [{ keyword: 'type' }] });
  });

  it('keeps its own copy of the schema: changing the message afterwards changes nothing', () => {
    const cache = new SchemaCache();
    const schema = { type: 'object', required: ['a'] };
    const validate = cache.validator(schema);
    schema.required.push('b');
    expect(validate({ a: 1 })).toEqual({ valid: true });
  });

  it('stays within its bound, failed compiles counted, and old validators keep working', () => {
    const cache = new SchemaCache(3);
    const kept = cache.validator({ minimum: 0 });
    for (let i = 1; i <= 10; i++) cache.validator({ minimum: i });
    expect(() => cache.validator({ type: 'nope' })).toThrow();
    expect(cache.size).toBeLessThanOrEqual(3);
    expect(kept(-1)).toMatchObject({ valid: false });
    expect(kept(1)).toEqual({ valid: true });
  });

  it('refuses what it cannot check synchronously or at all', () => {
    const cache = new SchemaCache();
    expect(() => cache.validator({ $async: true, type: 'object' })).toThrow(/\$async/);
    expect(() => cache.validator(undefined)).toThrow(/not JSON/);
    expect(() => cache.validator('just text')).toThrow();
  });
});
