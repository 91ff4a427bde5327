import { describe, expect, it } from 'vitest';
import { codeLanguage, fieldKind, initialValue, matchVariant } from './schema';

describe('schema → widget', () => {
  it.each([
    [{ type: 'string' }, 'name', 'string'],
    [{ type: 'string', format: 'javascript' }, 'body', 'code'],
    [{ type: 'string', format: 'jsonata' }, 'x', 'code'],
    [{ type: 'string', 'x-editor': 'code' }, 'x', 'code'],
    [{ type: 'string' }, 'func', 'code'],
    [{ type: 'string' }, 'expression', 'code'],
    [{ type: 'string' }, 'template', 'code'],
    [{ type: 'string', enum: ['a'] }, 'template', 'enum'],
    [{ type: 'string', format: 'password' }, 'x', 'password'],
    [{ type: 'string', maxLength: 10_000 }, 'x', 'text'],
    [{ type: 'integer' }, 'x', 'integer'],
    [{ type: 'boolean' }, 'x', 'boolean'],
    [{ enum: [1, 2] }, 'x', 'enum'],
    [{ const: 'v1' }, 'x', 'const'],
    [{ type: ['string', 'number', 'null'] }, 'x', 'scalar-union'],
    [{ type: ['string', 'object'] }, 'x', 'json'],
    [{ type: 'object', properties: {} }, 'x', 'object'],
    [{ type: 'object', additionalProperties: { type: 'string' } }, 'x', 'map'],
    [{ type: 'array', items: { type: 'string' } }, 'x', 'array'],
    [{ anyOf: [{ type: 'null' }, { type: 'array' }] }, 'x', 'variants'],
    [{ description: 'anything' }, 'x', 'json'],
  ])('%j named %s is edited as %s', (schema, name, kind) => {
    expect(fieldKind(schema, name)).toBe(kind);
  });

  it('picks the code language from the format, else from well-known names', () => {
    expect(codeLanguage({ format: 'jsonata' }, 'func')).toBe('jsonata');
    expect(codeLanguage({}, 'func')).toBe('javascript');
    expect(codeLanguage({}, 'expression')).toBe('jsonata');
    expect(codeLanguage({}, 'template')).toBe('text');
  });

  it('starts new items from defaults, else from empty values of the type', () => {
    expect(initialValue({ type: 'object', required: ['t'], properties: { t: { type: 'string', enum: ['eq', 'neq'] }, v: { type: 'string' }, n: { type: 'integer', default: 2 } } })).toEqual({ t: 'eq', n: 2 });
    expect(initialValue({ type: 'integer', minimum: 5 })).toBe(5);
    expect(initialValue({ type: 'array' })).toEqual([]);
  });

  it('finds which variant a value is', () => {
    const schema = { anyOf: [{ type: 'null' }, { type: 'array', items: { type: 'string' } }, { type: 'object', properties: {} }] };
    expect([matchVariant(schema, null), matchVariant(schema, ['a']), matchVariant(schema, { a: 1 }), matchVariant(schema, 3)]).toEqual([0, 1, 2, -1]);
  });
});
