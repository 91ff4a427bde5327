import { describe, expect, it } from 'vitest';
import type { JsonSchema } from '../api/types';
import { codeLanguage, fieldKind, fieldLabel, humanise, initialValue, matchVariant, numberOrText, typedPairs, visibleProperties } from './schema';

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
    [{ type: ['number', 'string'] }, 'x', 'number-or-text'],
    [{ type: ['integer', 'string'] }, 'x', 'number-or-text'],
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

  it('tells discriminated object variants apart by their const property', () => {
    const schema = { oneOf: [{ properties: { provider: { const: 'a' }, x: { type: 'string' } } }, { properties: { provider: { const: 'b' } } }] };
    expect([matchVariant(schema, { provider: 'b' }), matchVariant(schema, { provider: 'a', x: '1' }), matchVariant(schema, {})]).toEqual([1, 0, -1]);
  });
});

describe('labels for people', () => {
  it.each([
    ['responseTimeoutMs', 'Response timeout (ms)'],
    ['nbRateUnits', 'Nb rate units'],
    ['allowDelegation', 'Allow delegation'],
    ['url', 'URL'],
    ['statusCode', 'Status code'],
    ['memory_limit', 'Memory limit'],
    ['rules[2]', 'rules[2]'],
  ])('%s reads "%s"', (key, label) => {
    expect(humanise(key)).toBe(label);
  });

  it('prefers the schema’s title', () => {
    expect(fieldLabel({ title: 'Action' }, 'pauseType')).toBe('Action');
    expect(fieldLabel({}, 'pauseType')).toBe('Pause type');
  });
});

describe('conditional fields (if/then, dependentSchemas)', () => {
  const delay = {
    type: 'object',
    properties: {
      pauseType: { enum: ['delay', 'random', 'rate'], default: 'delay' },
      timeout: { type: 'number' },
      randomFirst: { type: 'number' },
      rate: { type: 'number' },
      drop: { type: 'boolean' },
      outputs: { type: 'integer' },
    },
    allOf: [
      { if: { properties: { pauseType: { const: 'delay' } } }, then: { properties: { timeout: {} } } },
      { if: { properties: { pauseType: { const: 'random' } }, required: ['pauseType'] }, then: { properties: { randomFirst: {} } } },
      { if: { properties: { pauseType: { const: 'rate' } }, required: ['pauseType'] }, then: { properties: { rate: {} } }, else: {} },
    ],
    dependentSchemas: { rate: { properties: { drop: { description: 'only with a rate' } } } },
  };
  it('shows only what the chosen mode uses (a missing mode is its default)', () => {
    expect(Object.keys(visibleProperties(delay, {}))).toEqual(['pauseType', 'timeout', 'outputs']);
    expect(Object.keys(visibleProperties(delay, { pauseType: 'random' }))).toEqual(['pauseType', 'randomFirst', 'outputs']);
    expect(Object.keys(visibleProperties(delay, { pauseType: 'rate' }))).toEqual(['pauseType', 'rate', 'outputs']);
  });
  it("shows the real delay node's fields per action: nothing of the other actions", async () => {
    const { delayNode } = await import('../../../nodes/core/src/io/delay.ts');
    const shown = (pauseType?: string) => Object.keys(visibleProperties(delayNode.props, pauseType ? { pauseType } : {}));
    expect(shown()).toEqual(['pauseType', 'timeout', 'timeoutUnits']);
    expect(shown('random')).toEqual(['pauseType', 'randomFirst', 'randomLast', 'randomUnits']);
    expect(shown('rate')).toEqual(['pauseType', 'rate', 'nbRateUnits', 'rateUnits', 'drop', 'allowrate', 'outputs']);
    expect(shown('burst')).toEqual(['pauseType', 'rate', 'nbRateUnits', 'rateUnits', 'outputs']);
  });
  it("shows the real debug node's status fields per status mode", async () => {
    const { debugNode } = await import('../../../nodes/core/src/io/debug.ts');
    const shown = (value: Record<string, unknown>) => Object.keys(visibleProperties(debugNode.props as JsonSchema, value)).filter((k) => k.startsWith('status'));
    expect(shown({})).toEqual([]);
    expect(shown({ tostatus: true })).toEqual(['statusType']); // auto: the shown value, nothing to type
    expect(shown({ tostatus: true, statusType: 'counter' })).toEqual(['statusType']);
    expect(shown({ tostatus: true, statusType: 'msg' })).toEqual(['statusType', 'statusVal']);
    expect(shown({ tostatus: true, statusType: 'jsonata' })).toEqual(['statusType', 'statusVal']);
    expect(shown({ tostatus: false, statusType: 'msg' })).toEqual([]);
  });
  it("shows a change rule only its action's fields, titled for that action", async () => {
    const { changeNode } = await import('../../../nodes/core/src/transform/change.ts');
    const rule = ((changeNode.props as JsonSchema).properties as Record<string, JsonSchema>).rules!.items as JsonSchema;
    const shown = (t: string) => visibleProperties(rule, { t, p: 'payload' });
    expect(Object.keys(shown('set'))).toEqual(['t', 'p', 'pt', 'to', 'tot', 'dc']);
    expect(Object.keys(shown('change'))).toEqual(['t', 'p', 'pt', 'to', 'tot', 'from', 'fromt']);
    expect(Object.keys(shown('delete'))).toEqual(['t', 'p', 'pt']);
    expect(Object.keys(shown('move'))).toEqual(['t', 'p', 'pt', 'to', 'tot']);
    expect([shown('set').to!.title, shown('change').to!.title, shown('move').to!.title]).toEqual(['Value', 'Replace with', 'Move to']);
    // One control per value: each value has its type beside it.
    expect([...typedPairs(shown('change')).entries()]).toEqual([['p', 'pt'], ['to', 'tot'], ['from', 'fromt']]);
  });
  it('adds dependent fields once their trigger has a value, merged with their declaration', () => {
    const shown = visibleProperties(delay, { pauseType: 'rate', rate: 3 });
    expect(Object.keys(shown)).toEqual(['pauseType', 'rate', 'drop', 'outputs']);
    expect(shown.drop).toEqual({ type: 'boolean', description: 'only with a rate' });
  });
});

describe('number-or-text boxes', () => {
  it('hold a number when the text reads as one, else the text', () => {
    expect([numberOrText('5'), numberOrText(' 2.5 '), numberOrText('-1e3'), numberOrText('${DELAY}'), numberOrText('5s'), numberOrText('')]).toEqual([5, 2.5, -1000, '${DELAY}', '5s', undefined]);
  });
});
